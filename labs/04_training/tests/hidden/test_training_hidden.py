"""Hidden tests of lab 4 (layers and training): sizes and data drawn per submission, training trajectories
compared with the reference under a fixed seed (with the reference make_mlp and train_step, so a bug there costs
only its own exercise), held-out data, and a bar on the moons that a straight line cannot meet."""
import numpy as np
import pytest

import numtorch as nt

# The reference pieces: run here for the expected values, and put in the student's notebook (replace=) while
# the downstream exercises run.
REFERENCE = {
    "make_mlp": """def make_mlp(n_in, n_hidden, n_out):
    return nt.layers.SequentialLayer([nt.layers.LinearLayer(n_in, n_hidden), nt.layers.Tanh(),
                                      nt.layers.LinearLayer(n_hidden, n_out)])
""",
    "train_step": """def train_step(model, criterion, optimizer, data, target):
    loss = criterion(model(data), target)
    loss.backward()
    optimizer.step()
    return loss.item()
""",
}
reference = {"nt": nt, "np": np}
exec("".join(REFERENCE.values()), reference)
MLP_HINT = "build three new layers at every call: LinearLayer(n_in, n_hidden), Tanh(), LinearLayer(n_hidden, n_out)."
STEP_HINT = ("forward with model(data), the loss with criterion(prediction, target), loss.backward(), then "
             "optimizer.step() with the optimizer you are given; return loss.item().")
XOR_DATA = np.array([[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]])
XOR_TARGET = np.array([[0.0], [1.0], [1.0], [0.0]])
BAR = 0.94  # 1000 steps, 300 fresh points: make_mlp(2, 16, 2) got 0.954 or more in 200 draws; a line 0.904 at most


def seeded_fit(seed, hidden, n_out, criterion, lr, data, target, steps):
    """(losses, model) of the reference: make_mlp(2, hidden, n_out) under np.random.seed(seed), trained by `steps`
    reference train_steps with SGD."""
    np.random.seed(seed)
    model = reference["make_mlp"](data.shape[1], hidden, n_out)
    optimizer = nt.optimizers.SGDOptimizer(model.get_params(), lr=lr)
    data = nt.Tensor(data)
    target = nt.Tensor(target) if target.dtype.kind == "f" else target
    return [reference["train_step"](model, criterion, optimizer, data, target) for _ in range(steps)], model


def assert_same_losses(mine, expected, what, hint):
    """The student's losses follow the reference trajectory step by step."""
    assert isinstance(mine, list) and len(mine) == len(expected), (
        f"{what} returned {len(mine) if isinstance(mine, list) else type(mine).__name__} losses for "
        f"{len(expected)} steps. Hint: append the float train_step returns, once per step, and return the list.")
    for k, (a, b) in enumerate(zip(mine, expected)):
        assert isinstance(a, float) and np.isclose(a, b, rtol=1e-6, atol=1e-12), (
            f"{what}: the loss at step {k + 1} is {a!r}, the reference gives {b:.6g} from the same seed. Hint: {hint}")


@pytest.mark.exercise("mlp")
@pytest.mark.points(1)
def test_make_mlp_computes_linear_tanh_linear(student, rng):
    n_in, n_hidden, n_out = (int(v) for v in rng.choice(np.arange(2, 8), size=3, replace=False))
    weights = [rng.normal(size=(n_in, n_hidden)), rng.normal(size=n_hidden), rng.normal(size=(n_hidden, n_out)),
               rng.normal(size=n_out)]
    x = rng.normal(size=(5, n_in))
    got = student.run("""
        model = make_mlp(n_in, n_hidden, n_out)
        shapes = [list(p.shape) for p in model.get_params()]
        same = shapes == [list(np.shape(a)) for a in weights]
        for p, a in zip(model.get_params(), weights if same else []):
            p.data = np.array(a)
        result = {"shapes": shapes, "out": model(nt.Tensor(x)).data if same else None}
    """, n_in=n_in, n_hidden=n_hidden, n_out=n_out, weights=weights, x=x, hint=MLP_HINT,
        what=f"make_mlp({n_in}, {n_hidden}, {n_out})")
    wanted = [list(np.shape(a)) for a in weights]
    assert got["shapes"] == wanted, (
        f"make_mlp({n_in}, {n_hidden}, {n_out}) has parameters of shapes {got['shapes']}, expected {wanted} "
        f"(weight and bias of each LinearLayer, in order). Hint: {MLP_HINT}")
    w1, b1, w2, b2 = weights
    expected = np.tanh(x @ w1 + b1) @ w2 + b2
    assert np.shape(got["out"]) == expected.shape and np.allclose(got["out"], expected), (
        f"with the same parameters, make_mlp({n_in}, {n_hidden}, {n_out}) computes something else than "
        f"tanh(x @ W1 + b1) @ W2 + b2. Hint: the nonlinearity between the two LinearLayers is nt.layers.Tanh(): "
        f"without one (or with another) the model is not the MLP of the lesson.")


