"""Lab 8 (activations and initialization), hidden tests: random batches, sizes and deep networks."""
import numpy as np
import pytest

from labs.testing import close


@pytest.mark.exercise("saturation")
@pytest.mark.points(2)
def test_saturation_random(student, rng):
    for scale in (0.5, 2.0, 4.0):
        pre = rng.normal(-0.5, scale, size=(int(rng.integers(3, 40)), int(rng.integers(5, 60))))
        pre[:, 0] = -np.abs(pre[:, 0]) - 0.1  # at least one dead unit
        sat = student.call("saturated_fraction", pre, hint="the mean of |tanh(pre)| > 0.99 over every entry.")
        dead = student.call("dead_fraction", pre, hint="columns whose entries are all <= 0, as a share of the columns.")
        assert close(sat, np.mean(np.abs(np.tanh(pre)) > 0.99), 1e-9), (
            f"saturated_fraction of a {pre.shape} batch is {sat}, expected {np.mean(np.abs(np.tanh(pre)) > 0.99):.4f}. "
            f"Hint: count entries with |tanh(pre)| > 0.99 (that is |pre| > 2.65), over the whole batch.")
        assert close(dead, np.mean(np.all(pre <= 0, axis=0)), 1e-9), (
            f"dead_fraction of a {pre.shape} batch is {dead}, expected {np.mean(np.all(pre <= 0, axis=0)):.4f}. Hint: a "
            f"unit (column) is dead only when its ReLU is 0 for every example (row); divide by the number of columns.")


@pytest.mark.exercise("init")
@pytest.mark.points(2)
def test_init_weights_random(student, rng):
    for kind in ("xavier", "he"):
        fan_in, fan_out, seed = int(rng.integers(2, 300)), int(rng.integers(2, 300)), int(rng.integers(10_000))
        std = np.sqrt(2 / (fan_in + fan_out)) if kind == "xavier" else np.sqrt(2 / fan_in)
        got = student.run("result = [init_std(fan_in, fan_out, kind), init_weights(fan_in, fan_out, kind, np.random.default_rng(s))]",
                          fan_in=fan_in, fan_out=fan_out, kind=kind, s=seed, what=f"init_weights({fan_in}, {fan_out}, {kind!r}, rng)",
                          hint="rng.normal(0.0, init_std(fan_in, fan_out, kind), size=(fan_in, fan_out))")
        assert close(got[0], std, 1e-9), (f"init_std({fan_in}, {fan_out}, {kind!r}) is {got[0]:.5g}, expected {std:.5g}. Hint: "
                                         f"xavier sqrt(2 / (fan_in + fan_out)), he sqrt(2 / fan_in): square roots of variances.")
        expected = np.random.default_rng(seed).normal(0.0, std, size=(fan_in, fan_out))
        assert np.shape(got[1]) == (fan_in, fan_out) and np.allclose(got[1], expected), (
            f"init_weights({fan_in}, {fan_out}, {kind!r}, rng) is not rng.normal(0, std, size=(fan_in, fan_out)). Hint: one "
            f"draw of shape (fan_in, fan_out) from the rng you are given.")
    error = student.run("""
        try:
            init_std(3, 4, "uniform")
            result = "no error"
        except ValueError:
            result = "ValueError"
        except Exception as e:
            result = type(e).__name__
    """, what="init_std(3, 4, 'uniform')", hint="raise ValueError for a kind that is neither 'xavier' nor 'he'.")
    assert error == "ValueError", f"init_std with an unknown kind gives {error}. Hint: raise ValueError naming the kinds."


@pytest.mark.exercise("stats")
@pytest.mark.points(2)
def test_stats_deep_random(student, rng, reference_pass, layers_code):
    for activation in ("tanh", "relu", "sigmoid"):
        depth, width = int(rng.integers(3, 8)), int(rng.integers(3, 20))
        weights = [rng.normal(0, 1 / np.sqrt(width), size=(width, width)) for _ in range(depth)]
        x = rng.normal(size=(int(rng.integers(4, 30)), width))
        got = student.run(layers_code + "result = activation_stats(layers, x, activation)", weights=weights, x=x,
                          activation=activation, what=f"activation_stats of {depth} layers with {activation}",
                          hint="one (mean, std) pair per layer, of the activations after the activation function.")
        acts, _ = reference_pass(weights, x, activation)
        expected = np.array([(a.mean(), a.std()) for a in acts])
        assert np.shape(got) == expected.shape, (f"activation_stats of {depth} layers returned {np.shape(got)} numbers. Hint: "
                                                 f"one (mean, std) pair for every layer.")
        assert np.allclose(np.array(got, dtype=float), expected, atol=1e-6), (
            f"activation_stats of {depth} {activation} layers is off, from layer "
            f"{1 + int(np.argmax(np.any(~np.isclose(np.array(got, dtype=float), expected, atol=1e-6), axis=1)))}. Hint: "
            f"apply {activation} after every layer, and take the mean and std of all entries of the activations.")


@pytest.mark.exercise("grads")
@pytest.mark.points(2)
def test_grads_deep_random(student, rng, reference_pass, layers_code):
    for activation in ("sigmoid", "tanh", "relu"):
        depth, width = int(rng.integers(4, 10)), int(rng.integers(4, 16))
        weights = [rng.normal(0, 1.2 / np.sqrt(width), size=(width, width)) for _ in range(depth)]
        x = rng.normal(size=(int(rng.integers(4, 30)), width))
        got = student.run(layers_code + "first = gradient_stds(layers, x, activation)\n"
                          "result = [first, gradient_stds(layers, x, activation)]", weights=weights, x=x, activation=activation, what=f"gradient_stds of {depth} layers with {activation}",
                          hint="zero grads, forward with the activation after every layer, (out ** 2).mean().backward(), "
                               "then the std of each layer.weight.grad.")
        _, grads = reference_pass(weights, x, activation)
        expected = [g.std() for g in grads]
        assert np.allclose(got[0], expected, rtol=1e-6, atol=1e-15), (
            f"gradient_stds of {depth} {activation} layers is off. Hint: the weights' gradients (not the biases'), first layer "
            f"first, of the loss (output ** 2).mean().")
        assert np.allclose(got[1], expected, rtol=1e-6, atol=1e-15), (
            "calling gradient_stds twice gives other numbers the second time. Hint: zero the layers' grads first.")
