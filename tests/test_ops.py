"""The op table: one or more entries for every primitive `Operation`, and the tests generated from it.

Each entry says how to call the op, the input shapes and their domain (log needs x > 0, indices are
integers) and the PyTorch twin. From the table: central finite differences in float64 with a random
upstream gradient (numtorch.testing.gradcheck, the tool the labs use), inputs never mutated, float32 in
-> float32 out and float32 grads, agreement with PyTorch when it is installed, and broadcast shapes
drawn by hypothesis for the binary elementwise ops. A new Operation without an entry fails
`test_every_operation_has_an_entry`.
"""

import warnings

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st
from hypothesis.extra import numpy as hnp

import numtorch as nt
from numtorch import operations as ops
from numtorch.testing import gradcheck


class Arg:
    """One input of an entry: a float tensor (shape, domain) or a constant integer array (indices, targets)."""

    def __init__(self, shape=(), domain="real", ints=None):
        self.shape, self.domain = tuple(shape), domain
        self.ints = None if ints is None else np.array(ints)

    @property
    def is_float(self):
        return self.ints is None

    def draw(self, rng, dtype=np.float64, shape=None):
        if not self.is_float:
            return self.ints.copy()
        shape = self.shape if shape is None else shape
        if self.domain == "positive":  # log, the base of x ** y
            x = rng.uniform(0.5, 2.0, shape)
        elif self.domain == "away_from_zero":  # divisors, the kink of relu
            x = rng.choice([-1.0, 1.0], shape) * rng.uniform(0.5, 2.0, shape)
        else:
            x = rng.standard_normal(shape)
        return np.asarray(x, dtype=dtype)


def F(*shape, domain="real"):
    return Arg(shape, domain)


def I(values):  # noqa: E743 (an integer input)
    return Arg(ints=values)


class Entry:
    def __init__(self, op, call, fn, args, twin, broadcast=False):
        self.op, self.call, self.fn, self.args, self.twin, self.broadcast = op, call, fn, args, twin, broadcast

    def __repr__(self):
        return self.call


CLASS_WEIGHT = np.array([0.5, 2.0, 1.0, 0.25, 1.5])
MASK = np.array([[True, False, True, False], [False, False, True, True], [True, True, False, False]])
ROWS = [0, 2, 0]


def _ce(T, x, t):
    return T.nn.functional.cross_entropy(x, t.reshape(-1))


def _expand(dim, copies):
    return lambda T, x: x.unsqueeze(dim).repeat_interleave(copies, dim)


