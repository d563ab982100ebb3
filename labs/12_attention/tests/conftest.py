"""Shared by lab 12's public and hidden tests (shipped with the public ones): the judge's own attention."""
import numpy as np
import pytest

import numtorch as nt


def attend(q, k, v, mask=None):
    """(out, weights) of scaled dot-product attention on judge-side tensors; mask True = hidden."""
    axes = tuple(range(len(k.shape) - 2)) + (len(k.shape) - 1, len(k.shape) - 2)
    scores = q @ k.transpose(*axes) / np.sqrt(q.shape[-1])
    if mask is not None:
        scores = scores + np.where(mask, -1e9, 0.0)
    weights = scores.softmax(dim=-1)
    return weights @ v, weights


def reference(q, k, v, mask, upstream):
    """out, weights and the gradients of sum(out * upstream) with respect to q, k and v."""
    tq, tk, tv = (nt.tensor(a, requires_grad=True) for a in (q, k, v))
    out, weights = attend(tq, tk, tv, mask)
    (out * upstream).sum().backward()
    return {"out": out.data, "weights": weights.data, "dq": tq.grad.data, "dk": tk.grad.data, "dv": tv.grad.data}


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
            assert np.allclose(got[key], expected[key], atol=1e-6), f"{what} of attention on shapes {q.shape} is wrong. Hint: {hint}"

    return check
