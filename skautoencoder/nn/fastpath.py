"""A hand-written training step and inference pass for plain MLP autoencoders.

When the loss is exactly ``mse_loss(module(x), x)`` and the module a chain of
``Linear`` layers with ReLU, tanh, sigmoid or identity activations (the
default :class:`~skautoencoder.Autoencoder`), :class:`MSEStep` runs the
forward and backward passes as the same aten operations that autograd runs,
without building a graph, and :class:`DirectAdam` calls the fused Adam kernel
that ``optimizer.step()`` would call, without its per-call Python overhead.
The weights are bitwise those of the autograd loop (tested); at batch 32 a
step costs about 0.4x as much (``benchmarks/speed.py``). Anything else falls
back to autograd and ``optimizer.step()``.
"""

import torch

from .modules import MLP, AutoencoderModule

__all__ = ["DirectAdam", "MSEStep", "forward_stack", "linear_stack"]


class DirectAdam:
    """``optimizer.step()`` of a fused ``Adam`` or ``AdamW``, without its per-call Python
    overhead (hooks, profiler records, state checks: about 100 us a step on CPU).

    Calls the same fused kernel with the same arguments on the optimiser's own state
    (created as ``Adam`` would create it), so the weights are bitwise those of
    ``optimizer.step()`` and the optimiser can be saved, reused or stepped normally.
    ``None`` from :meth:`of` when the optimiser is anything else (then call ``step()``).
    """

    def __init__(self, optimizer):
        self.optimizer = optimizer
        self.group = optimizer.param_groups[0]
        self.params = list(self.group["params"])
        self.adamw = self.group.get("decoupled_weight_decay", isinstance(optimizer, torch.optim.AdamW))

    @classmethod
    def of(cls, optimizer):
        from torch.optim import optimizer as base

        groups = optimizer.param_groups
        if not (hasattr(torch, "_fused_adam_") and hasattr(torch, "_fused_adamw_")):
            return None  # a torch without these private kernels: optimizer.step()
        if (type(optimizer) not in (torch.optim.Adam, torch.optim.AdamW) or len(groups) != 1
                or not groups[0].get("fused") or groups[0]["amsgrad"] or groups[0]["maximize"]
                or groups[0]["capturable"] or groups[0]["differentiable"]
                or isinstance(groups[0]["lr"], torch.Tensor)
                or optimizer._optimizer_step_pre_hooks or optimizer._optimizer_step_post_hooks
                or base._global_optimizer_pre_hooks or base._global_optimizer_post_hooks
                or not all(p.dtype.is_floating_point for p in groups[0]["params"])):
            return None
        return cls(optimizer)

    def _state(self, p):
        state = self.optimizer.state[p]
        if not state:  # as Adam._init_group creates it for a fused step
            state["step"] = torch.zeros((), dtype=torch.float32, device=p.device)
            state["exp_avg"] = torch.zeros_like(p, memory_format=torch.preserve_format)
            state["exp_avg_sq"] = torch.zeros_like(p, memory_format=torch.preserve_format)
        return state

    def zero_grad(self):
        for p in self.params:
            p.grad = None

    @torch.no_grad()
    def step(self, params=None, grads=None):
        """One Adam step with ``grads`` (default: the ``.grad`` of the parameters that have one)."""
        if params is None:
            params = [p for p in self.params if p.grad is not None]
            grads = [p.grad for p in params]
        if not params:
            return
        states = [self._state(p) for p in params]
        steps = [s["step"] for s in states]
        group = self.group
        beta1, beta2 = group["betas"]
        torch._foreach_add_(steps, 1)
        (torch._fused_adamw_ if self.adamw else torch._fused_adam_)(
            params, grads, [s["exp_avg"] for s in states], [s["exp_avg_sq"] for s in states], [], steps,
            amsgrad=False, lr=group["lr"], beta1=beta1, beta2=beta2, weight_decay=group["weight_decay"],
            eps=group["eps"], maximize=False,
        )


#: Activations with a hand-written backward: the aten function autograd calls, of the output.
_BACKWARDS = {
    torch.nn.ReLU: lambda grad, out: torch.ops.aten.threshold_backward(grad, out, 0),
    torch.nn.Tanh: torch.ops.aten.tanh_backward,
    torch.nn.Sigmoid: torch.ops.aten.sigmoid_backward,
    torch.nn.Identity: None,
}


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


_IN_PLACE = {torch.nn.ReLU: torch.relu_, torch.nn.Tanh: torch.tanh_, torch.nn.Sigmoid: torch.sigmoid_}


def forward_stack(stack, x):
    """``x`` through a :func:`linear_stack` with no autograd (inference): the same
    ``addmm`` as ``Linear``, activations in place on the intermediates."""
    for linear, act in stack:
        x = torch.addmm(linear.bias, x, linear.weight.t())
        if act in _IN_PLACE:
            x = _IN_PLACE[act](x)
    return x


class MSEStep:
    """One training step of ``mse_loss(module(x), x)`` for a :func:`linear_stack` module:
    forward and backward written out (the aten operations that autograd runs, without
    the graph) and :class:`DirectAdam`. Same weights, bitwise, as the autograd step,
    at a fraction of its per-step overhead. Call under ``torch.no_grad()``."""

    @classmethod
    def of(cls, module, adam):
        """The step for ``module`` and a :class:`DirectAdam` (or None), or None when the
        hand-written pass would not be exactly autograd's: no :func:`linear_stack`, an
        activation after the last layer, a layer used twice, frozen parameters, or an
        optimiser that does not hold exactly the module's parameters."""
        stack = linear_stack(module) if adam is not None else None
        if stack is None or stack[-1][1] is not None:
            return None
        params = [p for linear, _ in stack for p in (linear.weight, linear.bias)]
        if (len({id(p) for p in params}) != len(params) or not all(p.requires_grad for p in params)
                or {id(p) for p in params} != {id(p) for p in adam.params}):
            return None
        return cls(stack, adam)

    def __init__(self, stack, adam):
        self.weights = [linear.weight for linear, _ in stack]
        self.biases = [linear.bias for linear, _ in stack]
        self.backwards = [_BACKWARDS.get(act) for _, act in stack]
        self.in_place = [_IN_PLACE.get(act) for _, act in stack]
        self.params = [p for pair in zip(self.weights, self.biases) for p in pair]
        self.grads = [torch.empty_like(p) for p in self.params]
        self.adam = adam

    def __call__(self, x):
        h, inputs = x, []
        for weight, bias, activate in zip(self.weights, self.biases, self.in_place):
            inputs.append(h)
            h = torch.addmm(bias, h, weight.t())
            if activate is not None:
                h = activate(h)
        loss = torch.nn.functional.mse_loss(h, x)
        grad = torch.ops.aten.mse_loss_backward(torch.ones((), dtype=h.dtype, device=h.device), h, x, 1)
        grads = self.grads
        for i in range(len(self.weights) - 1, -1, -1):
            torch.mm(grad.t(), inputs[i], out=grads[2 * i])
            torch.sum(grad, 0, out=grads[2 * i + 1])
            if i:
                grad = torch.mm(grad, self.weights[i])
                backward = self.backwards[i - 1]
                if backward is not None:
                    grad = backward(grad, inputs[i])
        self.adam.step(self.params, grads)
        return loss
