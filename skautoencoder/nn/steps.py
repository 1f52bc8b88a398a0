"""Training steps: one batch in, one optimiser update, the batch's loss out.

:class:`~skautoencoder.nn.Trainer` loops over ``step(batch)``; this module
holds the two implementations of a step, chosen in one place,
:func:`make_step`, from what the loss declares:

- :class:`AutogradStep`: ``loss_fn(module, batch, generator)``, ``backward()``,
  ``optimizer.step()``. Any loss, any module, any optimiser.
- :class:`PlainMSEStep`: when the loss *is* :func:`plain_mse_loss` and the module
  a chain of ``Linear`` layers with ReLU, tanh, sigmoid or identity activations
  (the default :class:`~skautoencoder.Autoencoder`), the forward and backward
  passes are written out as the aten operations autograd runs, without
  building a graph, and the update is one call of the fused Adam kernel
  (:class:`FusedAdam`). Bitwise the same weights as the autograd step.
- :class:`AnchoredMSEStep`: the same for an
  :class:`~skautoencoder.nn.AnchoredAutoencoderModule` (``init='pca'``) whose
  nonlinear paths are such chains (the same gradients, summed in another order).

:class:`FusedAdam` is also the package's Adam: it calls the kernel that
``torch.optim.Adam(fused=True).step()`` calls, keeps its state in the same
layout (``state_dict`` loads into ``torch.optim.Adam`` and back), and is not a
``torch.optim.Optimizer``, whose first construction in a process imports
``torch._dynamo`` (about 2 s). Where the private kernel is missing or its
signature differs, it falls back to ``torch.optim.Adam`` with the same state.
"""

import torch
from torch.nn import functional as F

from .modules import MLP, AnchoredAutoencoderModule, AutoencoderModule

__all__ = [
    "AnchoredMSEStep",
    "AutogradStep",
    "FusedAdam",
    "PlainMSEStep",
    "forward_stack",
    "linear_stack",
    "make_step",
    "plain_mse_loss",
]


def plain_mse_loss(module, batch, generator=None):
    """``mse_loss(module(batch), batch)``: the loss that :class:`PlainMSEStep` implements.

    A loss function that *is* this one declares that it draws nothing from
    ``generator`` and adds no term, so the trainer may run the hand-written step.

    Parameters
    ----------
    module : torch.nn.Module
        The autoencoder.
    batch : torch.Tensor
        Rows to reconstruct.
    generator : torch.Generator, optional
        Ignored (nothing is drawn); present for the loss signature.

    Returns
    -------
    loss : torch.Tensor
        The mean squared reconstruction error, a scalar.
    """
    return F.mse_loss(module(batch), batch)


