"""Check gradients against central finite differences: the tool the tests and the labs share.

    from numtorch.testing import gradcheck
    gradcheck(lambda x, w: (x @ w).tanh(), x, w)     # True, or a GradcheckError naming the element
"""

import numpy as np

from numtorch.errors import GradcheckError, NumTorchTypeError
from numtorch.tensor import Tensor, no_grad


def _float64_leaves(inputs):
    return [Tensor(np.asarray(x.data if isinstance(x, Tensor) else x, dtype=np.float64), autograd=True)
            for x in inputs]


def _output(fn, inputs):
    """fn(*inputs), which must be a Tensor."""
    out = fn(*inputs)
    if not isinstance(out, Tensor):
        raise NumTorchTypeError(f"gradcheck: fn must return a Tensor, got {type(out).__name__}; compute the "
                                f"result with Tensor operations on fn's arguments (.data leaves the graph)")
    return out


def numerical_grad(fn, *inputs, eps=1e-6, upstream=None):
    """d sum(fn(*inputs) * upstream) / d input, for each input, by central differences in float64.

    inputs: Tensors, arrays or numbers (never modified). upstream: the gradient flowing into fn's
    output (ones when None). Returns one float64 array per input.
    """
    leaves = _float64_leaves(inputs)
    weight = 1.0 if upstream is None else np.asarray(upstream, dtype=np.float64)
    grads = []
    with no_grad():  # only values are needed: record no graph
        for x in leaves:
            g = np.zeros_like(x.data)
            flat, gflat = x.data.reshape(-1), g.reshape(-1)
            for j in range(flat.size):
                orig = flat[j]
                flat[j] = orig + eps
                plus = (_output(fn, leaves).data * weight).sum()
                flat[j] = orig - eps
                minus = (_output(fn, leaves).data * weight).sum()
                flat[j] = orig
                gflat[j] = (plus - minus) / (2 * eps)
            grads.append(g)
    return grads


def analytic_grad(fn, *inputs, upstream=None):
    """The gradients backward() computes for sum(fn(*inputs) * upstream), in float64 (zeros where none)."""
    leaves = _float64_leaves(inputs)
    out = _output(fn, leaves)
    out.backward(None if upstream is None else np.asarray(upstream, dtype=np.float64) * np.ones_like(out.data))
    return [np.zeros_like(x.data) if x.grad is None else x.grad.data for x in leaves]


def gradcheck(fn, *inputs, eps=1e-6, atol=1e-5, rtol=1e-3, seed=0):
    """Compare backward() with finite differences for fn(*inputs); True, or raise GradcheckError.

    A random upstream gradient (fixed by `seed`) weights the output, so every output element counts.
    The error names the input, the element, both values and the tolerance.
    """
    out = _output(fn, _float64_leaves(inputs))
    upstream = np.random.default_rng(seed).standard_normal(np.shape(out.data))
    analytic = analytic_grad(fn, *inputs, upstream=upstream)
    numerical = numerical_grad(fn, *inputs, eps=eps, upstream=upstream)
    for k, (a, n) in enumerate(zip(analytic, numerical)):
        bad = ~np.isclose(a, n, atol=atol, rtol=rtol)
        if bad.any():
            where = tuple(int(i) for i in np.argwhere(bad)[0])
            raise GradcheckError(
                f"gradcheck: input {k} (shape {a.shape}) element {where}: backward gives {a[where]:.6g}, "
                f"finite differences give {n[where]:.6g} (atol={atol}, rtol={rtol}); "
                f"{int(bad.sum())} of {bad.size} elements differ")
    return True
