"""Lab 12 (attention): the wrong-answer table, graded in one batch by the real grader."""
from pathlib import Path

from answer_tables import KEEPS, LOSES, answer, table_tests
from labs.grading.lab import load_lab

LAB = load_lab(Path(__file__).parents[1] / "labs" / "12_attention")
JOIN = "return out.transpose(0, 2, 1, 3).reshape(B, T, C) @ wo, weights"

ROWS = [
    answer(LAB, "attn", "no 1/sqrt(d) scale", LOSES, ("scores = (q @ k.transpose(*axes)) / np.sqrt(d)", "scores = q @ k.transpose(*axes)")),
    answer(LAB, "attn", "softmax over the queries", LOSES, ("weights = scores.softmax(dim=-1)", "weights = scores.softmax(dim=-2)")),
    answer(LAB, "attn", "the mask ignored", LOSES, ("        scores = scores + np.where(mask, -1e9, 0.0)\n", "        pass\n")),
    answer(LAB, "attn", "masked_fill and swapaxes-like permutation", KEEPS,
          ("scores = scores + np.where(mask, -1e9, 0.0)", "scores = scores.masked_fill(nt.tensor(np.broadcast_to(mask, scores.shape)), -1e9)")),

    answer(LAB, "mask", "hides the diagonal too", LOSES, ("k=1)", "k=0)")),
    answer(LAB, "mask", "hides the past", LOSES, ("return np.triu(np.ones((T, T), dtype=bool), k=1)", "return np.tril(np.ones((T, T), dtype=bool), k=-1)")),
    answer(LAB, "mask", "a comparison of positions", KEEPS, ("return np.triu(np.ones((T, T), dtype=bool), k=1)",
                                                  "return np.arange(T)[None, :] > np.arange(T)[:, None]")),

    answer(LAB, "mha", "heads by a plain reshape", LOSES, ("return t.reshape(B, T, n_heads, C // n_heads).transpose(0, 2, 1, 3)",
                                                     "return t.reshape(B, n_heads, T, C // n_heads)")),
    answer(LAB, "mha", "no output projection", LOSES, (JOIN, "return out.transpose(0, 2, 1, 3).reshape(B, T, C), weights")),
    answer(LAB, "mha", "never causal", LOSES, ("mask = causal_mask(T) if causal else None", "mask = None")),
    answer(LAB, "mha", "heads joined by concatenation", KEEPS, (JOIN, "return nt.cat([out[:, h] for h in range(n_heads)], dim=-1) @ wo, weights")),

    answer(LAB, "pos", "sin and cos swapped", LOSES, ("pe[:, 0::2], pe[:, 1::2] = np.sin(angle), np.cos(angle)", "pe[:, 0::2], pe[:, 1::2] = np.cos(angle), np.sin(angle)")),
    answer(LAB, "pos", "the exponent counts channels", LOSES, ("angle = t / 10000 ** (np.arange(0, d, 2) / d)", "angle = t / 10000 ** (2 * np.arange(0, d, 2) / d)")),
    answer(LAB, "pos", "a loop over channel pairs", KEEPS, ("""    t = np.arange(T)[:, None]
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
INDEPENDENT = [LAB.exercises()]  # every test of this lab uses stand-ins for the other exercises

(test_every_exercise_has_wrong_answers_and_a_valid_alternative,
 test_the_points_the_text_states_and_hidden_tests_carry_half, grades, test_answer) = table_tests(LAB, ROWS, INDEPENDENT)


