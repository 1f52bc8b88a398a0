"""
=================================================
Denoising image patches with DenoisingAutoencoder
=================================================

A :class:`~skautoencoder.DenoisingAutoencoder` is trained to reconstruct
clean rows from corrupted copies of them. Here the rows are 8x8 patches of a
grey-scale photograph: the network learns on clean patches of the left half
of the image (corrupting them with fresh Gaussian noise at every batch), then
denoises noisy crops of the right half, which it never saw, patch by patch;
the overlapping denoised patches are averaged back into an image (as in
scikit-learn's dictionary-learning denoising example).
"""

# %%
import matplotlib.pyplot as plt
import numpy as np
from sklearn.datasets import load_sample_image
from sklearn.feature_extraction.image import extract_patches_2d, reconstruct_from_patches_2d

from skautoencoder import Autoencoder, DenoisingAutoencoder
from skautoencoder.plotting import LossCurveDisplay

image = load_sample_image("china.jpg").mean(axis=2) / 255.0  # grey, values in [0, 1]
height, width = image.shape
patch_size = (8, 8)
print(f"image {height}x{width}")

# %%
# Training patches from the left half; two test crops from the right half,
# one smooth (sky and water) and one textured (trees). The noise is Gaussian
# with standard deviation 0.1 (pixel values are in [0, 1]).
train_patches = extract_patches_2d(image[:, : width // 2], patch_size, max_patches=20000, random_state=0)
X_train = train_patches.reshape(len(train_patches), -1)

rng = np.random.RandomState(0)
noise_level = 0.1
crops = {"sky and water": image[150:270, 400:560], "trees": image[270:390, 460:620]}
noisy_crops = {name: crop + noise_level * rng.randn(*crop.shape) for name, crop in crops.items()}
print(f"{len(X_train)} training patches")

# %%
# The denoising autoencoder corrupts each training batch with the kind and
# level of noise of the test crops. For comparison, a plain
# :class:`~skautoencoder.Autoencoder` of the same size is trained on the
# clean patches only: its bottleneck, 32 codes for 64 pixels, removes some
# noise too.
models = {
    "plain autoencoder": Autoencoder(32, hidden_layer_sizes=(128,), max_iter=25, random_state=0),
    "denoising autoencoder": DenoisingAutoencoder(32, hidden_layer_sizes=(128,), noise="gaussian",
                                                  noise_level=noise_level, max_iter=25, random_state=0),
}
for model in models.values():
    model.fit(X_train)


def denoise(model, noisy):
    """Pass the noisy patches through the model and average the overlaps back into an image."""
    patches = extract_patches_2d(noisy, patch_size).reshape(-1, 64)
    patches = model.inverse_transform(model.transform(patches)).reshape(-1, *patch_size)
    return np.clip(reconstruct_from_patches_2d(patches, noisy.shape), 0, 1)


results = {}
for crop_name, clean in crops.items():
    results[crop_name] = {"noisy": noisy_crops[crop_name]}
    for model_name, model in models.items():
        results[crop_name][model_name] = denoise(model, noisy_crops[crop_name])
    results[crop_name]["clean"] = clean

# %%
# The error of each result against the clean crop (lower is better), and its
# peak signal-to-noise ratio (higher is better):
for crop_name, row in results.items():
    errors = {name: np.mean((result - row["clean"]) ** 2) for name, result in row.items() if name != "clean"}
    print(crop_name)
    for name, mse in errors.items():
        print(f"  {name:>21}: mean squared error {mse:.5f}, PSNR {10 * np.log10(1 / mse):.1f} dB")
    print(f"  closest to the clean crop: {min(errors, key=errors.get)}")

# %%
# The denoising autoencoder was trained for exactly this noise, and learned
# to smooth it away. On a smooth crop that is all it has to do. On fine
# texture, noise and detail look alike at the scale of an 8x8 patch, so
# smoothing removes detail too, while the plain autoencoder keeps whatever its
# 32 codes can hold, noise included. Which one ends closer to the clean crop
# depends on the content, the network's size and how long it trained: the
# numbers above are those of this run, and worth measuring on your images.
fig, axes = plt.subplots(2, 4, figsize=(12, 4.6), layout="constrained")
for ax_row, (crop_name, row) in zip(axes, results.items()):
    for ax, (name, result) in zip(ax_row, row.items()):
        ax.imshow(result, cmap="gray", vmin=0, vmax=1, interpolation="nearest")
        ax.set_title(f"{crop_name}: {name}", fontsize="small")
        ax.set_axis_off()
plt.show()

# %%
# The training history of the denoising autoencoder: its validation loss is
# measured on clean inputs and its training loss on corrupted ones, so the
# first can be the lower of the two.
LossCurveDisplay.from_estimator(models["denoising autoencoder"])
plt.show()
