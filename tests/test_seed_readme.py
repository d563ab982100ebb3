"""The original (seed) README: every snippet runs verbatim, in order, and does the right thing.

The namespace is pre-seeded only with what the README uses but never defines: `np`, and the book's
XOR-style `data` and `target` (the snippets import numtorch themselves).

The training snippet uses lr=1 on a purely linear 2-3-1 model with mean squared error. That diverges
for any initialisation (the curvature along the output bias alone is 2, so a step of 1 overshoots;
PyTorch diverges identically). So the tests prove the printed losses are the *correct* ones, by
redoing the same ten steps by hand in NumPy (and in PyTorch) from the same initial weights, check that
the engine warns once the loss is no longer finite, and show that the very same loop learns when
only the learning rate is lowered.
"""

import contextlib
import io
import re
import warnings
from pathlib import Path

import numpy as np
import pytest

import numtorch as nt

SEED_README = Path(__file__).parent / "data" / "seed-README.md"
SHARED_COPY = Path(__file__).resolve().parents[1].parent / "shared" / "seed" / "numtorch-seed-README.md"
BLOCKS = re.findall(r"```python\n(.*?)```", SEED_README.read_text(), re.S)
MODEL, RNN_CLASS, TRAINING, SUM, TARGET = range(5)
EPOCH_LINE = re.compile(r"Epoch (\d+): ([-+]?(?:\d+\.?\d*(?:[eE][-+]?\d+)?|nan|inf))")


def seeded_namespace():
    return {
        "np": np,
        "data": nt.Tensor(np.array([[0, 0], [0, 1], [1, 0], [1, 1]]), {"autograd": True}),
        "target": nt.Tensor(np.array([[0], [1], [0], [1]]), {"autograd": True}),
    }


def run(ns, *blocks):
    """Exec README blocks, verbatim, in ns; return what they printed."""
    return _exec(ns, [(BLOCKS[k], k) for k in blocks])


def run_training_with(ns, lr, epochs):
    """The README's training block with only the learning rate and the number of epochs changed."""
    source = BLOCKS[TRAINING]
    for old, new in (("lr=1)", f"lr={lr})"), ("range(10)", f"range({epochs})")):
        assert source.count(old) == 1, f"{old!r} is not in the training block"
        source = source.replace(old, new)
    return _exec(ns, [(source, TRAINING)])


def _exec(ns, sources):
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        for source, k in sources:
            exec(compile(source, f"seed-README.md, python block {k + 1}", "exec"), ns)
    return out.getvalue()


def epoch_losses(printed):
    lines = printed.splitlines()
    matches = [EPOCH_LINE.fullmatch(line) for line in lines]
    assert all(matches), f"every printed line must be 'Epoch i: <number>', got {lines}"
    assert [int(m[1]) for m in matches] == list(range(len(lines)))
    return np.array([float(m[2]) for m in matches])


def initial_weights(model):
    first, second = model.layers
    return [p.data.copy() for p in (first.weight, first.bias, second.weight, second.bias)]


def by_hand(weights, x, y, lr, epochs):
    """The same training loop in NumPy: linear 2-3-1, mean squared error, SGD; the loss before each step."""
    w1, b1, w2, b2 = [w.copy() for w in weights]
    losses = []
    with np.errstate(all="ignore"):
        for _ in range(epochs):
            h = x @ w1 + b1
            p = h @ w2 + b2
            losses.append(np.mean((p - y) ** 2))
            dp = 2 * (p - y) / p.size
            dh = dp @ w2.T
            grads = [x.T @ dh, dh.sum(axis=0), h.T @ dp, dp.sum(axis=0)]
            w1, b1, w2, b2 = [w - lr * g for w, g in zip((w1, b1, w2, b2), grads)]
    return np.array(losses)


def assert_same_trajectory(printed, expected):
    finite = np.isfinite(expected)
    np.testing.assert_array_equal(np.isfinite(printed), finite, err_msg="the loss must overflow at the same epoch")
    np.testing.assert_allclose(printed[finite], expected[finite], rtol=1e-8)


# ---- the file and its snippets ------------------------------------------------------------------------

def test_the_copy_is_identical_to_the_shared_seed_readme():
    if not SHARED_COPY.parent.parent.exists():
        pytest.skip(f"{SHARED_COPY.parent.parent} is not beside the repository")
    assert SEED_README.read_bytes() == SHARED_COPY.read_bytes()


def test_the_readme_has_the_five_snippets_we_expect():
    assert len(BLOCKS) == 5
    assert "nt.layers.SequentialLayer" in BLOCKS[MODEL] and "class RNN(nt.layers.Layer)" in BLOCKS[RNN_CLASS]
    assert "lr=1)" in BLOCKS[TRAINING] and "x.sum()" in BLOCKS[SUM] and '{"autograd": False}' in BLOCKS[TARGET]


def test_every_snippet_runs_verbatim_in_order():
    ns = seeded_namespace()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        printed = run(ns, *range(len(BLOCKS)))
    losses = epoch_losses(printed)
    assert len(losses) == 10
    diverged = [w for w in caught if issubclass(w.category, RuntimeWarning) and "diverged" in str(w.message)]
    assert len(diverged) == np.sum(~np.isfinite(losses)), "one warning for each backward of a non-finite loss"
    np.testing.assert_array_equal(ns["x"].grad.data, np.ones(3))
    assert ns["y"].item() == 6
    assert ns["target"].autograd is False and ns["target"].dtype.kind == "i"