@pytest.mark.exercise("mlp")
@pytest.mark.points(0.5)
def test_make_mlp_builds_fresh_parameters(student):
    got = student.run("""
        first, second = make_mlp(2, 4, 1), make_mlp(2, 4, 1)
        shared = {id(p) for p in first.get_params()} & {id(p) for p in second.get_params()}
        result = {"shared": len(shared), "tracked": all(p.requires_grad for p in first.get_params())}
    """, what="make_mlp(2, 4, 1), called twice", hint=MLP_HINT)
    assert got["shared"] == 0, (f"two calls of make_mlp share {got['shared']} parameters, so training one model "
                                f"changes the other. Hint: {MLP_HINT}")
    assert got["tracked"], f"some parameters of make_mlp's model do not track gradients. Hint: {MLP_HINT}"


@pytest.mark.exercise("train_step")
@pytest.mark.points(1)
def test_train_step_trajectory(check_train_linear, rng):
    check_train_linear(int(rng.integers(3, 7)))


@pytest.mark.exercise("train_step")
@pytest.mark.points(1)
def test_train_step_with_cross_entropy_and_adam(student, rng):
    seed, steps, lr = int(rng.integers(2 ** 31)), int(rng.integers(4, 8)), float(rng.uniform(0.01, 0.05))
    data, labels = rng.normal(size=(8, 3)), rng.integers(0, 4, size=8)
    got = student.run("""
        model = nt.layers.SequentialLayer([nt.layers.LinearLayer(3, 5), nt.layers.Tanh(), nt.layers.LinearLayer(5, 4)])
        optimizer = nt.optimizers.AdamOptimizer(model.get_params(), lr=lr)
        result = [train_step(model, nt.layers.CrossEntropyLoss(), optimizer, nt.Tensor(data), labels)
                  for _ in range(steps)]
    """, seed=seed, lr=lr, steps=steps, data=data, labels=labels, hint=STEP_HINT,
        what=f"train_step, {steps} times with CrossEntropyLoss and Adam(lr={lr:.3g})")
    np.random.seed(seed)
    model = reference["make_mlp"](3, 5, 4)
    optimizer = nt.optimizers.AdamOptimizer(model.get_params(), lr=lr)
    expected = [reference["train_step"](model, nt.layers.CrossEntropyLoss(), optimizer, nt.Tensor(data), labels)
                for _ in range(steps)]
    assert_same_losses(got, expected, "train_step with CrossEntropyLoss and Adam",
                       f"train_step must work for any criterion, integer class targets and any optimizer: use the "
                       f"ones you are given, and call backward once per step. {STEP_HINT}")


@pytest.mark.exercise("xor")
@pytest.mark.points(1.5)
def test_train_xor_trajectory(student, rng):
    seed, steps = int(rng.integers(2 ** 31)), int(rng.integers(150, 400))
    got = student.run("""
        model, losses = train_xor(steps)
        result = {"losses": list(losses), "pred": model(xor_data).data}
    """, seed=seed, steps=steps, replace=REFERENCE, what=f"train_xor({steps})",
        hint="build the model, the loss and one optimizer, then loop `steps` times over train_step; return both.")
    expected, model = seeded_fit(seed, 8, 1, nt.layers.MSELoss(), 0.1, XOR_DATA, XOR_TARGET, steps)
    hint = ("make_mlp(2, 8, 1), MSELoss, one SGDOptimizer(model.get_params(), lr=0.1) made before the loop, and "
            "`steps` calls of train_step on xor_data and xor_target.")
    assert_same_losses(got["losses"], expected, f"train_xor({steps})", hint)
    expected = model(nt.Tensor(XOR_DATA)).data
    assert np.shape(got["pred"]) == expected.shape and np.allclose(got["pred"], expected, rtol=1e-6), (
        f"train_xor({steps}) returned a model other than the one it trained. Hint: return (model, losses).")