class FusedAdam:
    """Adam or AdamW (decoupled weight decay) through torch's fused kernel.

    Same arguments, same kernel and same state as ``torch.optim.Adam(params,
    fused=True)`` (or ``AdamW``), so the weights are bitwise those of its
    ``step()``; without its per-call overhead (hooks, profiler records, state
    checks: about 100 us a step on CPU) and without constructing a
    ``torch.optim.Optimizer``. :meth:`state_dict` has ``torch.optim.Adam``'s
    layout.

    Parameters
    ----------
    params : iterable of torch.nn.Parameter
        Floating-point parameters, all on one device.
    lr : float, default=1e-3
        Learning rate.
    betas : tuple of float, default=(0.9, 0.999)
        Decay rates of the first and second moment estimates.
    eps : float, default=1e-8
        Added to the denominator for numerical stability.
    weight_decay : float, default=0.0
        L2 penalty (decoupled with ``decoupled=True``).
    decoupled : bool, default=False
        AdamW's decoupled weight decay instead of Adam's L2 term.
    """

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0, decoupled=False):
        self.params = list(params)
        self.lr, self.betas, self.eps = float(lr), tuple(betas), float(eps)
        self.weight_decay, self.decoupled = float(weight_decay), bool(decoupled)
        self.state = {}  # id(param) -> {"step", "exp_avg", "exp_avg_sq"}, created on first use
        self._fallback = None

    @staticmethod
    def available(params):
        """Whether torch has the fused kernels and ``params`` suit them (floating point)."""
        return (hasattr(torch, "_fused_adam_") and hasattr(torch, "_fused_adamw_")
                and all(p.dtype.is_floating_point for p in params))

    def _state(self, p):
        state = self.state.get(id(p))
        if state is None:  # as Adam._init_group creates it for a fused step
            state = self.state[id(p)] = {
                "step": torch.zeros((), dtype=torch.float32, device=p.device),
                "exp_avg": torch.zeros_like(p, memory_format=torch.preserve_format),
                "exp_avg_sq": torch.zeros_like(p, memory_format=torch.preserve_format),
            }
        return state

    def zero_grad(self):
        """Drop the parameters' gradients."""
        for p in self.params:
            p.grad = None

    @torch.no_grad()
    def step(self, params=None, grads=None):
        """One update with ``grads`` of ``params`` (default: the ``.grad`` of the
        parameters that have one)."""
        if params is None:
            params = [p for p in self.params if p.grad is not None]
            grads = [p.grad for p in params]
        if not params:
            return
        if self._fallback is not None:
            return self._torch_step(params, grads)
        states = [self._state(p) for p in params]
        steps = [s["step"] for s in states]
        beta1, beta2 = self.betas
        torch._foreach_add_(steps, 1)
        try:
            (torch._fused_adamw_ if self.decoupled else torch._fused_adam_)(
                params, grads, [s["exp_avg"] for s in states], [s["exp_avg_sq"] for s in states], [],
                steps, amsgrad=False, lr=self.lr, beta1=beta1, beta2=beta2,
                weight_decay=self.weight_decay, eps=self.eps, maximize=False,
            )
        except (TypeError, RuntimeError, AttributeError):
            # this torch's private kernel differs: undo the step count, use torch.optim
            torch._foreach_sub_(steps, 1)
            self._fallback = self._torch_optimizer()
            self._torch_step(params, grads)

    def _torch_optimizer(self):
        cls = torch.optim.AdamW if self.decoupled else torch.optim.Adam
        optimizer = cls(self.params, lr=self.lr, betas=self.betas, eps=self.eps,
                        weight_decay=self.weight_decay, foreach=False)
        state = self.state_dict()
        state["param_groups"] = optimizer.state_dict()["param_groups"]  # its own (not fused) settings
        optimizer.load_state_dict(state)
        return optimizer

    def _torch_step(self, params, grads):
        for p, g in zip(params, grads):
            p.grad = g
        self._fallback.step()
        for i, p in enumerate(self.params):  # keep one state: the fallback's, under our keys
            if p in self._fallback.state:
                self.state[id(p)] = self._fallback.state[p]

    def state_dict(self):
        """The state in ``torch.optim.Adam``'s layout (tensors shared, not copied)."""
        return {
            "state": {i: dict(self.state[id(p)]) for i, p in enumerate(self.params) if id(p) in self.state},
            "param_groups": [{
                "lr": self.lr, "betas": self.betas, "eps": self.eps, "weight_decay": self.weight_decay,
                "amsgrad": False, "maximize": False, "foreach": None, "capturable": False,
                "differentiable": False, "fused": True, "decoupled_weight_decay": self.decoupled,
                "params": list(range(len(self.params))),
            }],
        }

    def load_state_dict(self, state_dict):
        """Load a state of :meth:`state_dict`'s (or ``torch.optim.Adam``'s) layout."""
        self.state = {}
        for index, state in state_dict["state"].items():
            p = self.params[int(index)]
            self.state[id(p)] = {
                "step": torch.as_tensor(state["step"], dtype=torch.float32).to(p.device).reshape(()),
                "exp_avg": state["exp_avg"].to(device=p.device, dtype=p.dtype).clone(),
                "exp_avg_sq": state["exp_avg_sq"].to(device=p.device, dtype=p.dtype).clone(),
            }
        if self._fallback is not None:
            self._fallback = self._torch_optimizer()


class AutogradStep:
    """``loss_fn(module, batch, generator)``, backward, ``optimizer.step()``."""

    def __init__(self, module, loss_fn, optimizer, generator):
        self.module, self.loss_fn, self.optimizer, self.generator = module, loss_fn, optimizer, generator

    def __call__(self, batch):
        loss = self.loss_fn(self.module, batch, self.generator)
        self.optimizer.zero_grad()
        loss.backward()
        self.optimizer.step()
        return loss.detach()