TABLE = [
    # elementwise arithmetic (broadcast=True: hypothesis also draws broadcast shapes for these)
    Entry(ops.Add, "x + y", lambda x, y: x + y, [F(3, 4), F(3, 4)], lambda T, x, y: x + y, broadcast=True),
    Entry(ops.Add, "x + row", lambda x, y: x + y, [F(3, 4), F(4)], lambda T, x, y: x + y),
    Entry(ops.Add, "x + x", lambda x: x + x, [F(3, 4)], lambda T, x: x + x),
    Entry(ops.Sub, "x - y", lambda x, y: x - y, [F(3, 4), F(3, 4)], lambda T, x, y: x - y, broadcast=True),
    Entry(ops.Sub, "column - x", lambda x, y: x - y, [F(3, 1), F(3, 4)], lambda T, x, y: x - y),
    Entry(ops.Neg, "-x", lambda x: -x, [F(3, 4)], lambda T, x: -x),
    Entry(ops.Mul, "x * y", lambda x, y: x * y, [F(3, 4), F(3, 4)], lambda T, x, y: x * y, broadcast=True),
    Entry(ops.Mul, "x * x", lambda x: x * x, [F(3, 4)], lambda T, x: x * x),
    Entry(ops.Mul, "2 * x", lambda x: 2 * x, [F(3, 4)], lambda T, x: 2 * x),
    Entry(ops.Div, "x / y", lambda x, y: x / y, [F(3, 4), F(3, 4, domain="away_from_zero")],
          lambda T, x, y: x / y, broadcast=True),
    Entry(ops.Div, "3 / x", lambda x: 3 / x, [F(3, 4, domain="away_from_zero")], lambda T, x: 3 / x),
    Entry(ops.Pow, "x ** y", lambda x, y: x ** y, [F(3, 4, domain="positive"), F(3, 4)],
          lambda T, x, y: x ** y, broadcast=True),
    Entry(ops.Pow, "x ** 2", lambda x: x ** 2, [F(3, 4)], lambda T, x: x ** 2),
    Entry(ops.Pow, "x ** 3", lambda x: x ** 3, [F(3, 4)], lambda T, x: x ** 3),
    Entry(ops.Pow, "x ** 0.5", lambda x: x ** 0.5, [F(3, 4, domain="positive")], lambda T, x: x ** 0.5),
    Entry(ops.Pow, "x ** -1", lambda x: x ** -1, [F(3, 4, domain="away_from_zero")], lambda T, x: x ** -1),
    Entry(ops.Pow, "2 ** x", lambda x: 2 ** x, [F(3, 4)], lambda T, x: 2 ** x),
    # matrix products
    Entry(ops.MatMul, "x @ y", lambda x, y: x @ y, [F(3, 4), F(4, 2)], lambda T, x, y: x @ y),
    Entry(ops.MatMul, "x.mm(y)", lambda x, y: x.mm(y), [F(3, 4), F(4, 2)], lambda T, x, y: x @ y),
    Entry(ops.MatMul, "x.dot(y)", lambda x, y: x.dot(y), [F(1, 4), F(4, 3)], lambda T, x, y: x @ y),
    Entry(ops.MatMul, "vector @ matrix", lambda x, y: x @ y, [F(4), F(4, 2)], lambda T, x, y: x @ y),
    Entry(ops.MatMul, "matrix @ vector", lambda x, y: x @ y, [F(3, 4), F(4)], lambda T, x, y: x @ y),
    Entry(ops.MatMul, "vector @ vector", lambda x, y: x @ y, [F(4), F(4)], lambda T, x, y: x @ y),
    Entry(ops.MatMul, "batch @ matrix", lambda x, y: x @ y, [F(2, 3, 4), F(4, 2)], lambda T, x, y: x @ y),
    Entry(ops.MatMul, "batch @ batch", lambda x, y: x @ y, [F(2, 3, 4), F(2, 4, 2)], lambda T, x, y: x @ y),
    Entry(ops.MatMul, "batch @ vector", lambda x, y: x @ y, [F(2, 3, 4), F(4)], lambda T, x, y: x @ y),
    Entry(ops.LinearOp, "LinearOp.apply(x, w, b)", lambda x, w, b: ops.LinearOp.apply(x, w, b),
          [F(3, 4), F(4, 2), F(2)], lambda T, x, w, b: x @ w + b),
    Entry(ops.LinearOp, "LinearOp.apply(batch, w, b)", lambda x, w, b: ops.LinearOp.apply(x, w, b),
          [F(2, 3, 4), F(4, 2), F(2)], lambda T, x, w, b: x @ w + b),
    Entry(ops.LinearOp, "LinearOp.apply(vector, w, b)", lambda x, w, b: ops.LinearOp.apply(x, w, b),
          [F(4), F(4, 2), F(2)], lambda T, x, w, b: x @ w + b),
    # reductions
    Entry(ops.Sum, "x.sum()", lambda x: x.sum(), [F(3, 4)], lambda T, x: x.sum()),
    Entry(ops.Sum, "x.sum(dim=0)", lambda x: x.sum(dim=0), [F(3, 4)], lambda T, x: x.sum(dim=0)),
    Entry(ops.Sum, "x.sum(1, keepdim=True)", lambda x: x.sum(1, keepdim=True), [F(3, 4)],
          lambda T, x: x.sum(1, keepdim=True)),
    Entry(ops.Sum, "x.sum(dim=-1) 3-D", lambda x: x.sum(dim=-1), [F(2, 3, 4)], lambda T, x: x.sum(dim=-1)),
    Entry(ops.Sum, "x.sum(dim=(0, 2))", lambda x: x.sum(dim=(0, 2)), [F(2, 3, 4)], lambda T, x: x.sum(dim=(0, 2))),
    Entry(ops.Sum, "Sum.apply(x)", lambda x: ops.Sum.apply(x), [F(3, 4)], lambda T, x: x.sum()),
    Entry(ops.Mean, "x.mean()", lambda x: x.mean(), [F(3, 4)], lambda T, x: x.mean()),
    Entry(ops.Mean, "x.mean(dim=0)", lambda x: x.mean(dim=0), [F(3, 4)], lambda T, x: x.mean(dim=0)),
    Entry(ops.Mean, "x.mean(1, keepdim=True)", lambda x: x.mean(1, keepdim=True), [F(3, 4)],
          lambda T, x: x.mean(1, keepdim=True)),
    Entry(ops.Mean, "x.mean(dim=(0, 2))", lambda x: x.mean(dim=(0, 2)), [F(2, 3, 4)],
          lambda T, x: x.mean(dim=(0, 2))),
    Entry(ops.Mean, "Mean.apply(x)", lambda x: ops.Mean.apply(x), [F(3, 4)], lambda T, x: x.mean()),
    # moving data around
    Entry(ops.Expand, "x.expand(0, 3)", lambda x: x.expand(0, 3), [F(4)], _expand(0, 3)),
    Entry(ops.Expand, "x.expand(1, 2)", lambda x: x.expand(1, 2), [F(3, 4)], _expand(1, 2)),
    Entry(ops.Expand, "x.expand(-1, 2)", lambda x: x.expand(-1, 2), [F(3, 4)], _expand(-1, 2)),
    Entry(ops.Transpose, "x.T", lambda x: x.T, [F(3, 4)], lambda T, x: x.T),
    Entry(ops.Transpose, "x.transpose()", lambda x: x.transpose(), [F(2, 3, 4)], lambda T, x: x.permute(2, 1, 0)),
    Entry(ops.Transpose, "x.transpose(0, 1)", lambda x: x.transpose(0, 1), [F(3, 4)],
          lambda T, x: x.transpose(0, 1)),
    Entry(ops.Transpose, "x.transpose(0, 1) 3-D", lambda x: x.transpose(0, 1), [F(2, 3, 4)],
          lambda T, x: x.transpose(0, 1)),
    Entry(ops.Transpose, "x.transpose(2, 0, 1)", lambda x: x.transpose(2, 0, 1), [F(2, 3, 4)],
          lambda T, x: x.permute(2, 0, 1)),
    Entry(ops.Transpose, "Transpose.apply(x)", lambda x: ops.Transpose.apply(x), [F(3, 4)], lambda T, x: x.T),
    Entry(ops.Transpose, "Transpose.apply(x, axes=(0, 2))", lambda x: ops.Transpose.apply(x, axes=(0, 2)),
          [F(2, 3, 4)], lambda T, x: x.transpose(0, 2)),
    Entry(ops.Reshape, "x.reshape(4, 3)", lambda x: x.reshape(4, 3), [F(3, 4)], lambda T, x: x.reshape(4, 3)),
    Entry(ops.Reshape, "x.reshape((2, 6))", lambda x: x.reshape((2, 6)), [F(3, 4)], lambda T, x: x.reshape(2, 6)),
    Entry(ops.Reshape, "x.reshape(-1)", lambda x: x.reshape(-1), [F(3, 4)], lambda T, x: x.reshape(-1)),
    Entry(ops.Reshape, "x.view(2, 2, 3)", lambda x: x.view(2, 2, 3), [F(3, 4)], lambda T, x: x.reshape(2, 2, 3)),
    Entry(ops.GetItem, "x[1]", lambda x: x[1], [F(3, 4)], lambda T, x: x[1]),
    Entry(ops.GetItem, "x[1, 2]", lambda x: x[1, 2], [F(3, 4)], lambda T, x: x[1, 2]),
    Entry(ops.GetItem, "x[:, 1:3]", lambda x: x[:, 1:3], [F(3, 4)], lambda T, x: x[:, 1:3]),
    Entry(ops.GetItem, "x[..., None]", lambda x: x[..., None], [F(3, 4)], lambda T, x: x[..., None]),
    Entry(ops.GetItem, "x[[0, 2, 0]] (a repeated row)", lambda x: x[ROWS], [F(3, 4)],
          lambda T, x: x[T.tensor(ROWS)]),
    Entry(ops.GetItem, "x[rows, :2]", lambda x, i: x[i, :2], [F(3, 4), I(ROWS)], lambda T, x, i: x[i, :2]),
    Entry(ops.GetItem, "x[mask]", lambda x: x[MASK], [F(3, 4)], lambda T, x: x[T.tensor(MASK)]),
    Entry(ops.IndexSelect, "x.index_select(indices)", lambda x, i: x.index_select(i), [F(5, 3), I([0, 2, 2, 4])],
          lambda T, x, i: x[i]),
    Entry(ops.IndexSelect, "x.index(indices) (the book's name)", lambda x, i: x.index(i), [F(5, 3), I([4, 1])],
          lambda T, x, i: x[i]),
    Entry(ops.IndexSelect, "x.index_select(2-D indices)", lambda x, i: x.index_select(i),
          [F(5, 3), I([[0, 1], [1, 4]])], lambda T, x, i: x[i]),
    # nonlinearities
    Entry(ops.Sigmoid, "x.sigmoid()", lambda x: x.sigmoid(), [F(3, 4)], lambda T, x: x.sigmoid()),
    Entry(ops.Tanh, "x.tanh()", lambda x: x.tanh(), [F(3, 4)], lambda T, x: x.tanh()),
    Entry(ops.ReLU, "x.relu()", lambda x: x.relu(), [F(3, 4, domain="away_from_zero")], lambda T, x: x.relu()),
    Entry(ops.Exp, "x.exp()", lambda x: x.exp(), [F(3, 4)], lambda T, x: x.exp()),
    Entry(ops.Log, "x.log()", lambda x: x.log(), [F(3, 4, domain="positive")], lambda T, x: x.log()),
    Entry(ops.Softmax, "x.softmax()", lambda x: x.softmax(), [F(3, 4)], lambda T, x: x.softmax(-1)),
    Entry(ops.Softmax, "x.softmax(dim=0)", lambda x: x.softmax(dim=0), [F(3, 4)], lambda T, x: x.softmax(0)),
    Entry(ops.Softmax, "Softmax.apply(x)", lambda x: ops.Softmax.apply(x), [F(3, 4)], lambda T, x: x.softmax(-1)),
    Entry(ops.LogSoftmax, "x.log_softmax()", lambda x: x.log_softmax(), [F(3, 4)], lambda T, x: x.log_softmax(-1)),
    Entry(ops.LogSoftmax, "x.log_softmax(dim=0)", lambda x: x.log_softmax(dim=0), [F(3, 4)],
          lambda T, x: x.log_softmax(0)),
    Entry(ops.LogSoftmax, "LogSoftmax.apply(x)", lambda x: ops.LogSoftmax.apply(x), [F(3, 4)],
          lambda T, x: x.log_softmax(-1)),
    # losses
    Entry(ops.CrossEntropy, "x.cross_entropy(targets)", lambda x, t: x.cross_entropy(t), [F(4, 5), I([0, 3, 4, 1])],
          _ce),
    Entry(ops.CrossEntropy, "x.cross_entropy(column of targets)", lambda x, t: x.cross_entropy(t),
          [F(4, 5), I([[2], [2], [0], [1]])], _ce),
    Entry(ops.MSE, "MSE.apply(pred, target)", lambda x, y: ops.MSE.apply(x, y), [F(3, 4), F(3, 4)],
          lambda T, x, y: T.nn.functional.mse_loss(x, y)),
]

