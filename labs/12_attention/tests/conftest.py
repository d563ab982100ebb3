"""Shared by lab 12's public and hidden tests (shipped with the public ones): the judge's attention in NumPy,
its gradients by central differences (your answer is written with tensor operations)."""
import numpy as np
import pytest


def attend(q, k, v, mask=None):
    """(out, weights) of scaled dot-product attention on arrays; mask True = hidden."""
    scores = np.matmul(q, np.swapaxes(k, -1, -2)) / np.sqrt(q.shape[-1])
    if mask is not None:
        scores = np.where(mask, -1e9, scores)
    weights = np.exp(scores - scores.max(axis=-1, keepdims=True))
    weights /= weights.sum(axis=-1, keepdims=True)
    return np.matmul(weights, v), weights


def numeric_grad(f, a, eps=1e-6):
    """d f / d a by central differences (f returns a number)."""
    g = np.zeros_like(a)
    for j in np.ndindex(a.shape):
        saved = a[j]
        a[j] = saved + eps
        up = f()
        a[j] = saved - eps
        g[j] = (up - f()) / (2 * eps)
        a[j] = saved
    return g


def reference(q, k, v, mask, upstream):
    """out, weights and the gradients of sum(out * upstream) with respect to q, k and v."""
    q, k, v = (np.array(a, dtype=float) for a in (q, k, v))
    out, weights = attend(q, k, v, mask)
    loss = lambda: np.sum(attend(q, k, v, mask)[0] * upstream)
    return {"out": out, "weights": weights, "dq": numeric_grad(loss, q), "dk": numeric_grad(loss, k),
            "dv": numeric_grad(loss, v)}


@pytest.fixture
def check_attention(student):
    """Run the student's attention(q, k, v, mask) and compare values and gradients with the reference."""

    def check(q, k, v, mask, hint, **options):
        upstream = np.random.default_rng(q.size).normal(size=q.shape[:-1] + v.shape[-1:])
        got = student.run("""
            tq, tk, tv = (nt.tensor(a, requires_grad=True) for a in (q, k, v))
            out, weights = attention(tq, tk, tv, mask)
            (out * upstream).sum().backward()
            result = {"out": out.data, "weights": weights.data, "dq": tq.grad.data, "dk": tk.grad.data, "dv": tv.grad.data}
        """, q=q, k=k, v=v, mask=mask, upstream=upstream, what=f"attention(q, k, v) on shapes {q.shape}",
                          hint=hint, **options)
        expected = reference(q, k, v, mask, upstream)
        for key, what in [("weights", "the weights"), ("out", "the output"), ("dv", "v's gradient"),
                          ("dq", "q's gradient"), ("dk", "k's gradient")]:
            assert np.shape(got[key]) == expected[key].shape, (
                f"{what} of attention on shapes {q.shape} has shape {np.shape(got[key])}, not {expected[key].shape}. Hint: {hint}")
            assert np.allclose(got[key], expected[key], atol=1e-5), f"{what} of attention on shapes {q.shape} is wrong. Hint: {hint}"

    return check
