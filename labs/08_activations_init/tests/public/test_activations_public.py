"""Lab 8 (activations and initialization), public tests; hidden tests try other sizes and networks."""
import numpy as np
import pytest

from labs.testing import close

@pytest.mark.exercise("saturation")
@pytest.mark.points(1)
def test_saturation_small(student):
    pre = np.array([[3.0, -0.5, -1.0], [-4.0, 0.2, -2.0]])
    sat = student.call("saturated_fraction", pre, hint="np.mean(np.abs(np.tanh(pre)) > 0.99)")
    dead = student.call("dead_fraction", pre, hint="a column is dead when every row of it is <= 0")
    assert close(sat, 2 / 6), f"saturated_fraction gives {sat} for {pre.tolist()}; 2 of the 6 entries have |tanh| > 0.99. Hint: threshold |tanh(pre)|, not pre."
    assert close(dead, 1 / 3), f"dead_fraction gives {dead} for {pre.tolist()}; 1 of the 3 columns is negative in every row. Hint: np.all(pre <= 0, axis=0), then the mean over columns."


@pytest.mark.exercise("init")
@pytest.mark.points(1)
def test_init_std_values(student):
    xavier = student.call("init_std", 100, 300, "xavier", hint="sqrt(2 / (fan_in + fan_out))")
    he = student.call("init_std", 50, 10, "he", hint="sqrt(2 / fan_in)")
    assert close(xavier, np.sqrt(2 / 400), 1e-9), f"init_std(100, 300, 'xavier') is {xavier}, not sqrt(2 / 400) = {np.sqrt(2 / 400):.5f}. Hint: the standard deviation is the square root of the variance."
    assert close(he, np.sqrt(2 / 50), 1e-9), f"init_std(50, 10, 'he') is {he}, not sqrt(2 / 50) = {np.sqrt(0.04):.4f}. Hint: He uses fan_in only."


@pytest.mark.exercise("stats")
@pytest.mark.points(1)
def test_stats_two_layers(student, reference_pass, layers_code):
    rng = np.random.default_rng(80)
    weights, x = [rng.normal(0, 0.3, size=(4, 4)) for _ in range(2)], rng.normal(size=(5, 4))
    got = student.run(layers_code + "result = activation_stats(layers, x, 'tanh')", weights=weights, x=x,
                      what="activation_stats(layers, x, 'tanh')", hint="apply the activation after every layer; mean and std over the whole batch.")
    acts, _ = reference_pass(weights, x, "tanh")
    expected = [(a.mean(), a.std()) for a in acts]
    assert isinstance(got, (list, tuple)) and len(got) == 2, f"activation_stats of 2 layers returned {got!r}. Hint: one (mean, std) pair per layer."
    assert np.allclose(np.array(got, dtype=float), expected, atol=1e-6), (
        f"activation_stats gives {np.round(np.array(got, dtype=float), 4).tolist()}, expected {np.round(expected, 4).tolist()}. "
        f"Hint: statistics of each layer's activations (after tanh), over every entry of the batch.")


@pytest.mark.exercise("grads")
@pytest.mark.points(1)
def test_grads_two_layers(student, reference_pass, layers_code):
    rng = np.random.default_rng(81)
    weights, x = [rng.normal(0, 0.5, size=(4, 4)) for _ in range(2)], rng.normal(size=(6, 4))
    got = student.run(layers_code + "result = [gradient_stds(layers, x, 'sigmoid'), gradient_stds(layers, x, 'sigmoid')]",
                      weights=weights, x=x, what="gradient_stds(layers, x, 'sigmoid'), twice",
                      hint="zero the grads, forward, (out ** 2).mean().backward(), then the std of each weight's grad.")
    _, grads = reference_pass(weights, x, "sigmoid")
    expected = [g.std() for g in grads]
    assert np.allclose(got[0], expected, atol=1e-9), f"gradient_stds gives {got[0]}, expected {expected}. Hint: the std of layer.weight.grad, first layer first, for the loss (output ** 2).mean()."
    assert np.allclose(got[1], expected, atol=1e-9), "a second call of gradient_stds gives other numbers. Hint: zero the layers' grads first (layer.zero_grad())."