# ---- the core's ops for PyTorch users (issue 12): new primitives, and PyTorch's names built from primitives ----
TABLE += [
    Entry(ops.Abs, "x.abs()", lambda x: x.abs(), [F(3, 4, domain="away_from_zero")], lambda T, x: x.abs()),
    Entry(ops.Abs, "abs(x)", lambda x: abs(x), [F(3, 4, domain="away_from_zero")], lambda T, x: abs(x)),
    Entry(ops.Clamp, "x.clamp(-0.5, 0.5)", lambda x: x.clamp(-0.5, 0.5), [F(3, 4)], lambda T, x: x.clamp(-0.5, 0.5)),
    Entry(ops.Clamp, "x.clamp(min=0.2)", lambda x: x.clamp(min=0.2), [F(3, 4)], lambda T, x: x.clamp(min=0.2)),
    Entry(ops.Clamp, "x.clamp(max=0.1)", lambda x: x.clamp(max=0.1), [F(3, 4)], lambda T, x: x.clamp(max=0.1)),
    Entry(ops.Max, "x.max()", lambda x: x.max(), [F(3, 4)], lambda T, x: x.max()),
    Entry(ops.Max, "x.max(dim=1).values", lambda x: x.max(dim=1).values, [F(3, 4)], lambda T, x: x.max(dim=1).values),
    Entry(ops.Max, "x.max(0, keepdim=True)[0]", lambda x: x.max(0, keepdim=True)[0], [F(3, 4)],
          lambda T, x: x.max(0, keepdim=True)[0]),
    Entry(ops.Max, "x.max(dim=-1) 3-D", lambda x: x.max(dim=-1).values, [F(2, 3, 4)], lambda T, x: x.max(-1).values),
    Entry(ops.Neg, "x.min(dim=0).values", lambda x: x.min(dim=0).values, [F(3, 4)], lambda T, x: x.min(dim=0).values),
    Entry(ops.Cat, "nt.cat([x, y], dim=1)", lambda x, y: nt.cat([x, y], dim=1), [F(3, 2), F(3, 4)],
          lambda T, x, y: T.cat([x, y], 1)),
    Entry(ops.Cat, "nt.cat([x, y, x])", lambda x, y: nt.cat([x, y, x]), [F(1, 4), F(2, 4)],
          lambda T, x, y: T.cat([x, y, x])),
    Entry(ops.Cat, "nt.stack([x, y], dim=-1)", lambda x, y: nt.stack([x, y], dim=-1), [F(3, 4), F(3, 4)],
          lambda T, x, y: T.stack([x, y], -1)),
    Entry(ops.Cat, "nt.stack([x, y])", lambda x, y: nt.stack([x, y]), [F(3, 4), F(3, 4)], lambda T, x, y: T.stack([x, y])),
    Entry(ops.Where, "nt.where(mask, x, y)", lambda m, x, y: nt.where(m, x, y), [I(MASK), F(3, 4), F(3, 4)],
          lambda T, m, x, y: T.where(m, x, y)),
    Entry(ops.Where, "nt.where(mask, x, row)", lambda m, x, y: nt.where(m, x, y), [I(MASK), F(3, 4), F(4)],
          lambda T, m, x, y: T.where(m, x, y)),
    Entry(ops.Where, "x.masked_fill(mask, -5.0)", lambda x, m: x.masked_fill(m, -5.0), [F(3, 4), I(MASK)],
          lambda T, x, m: x.masked_fill(m, -5.0)),
    Entry(ops.Clone, "x.clone()", lambda x: x.clone(), [F(3, 4)], lambda T, x: x.clone()),
    Entry(ops.Cast, "Cast.apply(x, dtype=x.dtype)", lambda x: ops.Cast.apply(x, dtype=x.dtype), [F(3, 4)],
          lambda T, x: x * 1),
    Entry(ops.MatMul, "4-D batch @ broadcast batch (attention)", lambda x, y: x @ y, [F(2, 1, 3, 4), F(1, 2, 4, 3)],
          lambda T, x, y: x @ y),
    Entry(ops.Pow, "x.sqrt()", lambda x: x.sqrt(), [F(3, 4, domain="positive")], lambda T, x: x.sqrt()),
    Entry(ops.Div, "x.var(dim=1)", lambda x: x.var(dim=1), [F(3, 4)], lambda T, x: x.var(dim=1)),
    Entry(ops.Div, "x.var(dim=(0, 2), keepdim=True)", lambda x: x.var(dim=(0, 2), keepdim=True), [F(2, 3, 4)],
          lambda T, x: x.var(dim=(0, 2), keepdim=True)),
    Entry(ops.Pow, "x.std()", lambda x: x.std(), [F(3, 4)], lambda T, x: x.std()),
    Entry(ops.Div, "x.var(correction=0)", lambda x: x.var(correction=0), [F(3, 4)], lambda T, x: x.var(correction=0)),
    Entry(ops.Sum, "x.sum(dim=[0, 1]) (a list of dims)", lambda x: x.sum(dim=[0, 1]), [F(2, 3, 4)],
          lambda T, x: x.sum(dim=(0, 1))),
    Entry(ops.Reshape, "x.unsqueeze(1)", lambda x: x.unsqueeze(1), [F(3, 4)], lambda T, x: x.unsqueeze(1)),
    Entry(ops.Reshape, "x.unsqueeze(-1)", lambda x: x.unsqueeze(-1), [F(3, 4)], lambda T, x: x.unsqueeze(-1)),
    Entry(ops.Reshape, "x.squeeze()", lambda x: x.squeeze(), [F(3, 1, 4, 1)], lambda T, x: x.squeeze()),
    Entry(ops.Reshape, "x.squeeze(1)", lambda x: x.squeeze(1), [F(3, 1, 4)], lambda T, x: x.squeeze(1)),
    Entry(ops.Reshape, "x.flatten()", lambda x: x.flatten(), [F(2, 3, 4)], lambda T, x: x.flatten()),
    Entry(ops.Reshape, "x.flatten(1)", lambda x: x.flatten(1), [F(2, 3, 4)], lambda T, x: x.flatten(1)),
    Entry(ops.Transpose, "x.permute(2, 0, 1)", lambda x: x.permute(2, 0, 1), [F(2, 3, 4)], lambda T, x: x.permute(2, 0, 1)),
    Entry(ops.Transpose, "x.transpose(-1, 0, 1)", lambda x: x.transpose(-1, 0, 1), [F(2, 3, 4)],
          lambda T, x: x.permute(-1, 0, 1)),
    Entry(ops.Transpose, "x.transpose(-1, -2)", lambda x: x.transpose(-1, -2), [F(2, 3, 4)],
          lambda T, x: x.transpose(-1, -2)),
    Entry(ops.CrossEntropy, "x.cross_entropy(t, reduction='sum')", lambda x, t: x.cross_entropy(t, reduction="sum"),
          [F(4, 5), I([0, 3, 4, 1])], lambda T, x, t: T.nn.functional.cross_entropy(x, t, reduction="sum")),
    Entry(ops.CrossEntropy, "x.cross_entropy(t, reduction='none')", lambda x, t: x.cross_entropy(t, reduction="none"),
          [F(4, 5), I([0, 3, 4, 1])], lambda T, x, t: T.nn.functional.cross_entropy(x, t, reduction="none")),
    Entry(ops.CrossEntropy, "x.cross_entropy(t, weight=w)", lambda x, t: x.cross_entropy(t, weight=CLASS_WEIGHT),
          [F(4, 5), I([0, 3, 4, 3])],
          lambda T, x, t: T.nn.functional.cross_entropy(x, t, weight=T.tensor(CLASS_WEIGHT))),
    Entry(ops.CrossEntropy, "x.cross_entropy(probabilities)", lambda x, p: x.cross_entropy(p.softmax()),
          [F(4, 5), F(4, 5)], lambda T, x, p: T.nn.functional.cross_entropy(x, p.softmax(-1))),
    Entry(ops.CrossEntropy, "x.cross_entropy(probabilities, weight=w, reduction='sum')",
          lambda x, p: x.cross_entropy(p.softmax(), weight=CLASS_WEIGHT, reduction="sum"), [F(4, 5), F(4, 5)],
          lambda T, x, p: T.nn.functional.cross_entropy(x, p.softmax(-1), weight=T.tensor(CLASS_WEIGHT), reduction="sum")),
    Entry(ops.CrossEntropy, "one example: x.cross_entropy(3)", lambda x, t: x.cross_entropy(t), [F(5), I(3)],
          lambda T, x, t: T.nn.functional.cross_entropy(x, t)),
    Entry(ops.CrossEntropy, "(N, C, d) logits", lambda x, t: x.cross_entropy(t), [F(2, 5, 3), I([[0, 4, 1], [2, 2, 3]])],
          lambda T, x, t: T.nn.functional.cross_entropy(x, t)),
    Entry(ops.CrossEntropy, "(N, C, d1, d2) logits, weight, none",
          lambda x, t: x.cross_entropy(t, weight=CLASS_WEIGHT, reduction="none"),
          [F(2, 5, 2, 2), I([[[0, 4], [1, 1]], [[2, 2], [3, 0]]])],
          lambda T, x, t: T.nn.functional.cross_entropy(x, t, weight=T.tensor(CLASS_WEIGHT), reduction="none")),
    Entry(ops.MSE, "MSE.apply(pred, target, reduction='sum')", lambda x, y: ops.MSE.apply(x, y, reduction="sum"),
          [F(3, 4), F(3, 4)], lambda T, x, y: T.nn.functional.mse_loss(x, y, reduction="sum")),
    Entry(ops.MSE, "MSE.apply(pred, target, reduction='none')", lambda x, y: ops.MSE.apply(x, y, reduction="none"),
          [F(3, 4), F(3, 4)], lambda T, x, y: T.nn.functional.mse_loss(x, y, reduction="none")),
]


