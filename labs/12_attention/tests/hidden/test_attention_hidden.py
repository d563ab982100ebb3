"""Lab 12 (attention), hidden tests: batches, heads, random masks and sizes; downstream exercises run with the
reference versions of the ones before them (`replace=`), so one bug costs one exercise."""
import numpy as np
import pytest

import numtorch as nt

HINT = ("scores = q @ k transposed over its last two axes, divided by sqrt(d) (d = q's last size); add -1e9 "
        "where the mask is True; softmax over the last axis (the keys); out = weights @ v.")
UNAVAILABLE = ("numtorch.layers.MultiHeadAttention.forward",)
REFERENCE = {
    "attention": '''
def attention(q, k, v, mask=None):
    axes = tuple(range(len(k.shape) - 2)) + (len(k.shape) - 1, len(k.shape) - 2)
    scores = (q @ k.transpose(*axes)) / np.sqrt(q.shape[-1])
    if mask is not None:
        scores = scores + np.where(mask, -1e9, 0.0)
    weights = scores.softmax(dim=-1)
    return weights @ v, weights
''',
    "causal_mask": '''
def causal_mask(T):
    return np.triu(np.ones((T, T), dtype=bool), k=1)
''',
}


@pytest.mark.exercise("attention")
@pytest.mark.points(2)
def test_attention_batched_and_scaled(rng, check_attention):
    for shape_q, shape_k, d_v in [((2, 3, 5, 16), (2, 3, 7, 16), 3), ((4, 6, 64), (4, 6, 64), 64), ((1, 1), (4, 1), 2)]:
        q, k = rng.normal(size=shape_q), rng.normal(size=shape_k)
        v = rng.normal(size=shape_k[:-1] + (d_v,))
        check_attention(q, k, v, None, HINT, unavailable=UNAVAILABLE)


@pytest.mark.exercise("attention")
@pytest.mark.points(1)
def test_attention_with_random_masks(rng, check_attention):
    for T in (4, 9):
        q, k, v = rng.normal(size=(2, T, 8)), rng.normal(size=(2, T, 8)), rng.normal(size=(2, T, 8))
        mask = rng.random((T, T)) < 0.4
        mask[np.arange(T), rng.integers(T, size=T)] = False  # every query keeps at least one key
        check_attention(q, k, v, mask, HINT + " The mask hides where it is True, whatever its pattern.",
                        unavailable=UNAVAILABLE)


@pytest.mark.exercise("causal")
@pytest.mark.points(2)
def test_causal_masks_and_their_weights(student, rng):
    for T in (1, int(rng.integers(2, 9)), int(rng.integers(10, 40))):
        got = student.run("""
            m = causal_mask(T)
            x = nt.tensor(np.random.default_rng(T).normal(size=(T, 4)))
            result = {"mask": m, "weights": attention(x, x, x, m)[1].data}
        """, T=T, what=f"causal_mask({T})", hint="True above the diagonal (key j after query i), a boolean (T, T) array.",
                          replace={"attention": REFERENCE["attention"]})
        expected = np.triu(np.ones((T, T), dtype=bool), k=1)
        assert np.shape(got["mask"]) == (T, T) and np.array_equal(np.asarray(got["mask"], dtype=bool), expected), (
            f"causal_mask({T}) is not True exactly above the diagonal. Hint: query i may look at keys 0 … i (the diagonal "
            f"included); np.triu(..., k=1).")
        assert np.allclose(np.triu(got["weights"], k=1), 0) and np.allclose(got["weights"].sum(axis=-1), 1), (
            f"with causal_mask({T}) attention still looks into the future. Hint: return booleans, True for the future.")


