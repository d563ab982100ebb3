"""Lab 12 (attention), public tests: the check cells run these; hidden tests try batches, masks and heads."""
import numpy as np
import pytest

HINT = ("scores = q @ k transposed over its last two axes, divided by sqrt(d); add -1e9 where the mask is True; "
        "softmax over the last axis (the keys); out = weights @ v; use tensor operations so the gradients flow.")


@pytest.mark.exercise("attention")
@pytest.mark.points(1)
def test_attention_one_sequence(check_attention):
    rng = np.random.default_rng(120)
    q, k, v = rng.normal(size=(3, 4)), rng.normal(size=(3, 4)), rng.normal(size=(3, 2))
    check_attention(q, k, v, None, HINT)


@pytest.mark.exercise("causal")
@pytest.mark.points(1)
def test_causal_mask_of_three(student):
    got = student.call("causal_mask", 3, hint="np.triu(np.ones((T, T), dtype=bool), k=1)")
    expected = np.array([[False, True, True], [False, False, True], [False, False, False]])
    assert np.shape(got) == (3, 3) and np.array_equal(np.asarray(got, dtype=bool), expected) and np.asarray(got).dtype == bool, (
        f"causal_mask(3) is {np.asarray(got).tolist()}, expected {expected.tolist()} (booleans). Hint: True above the "
        f"diagonal only: query i may see keys 0 … i.")


# Stand-ins for exercises 1 and 2 (every key weighted the same, no mask), so that this check of the heads' shapes
# does not depend on your attention and causal_mask.
UNIFORM = {
    "attention": "def attention(q, k, v, mask=None):\n    w = nt.tensor(np.ones(q.shape[:-1] + k.shape[-2:-1]) / k.shape[-2])\n"
                 "    return w @ v, w\n",
    "causal_mask": "def causal_mask(T):\n    return np.zeros((T, T), dtype=bool)\n",
}


@pytest.mark.exercise("multi_head")
@pytest.mark.points(1)
def test_multi_head_shapes(student):
    rng = np.random.default_rng(121)
    x, ws = rng.normal(size=(2, 5, 8)), [rng.normal(size=(8, 8)) for _ in range(4)]
    got = student.run("""
        out, weights = multi_head_attention(nt.tensor(x), *[nt.tensor(w) for w in ws], n_heads=2, causal=True)
        result = {"out": out.shape, "weights": weights.shape, "sums": weights.data.sum(axis=-1)}
    """, x=x, ws=ws, what="multi_head_attention(x of (2, 5, 8), ..., n_heads=2, causal=True)",
                      hint="split to (B, H, T, C/H), attend, join back to (B, T, C), then @ wo.", replace=UNIFORM)
    assert tuple(got["out"]) == (2, 5, 8), f"the output has shape {got['out']}, not (2, 5, 8). Hint: join the heads back to (B, T, C) and project with wo."
    assert tuple(got["weights"]) == (2, 2, 5, 5), f"the weights have shape {got['weights']}, not (B, H, T, T) = (2, 2, 5, 5). Hint: attend per head."
    assert np.allclose(got["sums"], 1), "each query's weights should sum to 1. Hint: softmax over the keys (the last axis)."


@pytest.mark.exercise("position")
@pytest.mark.points(1)
def test_positions_small(student):
    got = student.call("positional_encoding", 3, 4, hint="sin on even channels, cos on odd ones, angle t / 10000^(2i/d)")
    t = np.arange(3)[:, None]
    angle = t / 10000 ** (np.array([0, 2]) / 4)
    expected = np.stack([np.sin(angle[:, 0]), np.cos(angle[:, 0]), np.sin(angle[:, 1]), np.cos(angle[:, 1])], axis=1)
    assert np.shape(got) == (3, 4) and np.allclose(got, expected), (
        f"positional_encoding(3, 4) is {np.round(got, 4).tolist()}, expected {np.round(expected, 4).tolist()}. Hint: "
        f"PE[t, 2i] = sin(t / 10000^(2i/d)), PE[t, 2i+1] = cos of the same angle.")