# ---- numtorch.functional: images, normalisation, dropout (one block: other engineers add theirs above) ----
NF = nt.functional
RUNNING_MEAN, RUNNING_VAR = np.array([0.1, -0.2, 0.3]), np.array([0.5, 1.0, 2.0])


def _dropout_mask(shape, p):
    """The mask dropout draws right after np.random.seed(7), for the PyTorch twin."""
    np.random.seed(7)
    return (np.random.random_sample(shape) >= p) / (1 - p)


def _seeded_dropout(x, p):
    np.random.seed(7)
    return NF.dropout(x, p, training=True)


TABLE += [
    Entry(ops.Conv2d, "conv2d(x, w, b)", lambda x, w, b: NF.conv2d(x, w, b), [F(2, 2, 5, 5), F(3, 2, 3, 3), F(3)],
          lambda T, x, w, b: T.nn.functional.conv2d(x, w, b)),
    Entry(ops.Conv2d, "conv2d(x, w, b, stride=2, padding=1)", lambda x, w, b: NF.conv2d(x, w, b, stride=2, padding=1),
          [F(2, 2, 5, 5), F(3, 2, 3, 3), F(3)], lambda T, x, w, b: T.nn.functional.conv2d(x, w, b, 2, 1)),
    Entry(ops.Conv2d, "conv2d(x, w) 2x3 kernel, no bias", lambda x, w: NF.conv2d(x, w, padding=(1, 0)),
          [F(2, 1, 4, 5), F(2, 1, 2, 3)], lambda T, x, w: T.nn.functional.conv2d(x, w, padding=(1, 0))),
    Entry(ops.MaxPool2d, "max_pool2d(x, 2)", lambda x: NF.max_pool2d(x, 2), [F(2, 2, 4, 4)],
          lambda T, x: T.nn.functional.max_pool2d(x, 2)),
    Entry(ops.MaxPool2d, "max_pool2d(x, 3, stride=2) overlapping", lambda x: NF.max_pool2d(x, 3, stride=2),
          [F(1, 2, 5, 5)], lambda T, x: T.nn.functional.max_pool2d(x, 3, 2)),
    Entry(ops.Dropout, "dropout(x, 0.3)", lambda x: _seeded_dropout(x, 0.3), [F(3, 4)],
          lambda T, x: x * T.tensor(_dropout_mask(x.shape, 0.3))),
    Entry(ops.LayerNorm, "layer_norm(x, (4,), w, b)", lambda x, w, b: NF.layer_norm(x, (4,), w, b),
          [F(3, 4), F(4), F(4)], lambda T, x, w, b: T.nn.functional.layer_norm(x, (4,), w, b)),
    Entry(ops.LayerNorm, "layer_norm(x, (3, 4)) no weight", lambda x: NF.layer_norm(x, (3, 4)), [F(2, 3, 4)],
          lambda T, x: T.nn.functional.layer_norm(x, (3, 4))),
    Entry(ops.BatchNorm, "batch_norm(x, training=True)", lambda x, w, b: NF.batch_norm(x, None, None, w, b, True),
          [F(4, 3), F(3), F(3)], lambda T, x, w, b: T.nn.functional.batch_norm(x, None, None, w, b, True)),
    Entry(ops.BatchNorm, "batch_norm(images, training=True)", lambda x: NF.batch_norm(x, None, None, training=True),
          [F(2, 3, 2, 2)], lambda T, x: T.nn.functional.batch_norm(x, None, None, training=True)),
    Entry(ops.BatchNorm, "batch_norm(x, running stats) eval",
          lambda x, w, b: NF.batch_norm(x, RUNNING_MEAN, RUNNING_VAR, w, b), [F(4, 3, 2), F(3), F(3)],
          lambda T, x, w, b: T.nn.functional.batch_norm(x, T.tensor(RUNNING_MEAN), T.tensor(RUNNING_VAR), w, b)),
]