#: Activations with a hand-written backward: the aten function autograd calls, of the output.
_BACKWARDS = {
    torch.nn.ReLU: lambda grad, out: torch.ops.aten.threshold_backward(grad, out, 0),
    torch.nn.Tanh: torch.ops.aten.tanh_backward,
    torch.nn.Sigmoid: torch.ops.aten.sigmoid_backward,
    torch.nn.Identity: None,
}

_IN_PLACE = {torch.nn.ReLU: torch.relu_, torch.nn.Tanh: torch.tanh_, torch.nn.Sigmoid: torch.sigmoid_}


def linear_stack(module):
    """``[(linear, activation type or None)]`` when ``module(x)`` is exactly a chain of
    ``Linear`` layers (with bias) and activations of :data:`_BACKWARDS`; else None."""
    from torch.nn.modules import module as base

    if type(module) is AutoencoderModule:  # forward = decoder(encoder(x)); not a subclass
        parts = [module.encoder, module.decoder]
    elif type(module) in (torch.nn.Sequential, MLP):
        parts = [module]
    else:
        return None
    if not all(type(part) in (torch.nn.Sequential, MLP) for part in parts):
        return None
    if (base._global_forward_hooks or base._global_forward_pre_hooks
            or any(m._forward_hooks or m._forward_pre_hooks for m in module.modules())):
        return None
    stack = []
    for layer in (layer for part in parts for layer in part):
        if type(layer) is torch.nn.Linear and layer.bias is not None:
            stack.append([layer, None])
        elif type(layer) in _BACKWARDS and stack and stack[-1][1] is None:
            stack[-1][1] = type(layer)
        else:
            return None
    return [tuple(item) for item in stack] or None


def forward_stack(stack, x):
    """``x`` through a :func:`linear_stack` with no autograd (inference): the same
    ``addmm`` as ``Linear``, activations in place on the intermediates."""
    for linear, act in stack:
        x = torch.addmm(linear.bias, x, linear.weight.t())
        if act in _IN_PLACE:
            x = _IN_PLACE[act](x)
    return x


def _forward(weights, biases, in_place, h):
    """``h`` through linear layers and in-place activations; also the input of each layer."""
    inputs = []
    for weight, bias, activate in zip(weights, biases, in_place):
        inputs.append(h)
        h = torch.addmm(bias, h, weight.t())
        if activate is not None:
            h = activate(h)
    return h, inputs


class _Stack:
    """Weights, biases, activations and gradient buffers of a :func:`linear_stack`, with
    its forward and hand-written backward."""

    def __init__(self, stack):
        self.weights = [linear.weight for linear, _ in stack]
        self.biases = [linear.bias for linear, _ in stack]
        self.backwards = [_BACKWARDS.get(act) for _, act in stack]
        self.in_place = [_IN_PLACE.get(act) for _, act in stack]
        self.params = [p for pair in zip(self.weights, self.biases) for p in pair]
        self.grads = [torch.empty_like(p) for p in self.params]

    def forward(self, x):
        return _forward(self.weights, self.biases, self.in_place, x)

    def backward(self, inputs, grad, input_grad=False):
        """Gradients of the layers into :attr:`grads` from the gradient ``grad`` of the
        output; returns the gradient of the input when asked."""
        for i in range(len(self.weights) - 1, -1, -1):
            torch.mm(grad.t(), inputs[i], out=self.grads[2 * i])
            torch.sum(grad, 0, out=self.grads[2 * i + 1])
            if i or input_grad:
                grad = torch.mm(grad, self.weights[i])
                backward = self.backwards[i - 1] if i else None
                if backward is not None:
                    grad = backward(grad, inputs[i])
        return grad


def _trainable_exactly(params, optimizer):
    """Whether ``params`` are distinct, all trained, and exactly the optimiser's."""
    return (len({id(p) for p in params}) == len(params) and all(p.requires_grad for p in params)
            and {id(p) for p in params} == {id(p) for p in optimizer.params})


class PlainMSEStep:
    """One step of :func:`plain_mse_loss` for a :func:`linear_stack` module: forward and
    backward written out (the aten operations that autograd runs, without the graph)
    and one :meth:`FusedAdam.step`. Bitwise the weights of :class:`AutogradStep`."""

    def __init__(self, stack, optimizer):
        self.layers = _Stack(stack)
        self.optimizer = optimizer

    @torch.no_grad()
    def __call__(self, x):
        h, inputs = self.layers.forward(x)
        loss = F.mse_loss(h, x)
        grad = torch.ops.aten.mse_loss_backward(torch.ones((), dtype=h.dtype, device=h.device), h, x, 1)
        self.layers.backward(inputs, grad)
        self.optimizer.step(self.layers.params, self.layers.grads)
        return loss


