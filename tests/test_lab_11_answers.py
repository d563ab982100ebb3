"""Lab 11 (word embeddings): the wrong-answer table, graded in one batch by the real grader."""
from pathlib import Path

from answer_tables import KEEPS, LOSES, answer, table_tests
from labs.grading.lab import load_lab

LAB = load_lab(Path(__file__).parents[1] / "labs" / "11_embeddings")
NEAREST = 'return [int(i) for i in np.argsort(-similarity, kind="stable") if i not in exclude][:k]'

ROWS = [
    answer(LAB, "vocab", "first-seen order", LOSES, ("words = sorted(counts, key=lambda w: (-counts[w], w))", "words = list(counts)")),
    answer(LAB, "vocab", "ties in reverse alphabetical order", LOSES, ("key=lambda w: (-counts[w], w))", "key=lambda w: (counts[w], w), reverse=True)")),
    answer(LAB, "vocab", "most_common, then a stable sort by count", KEEPS,
          ("words = sorted(counts, key=lambda w: (-counts[w], w))", "words = sorted(sorted(counts), key=counts.get, reverse=True)")),

    answer(LAB, "pairs", "only the nearest neighbours", LOSES, ("offsets = [o for o in range(-window, window + 1) if o != 0]", "offsets = [-1, 1]")),
    answer(LAB, "pairs", "the center paired with itself", LOSES, ("for o in range(-window, window + 1) if o != 0]", "for o in range(-window, window + 1)]")),
    answer(LAB, "pairs", "wraps around the ends", LOSES, ("for o in offsets if 0 <= i + o < len(ids)]", "for o in offsets]")),
    answer(LAB, "pairs", "a list of offsets written out", KEEPS, ("offsets = [o for o in range(-window, window + 1) if o != 0]",
                                                       "offsets = list(range(-window, 0)) + list(range(1, window + 1))")),

    answer(LAB, "loss", "summed over the batch", LOSES, ("return -(positive + negative).mean()", "return -(positive + negative).sum()")),
    answer(LAB, "loss", "negatives pushed up, not down", LOSES, ("(-(n * u.reshape(B, 1, D)).sum(dim=2)).sigmoid()", "(n * u.reshape(B, 1, D)).sum(dim=2).sigmoid()")),
    answer(LAB, "loss", "the gradient cut at the data", LOSES, ("return -(positive + negative).mean()", "return nt.tensor(-(positive + negative).mean().data)")),
    answer(LAB, "loss", "log of one minus the sigmoid", KEEPS, ("(-(n * u.reshape(B, 1, D)).sum(dim=2)).sigmoid().log()",
                                                    "(1 - (n * u.reshape(B, 1, D)).sum(dim=2).sigmoid()).log()")),

    answer(LAB, "near", "dot products, not cosines", LOSES, ("similarity = vectors @ query / (np.linalg.norm(vectors, axis=1) * np.linalg.norm(query))",
                                                      "similarity = vectors @ query")),
    answer(LAB, "near", "the analogy the wrong way round", LOSES, ("vectors[b] - vectors[a] + vectors[c]", "vectors[a] - vectors[b] + vectors[c]")),
    answer(LAB, "near", "the query words not left out", LOSES, ("return nearest(vectors, vectors[b] - vectors[a] + vectors[c], 1, exclude=(a, b, c))[0]",
                                                         "return nearest(vectors, vectors[b] - vectors[a] + vectors[c], 1)[0]")),
    answer(LAB, "near", "rows normalised first", KEEPS, ("similarity = vectors @ query / (np.linalg.norm(vectors, axis=1) * np.linalg.norm(query))",
                                                  "unit = vectors / np.linalg.norm(vectors, axis=1, keepdims=True)\n    similarity = unit @ (query / np.linalg.norm(query))")),

    answer(LAB, "onehot", "one-hot columns instead of rows", LOSES, ("return np.eye(size)[np.asarray(ids)]", "return np.eye(size)[:, np.asarray(ids)]")),
    answer(LAB, "onehot", "a lookup on .data: no gradient", LOSES, ("return nt.tensor(one_hot(ids, W.shape[0])) @ W", "return nt.tensor(one_hot(ids, W.shape[0]) @ W.data)")),
    answer(LAB, "onehot", "one-hot by assignment", KEEPS, ("return np.eye(size)[np.asarray(ids)]",
                                               "out = np.zeros((len(ids), size))\n    out[np.arange(len(ids)), ids] = 1\n    return out")),
]
INDEPENDENT = [LAB.exercises()]  # every test of this lab uses stand-ins for the other exercises

(test_every_exercise_has_wrong_answers_and_a_valid_alternative,
 test_the_points_the_text_states_and_hidden_tests_carry_half, grades, test_answer) = table_tests(LAB, ROWS, INDEPENDENT)