def _operation_subclasses(cls=nt.Operation):
    for sub in cls.__subclasses__():
        if sub.__module__.startswith("numtorch.operations"):
            yield sub
        yield from _operation_subclasses(sub)


def test_every_operation_has_an_entry():
    missing = {op.__name__ for op in _operation_subclasses()} - {entry.op.__name__ for entry in TABLE}
    assert not missing, f"Operation subclasses without an entry in the op table (tests/test_ops.py): {sorted(missing)}"


# ---- running an entry ------------------------------------------------------------------------------

def _arrays(entry, dtype=np.float64, shapes=None, seed=0):
    rng = np.random.default_rng(seed)
    shapes = shapes or [arg.shape for arg in entry.args]
    return [arg.draw(rng, dtype, shape) for arg, shape in zip(entry.args, shapes)]


def _leaves(entry, arrays):
    return [nt.Tensor(a, autograd=True) if arg.is_float else a for arg, a in zip(entry.args, arrays)]


def _upstream(shape, dtype=np.float64, seed=1):
    return np.asarray(np.random.default_rng(seed).standard_normal(shape), dtype=dtype)


def _numtorch_run(entry, arrays, dtype=np.float64):
    """Forward and backward with a random upstream gradient: (output, upstream, grads of the float inputs)."""
    leaves = _leaves(entry, arrays)
    out = entry.fn(*leaves)
    upstream = _upstream(out.shape, dtype)
    out.backward(upstream)
    return out, upstream, [x.grad for x, arg in zip(leaves, entry.args) if arg.is_float]


