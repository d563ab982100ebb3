"""Lab 12 (attention): the wrong-answer table, graded in one batch by the real grader."""
from pathlib import Path

import pytest

from answer_table import check_hidden_share, check_table, check_variant, grade_variants, valid, wrong
from labs.grading.lab import load_lab

LAB = Path(__file__).parents[1] / "labs" / "12_attention"
JOIN = "return out.transpose(0, 2, 1, 3).reshape(B, T, C) @ wo, weights"

VARIANTS = [
    wrong("attention", "no 1/sqrt(d) scale", ("attn", "scores = (q @ k.transpose(*axes)) / np.sqrt(d)", "scores = q @ k.transpose(*axes)")),
    wrong("attention", "softmax over the queries", ("attn", "weights = scores.softmax(dim=-1)", "weights = scores.softmax(dim=-2)")),
    wrong("attention", "the mask ignored", ("attn", "        scores = scores + np.where(mask, -1e9, 0.0)\n", "        pass\n")),
    valid("attention", "masked_fill and swapaxes-like permutation",
          ("attn", "scores = scores + np.where(mask, -1e9, 0.0)", "scores = scores.masked_fill(nt.tensor(np.broadcast_to(mask, scores.shape)), -1e9)")),

    wrong("causal", "hides the diagonal too", ("mask", "k=1)", "k=0)")),
    wrong("causal", "hides the past", ("mask", "return np.triu(np.ones((T, T), dtype=bool), k=1)", "return np.tril(np.ones((T, T), dtype=bool), k=-1)")),
    valid("causal", "a comparison of positions", ("mask", "return np.triu(np.ones((T, T), dtype=bool), k=1)",
                                                  "return np.arange(T)[None, :] > np.arange(T)[:, None]")),

    wrong("multi_head", "heads by a plain reshape", ("mha", "return t.reshape(B, T, n_heads, C // n_heads).transpose(0, 2, 1, 3)",
                                                     "return t.reshape(B, n_heads, T, C // n_heads)")),
    wrong("multi_head", "no output projection", ("mha", JOIN, "return out.transpose(0, 2, 1, 3).reshape(B, T, C), weights")),
    wrong("multi_head", "never causal", ("mha", "mask = causal_mask(T) if causal else None", "mask = None")),
    valid("multi_head", "heads joined by concatenation", ("mha", JOIN, "return nt.cat([out[:, h] for h in range(n_heads)], dim=-1) @ wo, weights")),

    wrong("position", "sin and cos swapped", ("pos", "pe[:, 0::2], pe[:, 1::2] = np.sin(angle), np.cos(angle)", "pe[:, 0::2], pe[:, 1::2] = np.cos(angle), np.sin(angle)")),
    wrong("position", "the exponent counts channels", ("pos", "angle = t / 10000 ** (np.arange(0, d, 2) / d)", "angle = t / 10000 ** (2 * np.arange(0, d, 2) / d)")),
    valid("position", "a loop over channel pairs", ("pos", """    t = np.arange(T)[:, None]
    angle = t / 10000 ** (np.arange(0, d, 2) / d)
    pe = np.zeros((T, d))
    pe[:, 0::2], pe[:, 1::2] = np.sin(angle), np.cos(angle)
    return pe""", """    pe = np.zeros((T, d))
    for i in range(d // 2):
        angle = np.arange(T) / 10000 ** (2 * i / d)
        pe[:, 2 * i] = np.sin(angle)
        pe[:, 2 * i + 1] = np.cos(angle)
    return pe""")),
]
INDEPENDENT = [["attention", "causal", "multi_head", "position"]]


def test_hidden_tests_carry_half_the_points():
    check_hidden_share(LAB)


def test_every_exercise_has_its_rows():
    check_table(VARIANTS, load_lab(LAB).exercises())


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    return grade_variants(LAB, VARIANTS, tmp_path_factory.mktemp("lab12_answers"), INDEPENDENT)


@pytest.mark.slow
@pytest.mark.parametrize("variant", VARIANTS, ids=lambda variant: variant.id)
def test_variant(graded, variant):
    check_variant(LAB, graded, variant)
