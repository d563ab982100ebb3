"""Lab 8 (activations and initialization): the wrong-answer table, graded in one batch by the real grader."""
from pathlib import Path

from answer_tables import KEEPS, LOSES, answer, table_tests
from labs.grading.lab import load_lab

LAB = load_lab(Path(__file__).parents[1] / "labs" / "08_activations_init")
STATS = "stats.append((float(h.data.mean()), float(h.data.std())))"

ROWS = [
    answer(LAB, "sat", "thresholds the pre-activation", LOSES, ("np.abs(np.tanh(pre)) > 0.99", "np.abs(pre) > 0.99")),
    answer(LAB, "sat", "dead per example, not per unit", LOSES,
          ("np.mean(np.all(pre <= 0, axis=0))", "np.mean(pre <= 0)")),
    answer(LAB, "sat", "dead along the wrong axis", LOSES, ("np.all(pre <= 0, axis=0)", "np.all(pre <= 0, axis=1)")),
    answer(LAB, "sat", "a count over the size, and ReLU computed", KEEPS,
          ("return float(np.mean(np.abs(np.tanh(pre)) > 0.99))",
           "return np.count_nonzero(np.abs(np.tanh(pre)) > 0.99) / pre.size"),
          ("return float(np.mean(np.all(pre <= 0, axis=0)))",
           "return float((np.maximum(pre, 0).max(axis=0) == 0).mean())")),

    answer(LAB, "init", "variance instead of standard deviation", LOSES,
          ("return float(np.sqrt(2.0 / (fan_in + fan_out)))", "return 2.0 / (fan_in + fan_out)")),
    answer(LAB, "init", "He from fan_out", LOSES, ("return float(np.sqrt(2.0 / fan_in))", "return float(np.sqrt(2.0 / fan_out))")),
    answer(LAB, "init", "weights not from the rng given", LOSES,
          ("return rng.normal(0.0, init_std(fan_in, fan_out, kind), size=(fan_in, fan_out))",
           "return np.random.normal(0.0, init_std(fan_in, fan_out, kind), size=(fan_in, fan_out))")),
    answer(LAB, "init", "standard normals scaled", KEEPS,
          ("return rng.normal(0.0, init_std(fan_in, fan_out, kind), size=(fan_in, fan_out))",
           "return init_std(fan_in, fan_out, kind) * rng.standard_normal((fan_in, fan_out))")),

    answer(LAB, "stats", "statistics of the pre-activations", LOSES,
          ("h = act(layer(h))\n        stats", "pre = layer(h)\n        h = act(pre)\n        h_pre = pre\n        stats"),
          (STATS, "stats.append((float(h_pre.data.mean()), float(h_pre.data.std())))")),
    answer(LAB, "stats", "the variance, not the standard deviation", LOSES, ("float(h.data.std())", "float(h.data.var())")),
    answer(LAB, "stats", "the std of the per-unit means", LOSES, ("float(h.data.std())", "float(h.data.mean(axis=0).std())")),
    answer(LAB, "stats", "NumPy on the data, a tuple of numpy floats", KEEPS,
          (STATS, "stats.append((np.mean(h.data), np.std(h.data)))")),

    answer(LAB, "grads", "the biases' gradients", LOSES, ("layer.weight.grad.data.std()", "layer.bias.grad.data.std()")),
    answer(LAB, "grads", "no zeroing", LOSES, ("        layer.zero_grad()\n", "")),
    answer(LAB, "grads", "the last layer first", LOSES, ("for layer in layers]", "for layer in reversed(layers)]")),
    answer(LAB, "grads", "a sum over the mean of squares, zeroing through parameters()", KEEPS,
          ("        layer.zero_grad()\n", "        for p in layer.parameters():\n            p.grad = None\n")),
]
INDEPENDENT = [LAB.exercises()]  # every test of this lab uses stand-ins for the other exercises

(test_every_exercise_has_wrong_answers_and_a_valid_alternative,
 test_the_points_the_text_states_and_hidden_tests_carry_half, grades, test_answer) = table_tests(LAB, ROWS, INDEPENDENT)