def _gradcheck(entry, arrays):
    def fn(*floats):
        floats = iter(floats)
        return entry.fn(*[next(floats) if arg.is_float else a for arg, a in zip(entry.args, arrays)])

    return gradcheck(fn, *[a for arg, a in zip(entry.args, arrays) if arg.is_float])


ENTRIES = pytest.mark.parametrize("entry", TABLE, ids=repr)


@ENTRIES
def test_entry_calls_its_operation(entry):
    out = entry.fn(*_leaves(entry, _arrays(entry)))
    assert type(out.grad_fn) is entry.op, f"{entry.call} was recorded as {out.grad_fn!r}, not {entry.op.__name__}"
    assert out.autograd


@ENTRIES
def test_gradient_matches_finite_differences(entry):
    assert _gradcheck(entry, _arrays(entry))


@ENTRIES
def test_inputs_are_not_mutated(entry):
    arrays = _arrays(entry)
    copies = [a.copy() for a in arrays]
    leaves = _leaves(entry, arrays)
    entry.fn(*leaves).backward()
    for before, after in zip(copies, arrays):
        np.testing.assert_array_equal(after, before)  # arrays given as constants
    for before, leaf in zip(copies, leaves):
        if isinstance(leaf, nt.Tensor):
            np.testing.assert_array_equal(leaf.data, before)