class AnchoredMSEStep:
    """:class:`PlainMSEStep` for an :class:`~skautoencoder.nn.AnchoredAutoencoderModule`
    whose nonlinear paths are :func:`linear_stack` chains: ``encode(x) = (x - center) @ W_e
    + g(x)`` and ``decode(z) = decoder_center + z @ W_d + h(z)`` written out. The same
    gradients as autograd, summed in another order (equal to float32 rounding)."""

    @classmethod
    def of(cls, module, optimizer):
        """The step, or None when the hand-written pass would not be autograd's."""
        from torch.nn.modules import module as base

        if type(module) is not AnchoredAutoencoderModule or module.output_activation != "identity":
            return None
        if any(m._forward_hooks or m._forward_pre_hooks for m in (module, module.affine)) \
                or base._global_forward_hooks or base._global_forward_pre_hooks:
            return None
        encoder, decoder = linear_stack(module.encoder), linear_stack(module.decoder)
        if encoder is None or decoder is None or encoder[-1][1] is not None or decoder[-1][1] is not None:
            return None
        step = cls(_Stack(encoder), _Stack(decoder), module.affine, optimizer)
        return step if _trainable_exactly(step.params, optimizer) else None

    def __init__(self, encoder, decoder, affine, optimizer):
        self.encoder, self.decoder, self.affine, self.optimizer = encoder, decoder, affine, optimizer
        self.params = [*encoder.params, *decoder.params, affine.encoder_weight, affine.decoder_weight]

    @torch.no_grad()
    def __call__(self, x):
        affine = self.affine
        centred = x - affine.center
        g, encoder_inputs = self.encoder.forward(x)
        z = torch.addmm(g, centred, affine.encoder_weight)
        h, decoder_inputs = self.decoder.forward(z)
        y = torch.addmm(affine.decoder_center, z, affine.decoder_weight).add_(h)
        loss = F.mse_loss(y, x)
        grad = torch.ops.aten.mse_loss_backward(torch.ones((), dtype=y.dtype, device=y.device), y, x, 1)
        grad_decoder_weight = torch.mm(z.t(), grad)
        grad_z = torch.addmm(self.decoder.backward(decoder_inputs, grad, input_grad=True),
                             grad, affine.decoder_weight.t())
        grad_encoder_weight = torch.mm(centred.t(), grad_z)
        self.encoder.backward(encoder_inputs, grad_z)
        self.optimizer.step(self.params, [*self.encoder.grads, *self.decoder.grads,
                                          grad_encoder_weight, grad_decoder_weight])
        return loss


def make_step(module, loss_fn, optimizer, generator=None):
    """The step for ``module``, ``loss_fn`` and ``optimizer``, chosen from what the loss declares.

    :class:`PlainMSEStep` when the loss is :func:`plain_mse_loss`, the optimiser a
    :class:`FusedAdam` holding exactly the module's parameters, and the module a
    :func:`linear_stack` that ends in a linear layer, uses no layer twice and
    freezes nothing; :class:`AnchoredMSEStep` for a PCA-anchored module under
    the same conditions; :class:`AutogradStep` otherwise.

    Parameters
    ----------
    module : torch.nn.Module
        The network.
    loss_fn : callable
        ``loss_fn(module, batch, generator) -> scalar tensor``.
    optimizer : FusedAdam or torch.optim.Optimizer
        Over ``module``'s parameters.
    generator : torch.Generator, optional
        What ``loss_fn`` draws from in training.

    Returns
    -------
    step : callable
        ``step(batch) -> loss``: one optimiser update on the batch.
    """
    if loss_fn is plain_mse_loss and isinstance(optimizer, FusedAdam):
        stack = linear_stack(module)
        if stack is not None and stack[-1][1] is None:
            params = [p for linear, _ in stack for p in (linear.weight, linear.bias)]
            if _trainable_exactly(params, optimizer):
                return PlainMSEStep(stack, optimizer)
        anchored = AnchoredMSEStep.of(module, optimizer)
        if anchored is not None:
            return anchored
    return AutogradStep(module, loss_fn, optimizer, generator)
