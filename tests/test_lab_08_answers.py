"""Lab 8 (activations and initialization): the wrong-answer table, graded in one batch by the real grader."""
from pathlib import Path

import pytest

from answer_table import check_hidden_share, check_table, check_variant, grade_variants, valid, wrong
from labs.grading.lab import load_lab

LAB = Path(__file__).parents[1] / "labs" / "08_activations_init"
STATS = "stats.append((float(h.data.mean()), float(h.data.std())))"

VARIANTS = [
    wrong("saturation", "thresholds the pre-activation", ("sat", "np.abs(np.tanh(pre)) > 0.99", "np.abs(pre) > 0.99")),
    wrong("saturation", "dead per example, not per unit",
          ("sat", "np.mean(np.all(pre <= 0, axis=0))", "np.mean(pre <= 0)")),
    wrong("saturation", "dead along the wrong axis", ("sat", "np.all(pre <= 0, axis=0)", "np.all(pre <= 0, axis=1)")),
    valid("saturation", "a count over the size, and ReLU computed",
          ("sat", "return float(np.mean(np.abs(np.tanh(pre)) > 0.99))",
           "return np.count_nonzero(np.abs(np.tanh(pre)) > 0.99) / pre.size"),
          ("sat", "return float(np.mean(np.all(pre <= 0, axis=0)))",
           "return float((np.maximum(pre, 0).max(axis=0) == 0).mean())")),

    wrong("init", "variance instead of standard deviation",
          ("init", "return float(np.sqrt(2.0 / (fan_in + fan_out)))", "return 2.0 / (fan_in + fan_out)")),
    wrong("init", "He from fan_out", ("init", "return float(np.sqrt(2.0 / fan_in))", "return float(np.sqrt(2.0 / fan_out))")),
    wrong("init", "weights not from the rng given",
          ("init", "return rng.normal(0.0, init_std(fan_in, fan_out, kind), size=(fan_in, fan_out))",
           "return np.random.normal(0.0, init_std(fan_in, fan_out, kind), size=(fan_in, fan_out))")),
    valid("init", "standard normals scaled",
          ("init", "return rng.normal(0.0, init_std(fan_in, fan_out, kind), size=(fan_in, fan_out))",
           "return init_std(fan_in, fan_out, kind) * rng.standard_normal((fan_in, fan_out))")),

    wrong("stats", "statistics of the pre-activations",
          ("stats", "h = act(layer(h))\n        stats", "pre = layer(h)\n        h = act(pre)\n        h_pre = pre\n        stats"),
          ("stats", STATS, "stats.append((float(h_pre.data.mean()), float(h_pre.data.std())))")),
    wrong("stats", "the variance, not the standard deviation", ("stats", "float(h.data.std())", "float(h.data.var())")),
    wrong("stats", "the std of the per-unit means", ("stats", "float(h.data.std())", "float(h.data.mean(axis=0).std())")),
    valid("stats", "NumPy on the data, a tuple of numpy floats",
          ("stats", STATS, "stats.append((np.mean(h.data), np.std(h.data)))")),

    wrong("grads", "the biases' gradients", ("grads", "layer.weight.grad.data.std()", "layer.bias.grad.data.std()")),
    wrong("grads", "no zeroing", ("grads", "        layer.zero_grad()\n", "")),
    wrong("grads", "the last layer first", ("grads", "for layer in layers]", "for layer in reversed(layers)]")),
    valid("grads", "a sum over the mean of squares, zeroing through parameters()",
          ("grads", "        layer.zero_grad()\n", "        for p in layer.parameters():\n            p.grad = None\n")),
]
INDEPENDENT = [["saturation", "init", "stats", "grads"]]


def test_hidden_tests_carry_half_the_points():
    check_hidden_share(LAB)


def test_every_exercise_has_its_rows():
    check_table(VARIANTS, load_lab(LAB).exercises())


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    return grade_variants(LAB, VARIANTS, tmp_path_factory.mktemp("lab08_answers"), INDEPENDENT)


@pytest.mark.slow
@pytest.mark.parametrize("variant", VARIANTS, ids=lambda variant: variant.id)
def test_variant(graded, variant):
    check_variant(LAB, graded, variant)
