"""Lab 11 (word embeddings): the wrong-answer table, graded in one batch by the real grader."""
from pathlib import Path

import pytest

from answer_table import check_hidden_share, check_table, check_variant, grade_variants, valid, wrong
from labs.grading.lab import load_lab

LAB = Path(__file__).parents[1] / "labs" / "11_embeddings"
NEAREST = 'return [int(i) for i in np.argsort(-similarity, kind="stable") if i not in exclude][:k]'

VARIANTS = [
    wrong("vocab", "first-seen order", ("vocab", "words = sorted(counts, key=lambda w: (-counts[w], w))", "words = list(counts)")),
    wrong("vocab", "ties in reverse alphabetical order", ("vocab", "key=lambda w: (-counts[w], w))", "key=lambda w: (counts[w], w), reverse=True)")),
    valid("vocab", "most_common, then a stable sort by count",
          ("vocab", "words = sorted(counts, key=lambda w: (-counts[w], w))", "words = sorted(sorted(counts), key=counts.get, reverse=True)")),

    wrong("pairs", "only the nearest neighbours", ("pairs", "offsets = [o for o in range(-window, window + 1) if o != 0]", "offsets = [-1, 1]")),
    wrong("pairs", "the center paired with itself", ("pairs", "for o in range(-window, window + 1) if o != 0]", "for o in range(-window, window + 1)]")),
    wrong("pairs", "wraps around the ends", ("pairs", "for o in offsets if 0 <= i + o < len(ids)]", "for o in offsets]")),
    valid("pairs", "a list of offsets written out", ("pairs", "offsets = [o for o in range(-window, window + 1) if o != 0]",
                                                       "offsets = list(range(-window, 0)) + list(range(1, window + 1))")),

    wrong("loss", "summed over the batch", ("loss", "return -(positive + negative).mean()", "return -(positive + negative).sum()")),
    wrong("loss", "negatives pushed up, not down", ("loss", "(-(n * u.reshape(B, 1, D)).sum(dim=2)).sigmoid()", "(n * u.reshape(B, 1, D)).sum(dim=2).sigmoid()")),
    wrong("loss", "the gradient cut at the data", ("loss", "return -(positive + negative).mean()", "return nt.tensor(-(positive + negative).mean().data)")),
    valid("loss", "log of one minus the sigmoid", ("loss", "(-(n * u.reshape(B, 1, D)).sum(dim=2)).sigmoid().log()",
                                                    "(1 - (n * u.reshape(B, 1, D)).sum(dim=2).sigmoid()).log()")),

    wrong("neighbours", "dot products, not cosines", ("near", "similarity = vectors @ query / (np.linalg.norm(vectors, axis=1) * np.linalg.norm(query))",
                                                      "similarity = vectors @ query")),
    wrong("neighbours", "the analogy the wrong way round", ("near", "vectors[b] - vectors[a] + vectors[c]", "vectors[a] - vectors[b] + vectors[c]")),
    wrong("neighbours", "the query words not left out", ("near", "return nearest(vectors, vectors[b] - vectors[a] + vectors[c], 1, exclude=(a, b, c))[0]",
                                                         "return nearest(vectors, vectors[b] - vectors[a] + vectors[c], 1)[0]")),
    valid("neighbours", "rows normalised first", ("near", "similarity = vectors @ query / (np.linalg.norm(vectors, axis=1) * np.linalg.norm(query))",
                                                  "unit = vectors / np.linalg.norm(vectors, axis=1, keepdims=True)\n    similarity = unit @ (query / np.linalg.norm(query))")),

    wrong("onehot", "one-hot columns instead of rows", ("onehot", "return np.eye(size)[np.asarray(ids)]", "return np.eye(size)[:, np.asarray(ids)]")),
    wrong("onehot", "a lookup on .data: no gradient", ("onehot", "return nt.tensor(one_hot(ids, W.shape[0])) @ W", "return nt.tensor(one_hot(ids, W.shape[0]) @ W.data)")),
    valid("onehot", "one-hot by assignment", ("onehot", "return np.eye(size)[np.asarray(ids)]",
                                               "out = np.zeros((len(ids), size))\n    out[np.arange(len(ids)), ids] = 1\n    return out")),
]
INDEPENDENT = [["vocab", "pairs", "loss", "neighbours", "onehot"]]


def test_hidden_tests_carry_half_the_points():
    check_hidden_share(LAB)


def test_every_exercise_has_its_rows():
    check_table(VARIANTS, load_lab(LAB).exercises())


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    return grade_variants(LAB, VARIANTS, tmp_path_factory.mktemp("lab11_answers"), INDEPENDENT)


@pytest.mark.slow
@pytest.mark.parametrize("variant", VARIANTS, ids=lambda variant: variant.id)
def test_variant(graded, variant):
    check_variant(LAB, graded, variant)