@ENTRIES
def test_float32_stays_float32(entry):
    out, _, grads = _numtorch_run(entry, _arrays(entry, np.float32), np.float32)
    assert out.dtype == np.float32, f"{entry.call}: float32 inputs gave a {out.dtype} output"
    for k, (g, arg) in enumerate(zip(grads, [a for a in entry.args if a.is_float])):
        assert g.dtype == np.float32, f"{entry.call}: the gradient of float32 input {k} is {g.dtype}"
        assert g.shape == arg.shape


@ENTRIES
def test_matches_pytorch(entry, torch):
    arrays = _arrays(entry)
    out, upstream, grads = _numtorch_run(entry, arrays)
    inputs = [torch.tensor(a, requires_grad=arg.is_float) for arg, a in zip(entry.args, arrays)]
    expected = entry.twin(torch, *inputs)
    expected.backward(torch.tensor(upstream))
    np.testing.assert_allclose(out.data, expected.detach().numpy(), rtol=1e-7, atol=1e-12, err_msg=entry.call)
    floats = [t for t, arg in zip(inputs, entry.args) if arg.is_float]
    for k, (g, t) in enumerate(zip(grads, floats)):
        np.testing.assert_allclose(g.data, t.grad.numpy(), rtol=1e-7, atol=1e-12,
                                   err_msg=f"{entry.call}: gradient of input {k}")


# ---- broadcasting, drawn by hypothesis -------------------------------------------------------------

BROADCAST = pytest.mark.parametrize("entry", [e for e in TABLE if e.broadcast], ids=repr)
SHAPES = hnp.mutually_broadcastable_shapes(num_shapes=2, min_dims=0, max_dims=3, max_side=3)
FEW = settings(max_examples=8, deadline=None, derandomize=True, database=None)


@BROADCAST
@FEW
@given(shapes=SHAPES, seed=st.integers(0, 2 ** 16))
def test_broadcast_gradient_matches_finite_differences(entry, shapes, seed):
    arrays = _arrays(entry, shapes=shapes.input_shapes, seed=seed)
    assert _gradcheck(entry, arrays)
    _, _, grads = _numtorch_run(entry, arrays)
    assert [g.shape for g in grads] == [a.shape for a in arrays], "each gradient must have its input's shape"


@BROADCAST
@FEW
@given(shapes=SHAPES, seed=st.integers(0, 2 ** 16))
def test_broadcast_matches_pytorch(entry, shapes, seed):
    torch = pytest.importorskip("torch")
    arrays = _arrays(entry, shapes=shapes.input_shapes, seed=seed)
    out, upstream, grads = _numtorch_run(entry, arrays)
    inputs = [torch.tensor(a, requires_grad=True) for a in arrays]
    expected = entry.twin(torch, *inputs)
    expected.backward(torch.tensor(upstream))
    np.testing.assert_allclose(out.data, expected.detach().numpy(), rtol=1e-7, atol=1e-12)
    for g, t in zip(grads, inputs):
        np.testing.assert_allclose(g.data, t.grad.numpy(), rtol=1e-7, atol=1e-12)


