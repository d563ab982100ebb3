"""Lab 11 (embeddings), public tests: the check cells run these; hidden tests try other data at grading."""
import numpy as np
import pytest

LOSS_HINT = ("-log sigmoid(u·v) - sum over k of log sigmoid(-u·n_k), averaged over the batch, with tensor operations "
             "so that the gradients flow.")


@pytest.mark.exercise("vocab")
@pytest.mark.points(1)
def test_vocab_small(student):
    got = student.run("""
        words, index = build_vocab(["b", "a", "c", "a", "b", "a", "d"])
        result = {"words": list(words), "index": dict(index), "ids": encode(["d", "a"], index)}
    """, what="build_vocab of 7 tokens", hint="sort by count (most first), then alphabetically.")
    assert got["words"] == ["a", "b", "c", "d"], f"build_vocab gives {got['words']}, not ['a', 'b', 'c', 'd']. Hint: most frequent first; equal counts alphabetically."
    assert got["index"] == {"a": 0, "b": 1, "c": 2, "d": 3}, f"the index is {got['index']}. Hint: {{word: position in words}}."
    assert np.array_equal(got["ids"], [3, 0]), f"encode(['d', 'a'], index) is {got['ids']}, not [3, 0]. Hint: index[token] for each token."


@pytest.mark.exercise("pairs")
@pytest.mark.points(1)
def test_pairs_small(student):
    got = student.call("skipgram_pairs", np.array([5, 6, 7]), 1, hint="offsets -1 then 1 around each position, inside the sequence.")
    expected = [[5, 6], [6, 5], [6, 7], [7, 6]]
    assert np.shape(got) == (4, 2) and np.array_equal(got, expected), (
        f"skipgram_pairs([5, 6, 7], 1) is {np.asarray(got).tolist()}, not {expected}. Hint: for each position, the offsets "
        f"-window … -1 then 1 … window, skipping those outside the sequence.")


@pytest.mark.exercise("loss")
@pytest.mark.points(1)
def test_loss_small(check_loss):
    rng = np.random.default_rng(110)
    check_loss(rng.normal(size=(3, 4)), rng.normal(size=(3, 4)), rng.normal(size=(3, 2, 4)), LOSS_HINT)


@pytest.mark.exercise("neighbours")
@pytest.mark.points(1)
def test_nearest_small(student):
    vectors = np.array([[1.0, 0.0], [10.0, 1.0], [0.0, 1.0], [-1.0, 0.0]])
    got = student.call("nearest", vectors, np.array([1.0, 0.1]), 2, (0,), hint="cosine similarity, best first, without the excluded ids.")
    assert list(got) == [1, 2], f"nearest(…, [1, 0.1], 2, exclude=(0,)) is {list(got)}, not [1, 2]. Hint: cosine similarity ignores length: divide by both norms."


@pytest.mark.exercise("onehot")
@pytest.mark.points(1)
def test_one_hot_small(student):
    got = student.run("""
        W = nt.tensor(np.arange(12.0).reshape(4, 3), requires_grad=True)
        out = embed_by_matmul([2, 0, 2], W)
        out.sum().backward()
        result = {"hot": one_hot([1, 3], 4), "out": out.data, "grad": W.grad.data}
    """, what="one_hot and embed_by_matmul", hint="np.eye(size)[ids]; then nt.tensor(one_hot(...)) @ W.")
    assert np.array_equal(got["hot"], [[0, 1, 0, 0], [0, 0, 0, 1]]), f"one_hot([1, 3], 4) is {np.asarray(got['hot']).tolist()}. Hint: one row per id, a 1 in column id."
    assert np.array_equal(got["out"], np.arange(12.0).reshape(4, 3)[[2, 0, 2]]), "embed_by_matmul gives other rows than W[ids]. Hint: one_hot(ids, W.shape[0]) @ W."
    assert np.array_equal(got["grad"], [[1, 1, 1], [0, 0, 0], [2, 2, 2], [0, 0, 0]]), "the gradient of embed_by_matmul is wrong. Hint: use a tensor matmul so the gradient reaches W."
