"""Lab 7 (generalization): the wrong-answer table. Plausible wrong answers lose points in their own exercise only;
valid alternatives keep full marks (tests/answer_table.py grades them in one batch with the real grader)."""
from pathlib import Path

import pytest

from answer_table import check_hidden_share, check_table, check_variant, grade_variants, valid, wrong
from labs.grading.lab import load_lab

LAB = Path(__file__).parents[1] / "labs" / "07_generalization"
SPLIT = "return order[:n_train], order[n_train:n_train + n_val], order[n_train + n_val:]"
BEST = "best_params = [p.data.copy() for p in params]"

VARIANTS = [
    wrong("split", "no shuffle", ("split", "order = np.random.default_rng(seed).permutation(n)", "order = np.arange(n)")),
    wrong("split", "the test set overlaps validation",
          ("split", SPLIT, "return order[:n_train], order[n_train:n_train + n_val], order[n_train:]")),
    wrong("split", "a global seed instead of the generator",
          ("split", "order = np.random.default_rng(seed).permutation(n)", "np.random.seed(seed)\n    order = np.random.permutation(n)")),
    valid("split", "np.split at the two cut points",
          ("split", SPLIT, "train, val, test = np.split(order, [n_train, n_train + n_val])\n    return train, val, test")),

    wrong("batches", "drops the last short batch",
          ("batches", "for start in range(0, n, batch_size)]", "for start in range(0, n - batch_size + 1, batch_size)]")),
    wrong("batches", "no shuffle", ("batches", "order = rng.permutation(n)", "order = np.arange(n)")),
    valid("batches", "np.array_split at multiples of the batch size",
          ("batches", "return [order[start:start + batch_size] for start in range(0, n, batch_size)]",
           "return np.array_split(order, range(batch_size, n, batch_size))")),

    wrong("dropout", "no 1 / (1 - p) scaling", ("dropout", "mask = (np.random.random(x.shape) >= p) / (1 - p)",
                                                "mask = (np.random.random(x.shape) >= p) * 1.0")),
    wrong("dropout", "still on at evaluation", ("dropout", "if not training or p == 0:", "if p == 0:")),
    wrong("dropout", "the mask on .data: no gradient through it",
          ("dropout", "return x * mask", "return nt.tensor(x.data * mask, requires_grad=True)")),
    valid("dropout", "a boolean mask multiplied, then divided",
          ("dropout", "mask = (np.random.random(x.shape) >= p) / (1 - p)\n    return x * mask",
           "keep = np.random.random(x.shape) >= p\n    return x * keep / (1 - p)")),

    wrong("decay", "decay with the wrong sign", ("decay", "p.grad.data + weight_decay * p.data", "p.grad.data - weight_decay * p.data")),
    wrong("decay", "gradients never cleared", ("decay", "        p.grad = None\n", "")),
    valid("decay", "decay applied as a separate shrink",
          ("decay", "p.data -= lr * (p.grad.data + weight_decay * p.data)",
           "p.data *= 1 - lr * weight_decay\n        p.data -= lr * p.grad.data")),

    wrong("fit", "keeps the last weights, not the best", ("fit", "    for p, saved in zip(params, best_params):\n        p.data[...] = saved\n", "")),
    wrong("fit", "ignores patience", ("fit", "            if waited >= patience:\n                break\n", "")),
    wrong("fit", "best parameters not copied", ("fit", BEST, "best_params = [p.data for p in params]")),
    valid("fit", "copy.deepcopy of the best data",
          ("fit", BEST, "import copy\n            best_params = copy.deepcopy([p.data for p in params])")),
]
INDEPENDENT = [["split", "batches", "dropout", "decay", "fit"]]


def test_hidden_tests_carry_half_the_points():
    check_hidden_share(LAB)


def test_every_exercise_has_its_rows():
    check_table(VARIANTS, load_lab(LAB).exercises())


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    return grade_variants(LAB, VARIANTS, tmp_path_factory.mktemp("lab07_answers"), INDEPENDENT)


@pytest.mark.slow
@pytest.mark.parametrize("variant", VARIANTS, ids=lambda variant: variant.id)
def test_variant(graded, variant):
    check_variant(LAB, graded, variant)