# ---- numerical stability -----------------------------------------------------------------------------

def test_cross_entropy_is_stable_for_large_logits():
    logits = nt.Tensor(np.array([[1000.0, 0.0, -1000.0], [0.0, 1000.0, 1000.0]]), autograd=True)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no overflow on the way
        loss = logits.cross_entropy(np.array([2, 1]))
        loss.backward()
    assert loss.item() == pytest.approx((2000.0 + np.log(2.0)) / 2)
    np.testing.assert_allclose(logits.grad.data, [[0.5, 0, -0.5], [0, -0.25, 0.25]], atol=1e-12)


@pytest.mark.parametrize("method", ["softmax", "log_softmax", "sigmoid", "tanh"])
def test_activations_are_stable_for_large_inputs(method):
    x = nt.Tensor(np.array([[1000.0, 0.0, -1000.0]]), autograd=True)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        out = getattr(x, method)()
        out.backward(np.ones(out.shape))
    assert np.isfinite(out.data).all() and np.isfinite(x.grad.data).all()


def test_softmax_rows_sum_to_one():
    x = nt.Tensor(np.random.default_rng(0).standard_normal((4, 6)) * 30)
    np.testing.assert_allclose(x.softmax().data.sum(axis=-1), 1.0)
    np.testing.assert_allclose(x.log_softmax().exp().data, x.softmax().data)


def test_pow_gradients_at_zero_are_the_limits_not_nan():
    x = nt.tensor([0.0, 1.5, 0.0], requires_grad=True)
    y = nt.tensor([0.0, 2.5, 3.0], requires_grad=True)
    (x ** y).sum().backward()
    np.testing.assert_allclose(x.grad.data, [0.0, 2.5 * 1.5 ** 1.5, 0.0])
    np.testing.assert_allclose(y.grad.data, [0.0, 1.5 ** 2.5 * np.log(1.5), 0.0])


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_sigmoid_is_accurate_in_both_tails(dtype, torch):
    x = np.concatenate([-np.logspace(-3, 1.9, 40), [0.0], np.logspace(-3, 1.9, 40)]).astype(dtype)  # to -79
    ours = nt.tensor(x, requires_grad=True)
    theirs = torch.tensor(x, requires_grad=True)
    out, expected = ours.sigmoid(), theirs.sigmoid()
    np.testing.assert_allclose(out.data, expected.detach().numpy(), rtol=4 * np.finfo(dtype).eps, atol=0)
    out.log().sum().backward()  # log(sigmoid(-40)) is -40 with gradient 1, not -inf and nan
    expected.log().sum().backward()
    np.testing.assert_allclose(ours.grad.data, theirs.grad.numpy(), rtol=4 * np.finfo(dtype).eps, atol=1e-30)
    assert out.dtype == dtype
    assert float(nt.tensor(np.float32(-20)).sigmoid()) == pytest.approx(2.0611537e-09, rel=1e-6)
    assert float(nt.tensor(-40.0).sigmoid().log()) == pytest.approx(-40.0)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_max_of_a_whole_tensor_shares_a_tie_equally_and_max_along_a_dim_gives_it_to_the_first(dtype):
    x = nt.tensor(np.array([[1.0, 3.0, 3.0], [0.0, 3.0, 2.0]], dtype), requires_grad=True)
    (x.max() * 6).backward()
    np.testing.assert_array_equal(x.grad.data, [[0, 2, 2], [0, 2, 0]])
    assert x.grad.dtype == dtype
    x.grad = None
    x.max(dim=1).values.sum().backward()
    np.testing.assert_array_equal(x.grad.data, [[0, 1, 0], [0, 1, 0]])
    x.grad = None
    (x.min() * 2).backward()
    np.testing.assert_array_equal(x.grad.data, [[0, 0, 0], [2, 0, 0]])


def test_max_ties_and_nan_match_pytorch(torch):
    for values in ([[1.0, 3.0, 3.0], [0.0, 3.0, 2.0]], [1.0, float("nan"), 2.0, float("nan")], [[5.0, 5.0], [5.0, 5.0]]):
        values = np.array(values)  # float64 in both
        ours, theirs = nt.tensor(values, requires_grad=True), torch.tensor(values, requires_grad=True)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)  # backward warns that a NaN output is meaningless
            ours.max().backward()
            theirs.max().backward()
            np.testing.assert_array_equal(ours.grad.data, theirs.grad.numpy())
            for dim in range(values.ndim):
                ours.grad, theirs.grad = None, None
                ours.max(dim=dim).values.sum().backward()
                theirs.max(dim=dim).values.sum().backward()
                np.testing.assert_array_equal(ours.grad.data, theirs.grad.numpy())
