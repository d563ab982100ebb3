"""Optimizers: update parameters from their gradients. ``step()`` zeroes the gradients afterwards (the seed's
convention); ``step(zero=False)`` keeps them."""

import numbers
import warnings

import numpy as np

from numtorch.errors import NumTorchTypeError, NumTorchValueError
from numtorch.tensor import Tensor


class Optimizer:
    """Base class: holds the parameter list and the learning rate ``lr`` (change it at any time).

    Subclasses define ``update(i, p, grad)`` returning the amount to subtract from parameter number i;
    ``step()`` applies it to every parameter that has a gradient (the others are skipped) and then
    zeroes the gradients.
    """

    def __init__(self, params, lr):
        self.params = _check_params(params, type(self).__name__)
        self.lr = lr
        self.reset()

    @property
    def lr(self):
        """The learning rate (a number >= 0; change it at any time)."""
        return self._lr

    @lr.setter
    def lr(self, value):
        if not isinstance(value, numbers.Real) or isinstance(value, bool):
            raise NumTorchTypeError(f"{type(self).__name__}: lr must be a number, got {type(value).__name__} "
                                    f"{value!r:.40}; write lr=0.1, not lr='0.1'")
        if not value >= 0:
            raise NumTorchValueError(f"{type(self).__name__}: lr must be >= 0, got {value}")
        self._lr = value

    def reset(self):
        """Forget the optimizer's state (momentum, step counts)."""

    def step(self, zero=True):
        for i, p in enumerate(self.params):
            if p.grad is not None:
                delta = self.update(i, p, p.grad.data)
                try:
                    p.data -= delta
                except TypeError:  # integer data set by hand cannot take a float step in place
                    if p.data.dtype.kind in "fc":
                        raise
                    p.data = np.asarray(p.data - delta)  # (a 0-d result would be a NumPy scalar)
                p._mark_changed()  # a backward through an older graph that saved p now raises
        if zero:
            self.zero()

    def zero(self):
        """Clear every parameter's gradient (the seed's name)."""
        for p in self.params:
            p.grad = None

    zero_grad = zero

    def update(self, i, p, grad):
        raise NotImplementedError


def _check_params(params, owner):
    if isinstance(params, Tensor):
        params = [params]
    elif hasattr(params, "parameters") and callable(params.parameters):  # a Layer
        params = params.parameters()
    try:
        params = list(params)
    except TypeError:
        raise NumTorchTypeError(f"{owner}: params must be a list of Tensors (e.g. model.get_params()), "
                                f"got {type(params).__name__}") from None
    for i, p in enumerate(params):
        if not isinstance(p, Tensor):
            shape = f" of shape {np.shape(p)}" if hasattr(p, "shape") else ""
            raise NumTorchTypeError(f"{owner}: params[{i}] is a {type(p).__name__}{shape}, not a Tensor; "
                                    f"pass model.get_params(), or wrap an array as nt.Tensor(array, autograd=True)")
    unique = list({id(p): p for p in params}.values())
    if len(unique) < len(params):
        warnings.warn(f"{owner}: {len(params) - len(unique)} parameter(s) listed twice (model.get_params() plus a "
                      f"sub-layer's?); each is updated once per step", UserWarning, stacklevel=4)
    return unique


class SGDOptimizer(Optimizer):
    """p -= lr * g, with g = grad + weight_decay * p; with momentum, v = momentum * v + g and g = v (or, with
    nesterov, g + momentum * v), as PyTorch's SGD. Plain gradient descent by default."""

    def __init__(self, params, lr=0.1, momentum=0.0, weight_decay=0.0, nesterov=False):
        if nesterov and not momentum:
            raise NumTorchValueError("SGDOptimizer: nesterov=True needs a momentum > 0 (PyTorch refuses too)")
        self.momentum, self.weight_decay, self.nesterov = momentum, weight_decay, nesterov
        super().__init__(params, lr)

    def reset(self):
        self.velocity = {}

    def update(self, i, p, grad):
        if self.weight_decay:
            grad = grad + self.weight_decay * p.data
        if self.momentum:
            v = self.velocity.get(i)
            v = grad.copy() if v is None else self.momentum * v + grad
            self.velocity[i] = v
            grad = grad + self.momentum * v if self.nesterov else v
        return self.lr * grad


class AdamOptimizer(Optimizer):
    """Adam: p -= lr * m_hat / (sqrt(v_hat) + eps), with bias-corrected running moments of grad and grad^2."""

    def __init__(self, params, lr=0.001, betas=(0.9, 0.999), eps=1e-8):
        self.betas, self.eps = betas, eps
        super().__init__(params, lr)

    def reset(self):
        self.m, self.v, self.t = {}, {}, {}

    def update(self, i, p, grad):
        b1, b2 = self.betas
        t = self.t[i] = self.t.get(i, 0) + 1
        m = self.m[i] = b1 * self.m.get(i, 0.0) + (1 - b1) * grad
        v = self.v[i] = b2 * self.v.get(i, 0.0) + (1 - b2) * grad * grad
        return self.lr * (m / (1 - b1 ** t)) / (np.sqrt(v / (1 - b2 ** t)) + self.eps)


SGD, Adam = SGDOptimizer, AdamOptimizer
