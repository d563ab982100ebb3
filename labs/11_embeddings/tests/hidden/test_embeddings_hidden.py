"""Lab 11 (embeddings), hidden tests: random token lists, windows, batches and vector sets."""
from collections import Counter

import numpy as np
import pytest

LOSS_HINT = ("-log sigmoid(u·v) - sum over k of log sigmoid(-u·n_k) (note the minus inside the negatives' sigmoid), "
             "averaged over the batch (mean, not sum).")


@pytest.mark.exercise("vocab")
@pytest.mark.points(1)
def test_vocab_random(student, rng):
    letters = [str(w) for w in rng.choice(["ox", "ant", "bee", "cat", "dog", "eel", "fox", "gnu"], size=int(rng.integers(20, 80)))]
    got = student.run("""
        words, index = build_vocab(tokens)
        result = {"words": list(words), "index": dict(index), "ids": encode(tokens, index)}
    """, tokens=letters, what="build_vocab on random tokens", hint="sorted by (-count, word); index maps each word to its position.")
    counts = Counter(letters)
    words = sorted(counts, key=lambda w: (-counts[w], w))
    assert got["words"] == words, f"build_vocab gives {got['words']}, expected {words}. Hint: most frequent first, ties alphabetically (not in first-seen order)."
    assert got["index"] == {w: i for i, w in enumerate(words)}, "the index does not match the word list. Hint: index[word] is its position in words."
    assert np.array_equal(got["ids"], [words.index(t) for t in letters]), "encode gives the wrong ids. Hint: index[token], in token order."


@pytest.mark.exercise("pairs")
@pytest.mark.points(2)
def test_pairs_random(student, rng):
    for window in (1, 2, 3):
        ids = rng.integers(0, 50, size=int(rng.integers(2, 12)))
        got = student.call("skipgram_pairs", ids, window, hint="all offsets from -window to window except 0, in order, no wrapping.")
        expected = [(ids[i], ids[i + o]) for i in range(len(ids)) for o in list(range(-window, 0)) + list(range(1, window + 1))
                    if 0 <= i + o < len(ids)]
        assert np.shape(got) == (len(expected), 2), (
            f"skipgram_pairs of {len(ids)} ids with window {window} gives {len(got)} pairs, expected {len(expected)}. Hint: "
            f"every offset up to the window on both sides, none outside the sequence, and never the center itself.")
        assert np.array_equal(got, expected), (
            f"skipgram_pairs of {len(ids)} ids with window {window} is not in the expected order. Hint: position by "
            f"position, the offsets -window … -1 then 1 … window.")


@pytest.mark.exercise("loss")
@pytest.mark.points(2)
def test_loss_random(check_loss, rng):
    for B, K, D in [(int(rng.integers(2, 9)), int(rng.integers(1, 6)), int(rng.integers(2, 8))), (1, 1, 3), (16, 5, 4)]:
        check_loss(rng.normal(size=(B, D)), rng.normal(size=(B, D)), rng.normal(size=(B, K, D)), LOSS_HINT)


@pytest.mark.exercise("neighbours")
@pytest.mark.points(2)
def test_nearest_and_analogy_random(student, rng):
    vectors = rng.normal(size=(30, 6)) * rng.uniform(0.1, 10, size=(30, 1))
    query, exclude = rng.normal(size=6), tuple(int(i) for i in rng.choice(30, size=3, replace=False))
    a, b, c = (int(i) for i in rng.choice(30, size=3, replace=False))
    got = student.run("result = [nearest(vectors, query, 5, exclude), analogy(vectors, a, b, c)]", vectors=vectors,
                      query=query, exclude=exclude, a=a, b=b, c=c, what="nearest and analogy on random vectors",
                      hint="cosine similarity = a·b / (|a| |b|); analogy: nearest to vectors[b] - vectors[a] + vectors[c].")
    similarity = vectors @ query / (np.linalg.norm(vectors, axis=1) * np.linalg.norm(query))
    expected = [int(i) for i in np.argsort(-similarity) if i not in exclude][:5]
    assert list(got[0]) == expected, (f"nearest gives {list(got[0])}, expected {expected}. Hint: rank by cosine similarity "
                                     f"(vectors have different lengths here), best first, skipping the excluded ids.")
    target = vectors[b] - vectors[a] + vectors[c]
    similarity = vectors @ target / (np.linalg.norm(vectors, axis=1) * np.linalg.norm(target))
    best = [int(i) for i in np.argsort(-similarity) if i not in (a, b, c)][0]
    assert int(got[1]) == best, (f"analogy(vectors, {a}, {b}, {c}) is {got[1]}, expected {best}. Hint: the nearest to "
                                 f"b - a + c, leaving out a, b and c themselves.")


@pytest.mark.exercise("onehot")
@pytest.mark.points(1)
def test_one_hot_random(student, rng):
    V, D = int(rng.integers(3, 20)), int(rng.integers(1, 6))
    ids, W, upstream = rng.integers(0, V, size=int(rng.integers(1, 12))), rng.normal(size=(V, D)), None
    upstream = rng.normal(size=(len(ids), D))
    got = student.run("""
        tW = nt.tensor(W, requires_grad=True)
        out = embed_by_matmul(ids, tW)
        (out * upstream).sum().backward()
        result = {"hot": one_hot(ids, V), "out": out.data, "grad": tW.grad.data}
    """, ids=ids, W=W, V=V, upstream=upstream, what="one_hot and embed_by_matmul on random ids",
                      hint="np.eye(size)[ids] has one row per id; embed_by_matmul multiplies it by W.")
    assert np.array_equal(got["hot"], np.eye(V)[ids]), "one_hot is wrong. Hint: shape (len(ids), size), a 1 at [j, ids[j]]."
    assert np.allclose(got["out"], W[ids]), "embed_by_matmul is not W[ids]. Hint: one_hot(ids, W.shape[0]) @ W."
    grad = np.zeros_like(W)
    np.add.at(grad, ids, upstream)
    assert np.allclose(got["grad"], grad), "the gradient of embed_by_matmul is wrong. Hint: a tensor matmul; repeated ids add up."