# ---- the training snippet computes the right numbers ----------------------------------------------------

@pytest.mark.parametrize("seed", [0, 1, 2])
def test_training_snippet_follows_the_exact_gradient_descent_trajectory(seed):
    np.random.seed(seed)
    ns = seeded_namespace()
    run(ns, MODEL, RNN_CLASS)
    weights = initial_weights(ns["model"])
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        printed = epoch_losses(run(ns, TRAINING))
    expected = by_hand(weights, ns["data"].data, ns["target"].data, lr=1, epochs=10)
    assert_same_trajectory(printed, expected)
    assert not np.isfinite(printed[-1]), "lr=1 diverges for a linear model under mean squared error"
    assert any("diverged" in str(w.message) for w in caught if issubclass(w.category, RuntimeWarning))
    assert expected[1] > expected[0], "the loss grows from the first step: the learning rate is too large"


def test_pytorch_diverges_identically(torch):
    np.random.seed(0)
    ns = seeded_namespace()
    run(ns, MODEL)
    first, second = ns["model"].layers
    twin = torch.nn.Sequential(torch.nn.Linear(2, 3), torch.nn.Linear(3, 1)).double()
    with torch.no_grad():
        for layer, t in ((first, twin[0]), (second, twin[1])):
            t.weight.copy_(torch.tensor(layer.weight.data.T))
            t.bias.copy_(torch.tensor(layer.bias.data))
    optimizer = torch.optim.SGD(twin.parameters(), lr=1)
    x, y = torch.tensor(ns["data"].data), torch.tensor(ns["target"].data)
    expected = []
    for _ in range(10):
        loss = torch.nn.functional.mse_loss(twin(x), y)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        expected.append(loss.item())
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        printed = epoch_losses(run(ns, TRAINING))
    assert_same_trajectory(printed, np.array(expected))


@pytest.mark.parametrize("seed", [0, 1, 2, 3, 4])
def test_the_same_loop_learns_when_only_the_learning_rate_is_lowered(seed):
    np.random.seed(seed)
    ns = seeded_namespace()
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # nothing diverges or overflows
        run(ns, MODEL)
        printed = run_training_with(ns, lr=0.1, epochs=100)
    losses = epoch_losses(printed)
    assert len(losses) == 100 and losses[-1] < 0.01 and losses[-1] < losses[0]


def test_the_autograd_false_target_takes_no_gradient_and_still_trains():
    np.random.seed(0)
    ns = seeded_namespace()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        run(ns, *range(len(BLOCKS)))  # the last block makes target = Tensor(..., {"autograd": False})
    run(ns, MODEL)
    losses = epoch_losses(run_training_with(ns, lr=0.1, epochs=100))
    assert losses[-1] < 0.01
    assert ns["target"].grad is None and ns["data"].grad is not None


# ---- the RNN class of the README -----------------------------------------------------------------------

def test_the_readme_rnn_needs_an_activation():
    ns = seeded_namespace()
    run(ns, MODEL, RNN_CLASS)
    with pytest.raises(Exception, match="Activation layer expected"):
        ns["RNN"](2, 3, 4)


def test_the_readme_rnn_runs_forward_over_steps_and_backward():
    ns = seeded_namespace()
    run(ns, MODEL, RNN_CLASS)
    rnn = ns["RNN"](3, 5, 2, activation=nt.layers.Sigmoid())
    assert len(rnn.get_params()) == 6
    assert [name for name, _ in rnn.named_parameters()][:2] == ["weight_input_hidden.weight", "weight_input_hidden.bias"]
    hidden = rnn.init_hidden(batch_size=4)
    assert hidden.shape == (4, 5) and hidden.autograd
    outputs = []
    for t in range(3):
        output, hidden = rnn.forward(nt.Tensor(np.full((4, 3), float(t))), hidden)
        outputs.append(output)
    assert output.shape == (4, 2) and hidden.shape == (4, 5)
    outputs[-1].sum().backward()
    assert all(p.grad is not None for p in rnn.get_params())
    assert outputs[0].grad is None, "an output that is not used gets no gradient"


def test_the_readme_rnn_learns_a_sequence_that_needs_memory():
    ns = seeded_namespace()
    run(ns, MODEL, RNN_CLASS)
    rnn = ns["RNN"](3, 16, 3, activation=nt.layers.Tanh())
    optimizer = nt.optimizers.AdamOptimizer(rnn.get_params(), lr=0.05)
    sequence, steps = np.array([0, 1, 0, 2]), 8  # after a 0 comes 1 or 2: only the past tells which
    tokens = np.stack([np.resize(np.roll(sequence, -k), steps + 1) for k in range(4)])
    one_hot = np.eye(3)
    for _ in range(150):
        hidden, losses, correct = rnn.init_hidden(batch_size=4), [], []
        for t in range(steps):
            output, hidden = rnn.forward(nt.Tensor(one_hot[tokens[:, t]]), hidden)
            if t >= 1:
                losses.append(output.cross_entropy(tokens[:, t + 1]))
                correct.append(output.argmax(dim=1).data == tokens[:, t + 1])
        loss = sum(losses[1:], losses[0]) / len(losses)
        loss.backward()
        optimizer.step()
    assert np.mean(correct) == 1.0 and loss.item() < 0.1