@pytest.mark.exercise("cross_entropy")
@pytest.mark.points(1)
def test_cross_entropy_other_shapes(check_cross_entropy, rng):
    for _ in range(3):
        n, k = int(rng.integers(1, 9)), int(rng.integers(2, 7))
        check_cross_entropy(rng.normal(0, 2, size=(n, k)), rng.integers(0, k, size=n))


@pytest.mark.exercise("cross_entropy")
@pytest.mark.points(0.5)
def test_cross_entropy_is_stable_for_large_logits(check_cross_entropy, rng):
    logits = rng.normal(size=(3, 4)) + np.array([[900.0, 0.0, -900.0, 0.0]]) * rng.choice([-1, 1], size=(3, 1))
    check_cross_entropy(logits, rng.integers(0, 4, size=3))


@pytest.mark.exercise("accuracy")
@pytest.mark.points(0.5)
def test_accuracy_on_random_predictions(check_accuracy, rng):
    n, k = int(rng.integers(20, 60)), int(rng.integers(2, 6))
    logits, labels = rng.normal(size=(n, k)), rng.integers(0, k, size=n)
    labels[: n // 2] = logits[: n // 2].argmax(axis=1)  # about half right, the rest by chance
    for given in (labels, labels.tolist()):
        check_accuracy(logits, given, "compare logits.data.argmax(axis=1) with np.asarray(labels) and average the "
                                      "matches (a fraction between 0 and 1, not a count).")


def fresh_moons(rng, n, noise=0.15):
    """n points of the two moons (the notebook's make_moons), drawn here from the judge's generator."""
    labels = rng.integers(0, 2, n)
    angle = rng.random(n) * np.pi
    x = np.where(labels == 0, np.cos(angle), 1 - np.cos(angle))
    y = np.where(labels == 0, np.sin(angle), 0.5 - np.sin(angle))
    return np.stack([x, y], axis=1) + noise * rng.normal(size=(n, 2)), labels


@pytest.mark.exercise("moons")
@pytest.mark.points(1.5)
def test_train_moons_on_fresh_moons(student, rng):
    seed = int(rng.integers(2 ** 31))
    (points, labels), (held_out, truth) = fresh_moons(rng, 300), fresh_moons(rng, 500)
    got = student.run("""
        model, losses = train_moons(points, labels, 1000)
        result = {"losses": list(losses), "predicted": model(nt.Tensor(held_out)).data.argmax(axis=1)}
    """, seed=seed, points=points, labels=labels, held_out=held_out, replace=REFERENCE,
        what="train_moons(points, labels, 1000) on 300 fresh moon points",
        hint="train on the points and labels passed in; return (model, losses).")
    right = np.shape(got["predicted"]) == truth.shape and got["predicted"] == truth
    fresh = float(np.mean(right))
    assert fresh >= BAR, (
        f"trained for 1000 steps on 300 fresh moon points, your model classifies {fresh:.2f} of 500 held-out points "
        f"right; the bar is {BAR} (a straight line gets 0.90 at best). Hint: the model must be the MLP, "
        f"make_mlp(2, 16, 2), trained as the exercise says.")
    expected, _ = seeded_fit(seed, 16, 2, nt.layers.CrossEntropyLoss(), 0.5, points, labels, 1000)
    assert_same_losses(got["losses"], expected, "train_moons on fresh moons",
                       "make_mlp(2, 16, 2), CrossEntropyLoss, one SGDOptimizer with lr=0.5, `steps` steps of train_step "
                       "on nt.Tensor(points) and labels: the arguments, not the global train_x and train_y.")
