"""scikit-learn's own estimator checks, with nothing expected to fail.

``parametrize_with_checks`` runs the API checks; the checks it reserves for
scikit-learn's own estimators (column names, feature names out, parameter
validation, ``set_output``) are called explicitly below.
"""

import pytest
from sklearn.utils.estimator_checks import (
    check_dataframe_column_names_consistency,
    check_global_output_transform_pandas,
    check_global_set_output_transform_polars,
    check_param_validation,
    check_set_output_transform,
    check_set_output_transform_pandas,
    check_set_output_transform_polars,
    check_transformer_get_feature_names_out,
    check_transformer_get_feature_names_out_pandas,
    parametrize_with_checks,
)

from skautoencoder import (
    Autoencoder,
    AutoencoderImputer,
    ContractiveAutoencoder,
    ConvolutionalAutoencoder,
    DenoisingAutoencoder,
    SparseAutoencoder,
    VariationalAutoencoder,
)

SMALL = dict(n_components=2, hidden_layer_sizes=(8,), max_iter=10, random_state=0)
ESTIMATORS = [
    Autoencoder(**SMALL),
    DenoisingAutoencoder(**SMALL),
    SparseAutoencoder(**SMALL),
    SparseAutoencoder(**SMALL, sparsity="topk", sparsity_target=0.5),
    ContractiveAutoencoder(**SMALL),
    VariationalAutoencoder(**SMALL),
    ConvolutionalAutoencoder(**SMALL, channels=(4,)),
    Autoencoder(**SMALL, missing="mask"),
    Autoencoder(**SMALL, ordered=True),
    Autoencoder(**{**SMALL, "n_components": 0.9}),
    VariationalAutoencoder(**SMALL, missing="mask"),
    AutoencoderImputer(Autoencoder(**SMALL)),
    # the defaults above start at PCA (init='pca'; Sparse and Convolutional: 'random')
    Autoencoder(**SMALL, init="random"),
    VariationalAutoencoder(**SMALL, init="random"),
    ConvolutionalAutoencoder(**SMALL, channels=(4,), init="pca"),
    Autoencoder(**SMALL, ordered=True, init="random"),
]


@parametrize_with_checks(ESTIMATORS)
def test_sklearn_compatible_estimator(estimator, check):
    check(estimator)


EXTRA_CHECKS = [
    check_dataframe_column_names_consistency,
    check_transformer_get_feature_names_out,
    check_transformer_get_feature_names_out_pandas,
    check_param_validation,
    check_set_output_transform,
    check_set_output_transform_pandas,
    check_global_output_transform_pandas,
    check_set_output_transform_polars,
    check_global_set_output_transform_polars,
]


@pytest.mark.parametrize("estimator", ESTIMATORS, ids=str)
@pytest.mark.parametrize("check", EXTRA_CHECKS, ids=lambda check: check.__name__)
def test_checks_reserved_for_sklearn(estimator, check):
    pytest.importorskip("polars" if "polars" in check.__name__ else "pandas")
    check(type(estimator).__name__, estimator)
