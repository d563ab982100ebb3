"""Lab 7 (generalization): the wrong-answer table. Plausible wrong answers lose points in their own exercise only;
valid alternatives keep full marks (tests/answer_tables.py grades them in one batch with the real grader)."""
from pathlib import Path

from answer_tables import KEEPS, LOSES, answer, table_tests
from labs.grading.lab import load_lab

LAB = load_lab(Path(__file__).parents[1] / "labs" / "07_generalization")
SPLIT = "return order[:n_train], order[n_train:n_train + n_val], order[n_train + n_val:]"
BEST = "best_params = [p.data.copy() for p in params]"

ROWS = [
    answer(LAB, "split", "no shuffle", LOSES, ("order = np.random.default_rng(seed).permutation(n)", "order = np.arange(n)")),
    answer(LAB, "split", "the test set overlaps validation", LOSES,
          (SPLIT, "return order[:n_train], order[n_train:n_train + n_val], order[n_train:]")),
    answer(LAB, "split", "a global seed instead of the generator", LOSES,
          ("order = np.random.default_rng(seed).permutation(n)", "np.random.seed(seed)\n    order = np.random.permutation(n)")),
    answer(LAB, "split", "np.split at the two cut points", KEEPS,
          (SPLIT, "train, val, test = np.split(order, [n_train, n_train + n_val])\n    return train, val, test")),

    answer(LAB, "batches", "drops the last short batch", LOSES,
          ("for start in range(0, n, batch_size)]", "for start in range(0, n - batch_size + 1, batch_size)]")),
    answer(LAB, "batches", "no shuffle", LOSES, ("order = rng.permutation(n)", "order = np.arange(n)")),
    answer(LAB, "batches", "np.array_split at multiples of the batch size", KEEPS,
          ("return [order[start:start + batch_size] for start in range(0, n, batch_size)]",
           "return np.array_split(order, range(batch_size, n, batch_size))")),

    answer(LAB, "dropout", "no 1 / (1 - p) scaling", LOSES, ("mask = (np.random.random(x.shape) >= p) / (1 - p)",
                                                "mask = (np.random.random(x.shape) >= p) * 1.0")),
    answer(LAB, "dropout", "still on at evaluation", LOSES, ("if not training or p == 0:", "if p == 0:")),
    answer(LAB, "dropout", "the mask on .data: no gradient through it", LOSES,
          ("return x * mask", "return nt.tensor(x.data * mask, requires_grad=True)")),
    answer(LAB, "dropout", "a boolean mask multiplied, then divided", KEEPS,
          ("mask = (np.random.random(x.shape) >= p) / (1 - p)\n    return x * mask",
           "keep = np.random.random(x.shape) >= p\n    return x * keep / (1 - p)")),

    answer(LAB, "decay", "decay with the wrong sign", LOSES, ("p.grad.data + weight_decay * p.data", "p.grad.data - weight_decay * p.data")),
    answer(LAB, "decay", "gradients never cleared", LOSES, ("        p.grad = None\n", "")),
    answer(LAB, "decay", "decay applied as a separate shrink", KEEPS,
          ("p.data -= lr * (p.grad.data + weight_decay * p.data)",
           "p.data *= 1 - lr * weight_decay\n        p.data -= lr * p.grad.data")),

    answer(LAB, "fit", "keeps the last weights, not the best", LOSES, ("    for p, saved in zip(params, best_params):\n        p.data[...] = saved\n", "")),
    answer(LAB, "fit", "ignores patience", LOSES, ("            if waited >= patience:\n                break\n", "")),
    answer(LAB, "fit", "best parameters not copied", LOSES, (BEST, "best_params = [p.data for p in params]")),
    answer(LAB, "fit", "copy.deepcopy of the best data", KEEPS,
          (BEST, "import copy\n            best_params = copy.deepcopy([p.data for p in params])")),
]
INDEPENDENT = [LAB.exercises()]  # every test of this lab uses stand-ins for the other exercises

(test_every_exercise_has_wrong_answers_and_a_valid_alternative,
 test_the_points_the_text_states_and_hidden_tests_carry_half, grades, test_answer) = table_tests(LAB, ROWS, INDEPENDENT)