@pytest.mark.exercise("multi_head")
@pytest.mark.points(3)
def test_multi_head_against_reference(student, rng):
    for n_heads, causal in [(1, False), (2, True), (4, True), (4, False)]:
        B, T, C = int(rng.integers(1, 4)), int(rng.integers(2, 7)), 8
        x, ws = rng.normal(size=(B, T, C)), [rng.normal(size=(C, C)) / np.sqrt(C) for _ in range(4)]
        upstream = rng.normal(size=(B, T, C))
        got = student.run("""
            tx, tws = nt.tensor(x, requires_grad=True), [nt.tensor(w, requires_grad=True) for w in ws]
            out, weights = multi_head_attention(tx, *tws, n_heads=n_heads, causal=causal)
            (out * upstream).sum().backward()
            result = {"out": out.data, "weights": weights.data, "dx": tx.grad.data, "dws": [w.grad.data for w in tws]}
        """, x=x, ws=ws, upstream=upstream, n_heads=n_heads, causal=causal,
                          what=f"multi_head_attention with {n_heads} heads (causal={causal})",
                          hint="reshape to (B, T, H, C/H) then transpose to (B, H, T, C/H); attend; transpose back, "
                               "reshape to (B, T, C), then @ wo.", replace=REFERENCE, unavailable=UNAVAILABLE)
        expected = reference_heads(x, ws, upstream, n_heads, causal)
        assert np.shape(got["weights"]) == expected["weights"].shape and np.allclose(got["weights"], expected["weights"], atol=1e-6), (
            f"with {n_heads} heads (causal={causal}) the attention weights differ from the reference. Hint: split the "
            f"channels into heads with reshape(B, T, H, C // H) and transpose(0, 2, 1, 3) (a plain reshape to "
            f"(B, H, T, C/H) mixes positions), use causal_mask(T) only when causal, and project with wo.")
        assert np.allclose(got["out"], expected["out"], atol=1e-6), (
            f"with {n_heads} heads (causal={causal}) the output differs from the reference. Hint: join the heads with "
            f"transpose(0, 2, 1, 3) then reshape(B, T, C), and multiply by wo.")
        assert all(np.allclose(g, e, atol=1e-6) for g, e in zip(got["dws"], expected["dws"])) and np.allclose(
            got["dx"], expected["dx"], atol=1e-6), (
            f"with {n_heads} heads the gradients differ from the reference. Hint: build everything from tensor "
            f"operations on x and the weights (no .data, no NumPy in between).")


def reference_heads(x, ws, upstream, n_heads, causal):
    """The judge's multi-head attention: outputs and the gradients of sum(out * upstream)."""
    B, T, C = x.shape
    tx, tws = nt.tensor(x, requires_grad=True), [nt.tensor(w, requires_grad=True) for w in ws]
    heads = [(tx @ w).reshape(B, T, n_heads, C // n_heads).transpose(0, 2, 1, 3) for w in tws[:3]]
    scores = heads[0] @ heads[1].transpose(0, 1, 3, 2) / np.sqrt(C // n_heads)
    if causal:
        scores = scores + np.where(np.triu(np.ones((T, T), dtype=bool), k=1), -1e9, 0.0)
    weights = scores.softmax(dim=-1)
    out = (weights @ heads[2]).transpose(0, 2, 1, 3).reshape(B, T, C) @ tws[3]
    (out * upstream).sum().backward()
    return {"out": out.data, "weights": weights.data, "dx": tx.grad.data, "dws": [w.grad.data for w in tws]}


@pytest.mark.exercise("position")
@pytest.mark.points(1)
def test_positions_random_sizes(student, rng):
    for _ in range(3):
        T, d = int(rng.integers(1, 60)), 2 * int(rng.integers(1, 40))
        got = student.call("positional_encoding", T, d, hint="sin on channels 0, 2, 4 …, cos on 1, 3, 5 …")
        angle = np.arange(T)[:, None] / 10000 ** (np.arange(0, d, 2) / d)
        expected = np.zeros((T, d))
        expected[:, 0::2], expected[:, 1::2] = np.sin(angle), np.cos(angle)
        assert np.shape(got) == (T, d) and np.allclose(got, expected), (
            f"positional_encoding({T}, {d}) differs from sin/cos of t / 10000^(2i/d). Hint: channel pair i uses the "
            f"exponent 2i / d (i counts pairs, not channels); sin goes to the even channel, cos to the odd one.")
