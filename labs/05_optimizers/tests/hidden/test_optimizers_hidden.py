"""Hidden tests of lab 5 (optimizers): they run at grading and check more than the public ones.

Every optimizer walks for several steps on a least-squares problem drawn from `rng` (a (3, 2) weight and a (2,)
bias, so parameters of different shapes) next to the library's twin on the judge's side, with the library's
own update off-limits to the student's code; train_mlp runs on data and a model the student never saw."""
import numpy as np
import pytest

SGD_OFF = ("numtorch.optimizers.SGDOptimizer.update",)
ADAM_OFF = ("numtorch.optimizers.AdamOptimizer.update",)


def problem(rng, steps, lrs=None, skip_bias=False):
    """The inputs of the `trajectory` snippet: data, target, starting weight and bias, and a plan per step."""
    uses_bias = rng.random(steps) > 0.3 if skip_bias else np.ones(steps, dtype=bool)
    uses_bias[0] = True
    return dict(data=rng.normal(size=(6, 3)), target=rng.normal(size=(6, 2)), weight0=rng.normal(size=(3, 2)),
                bias0=rng.normal(size=2), lrs=lrs, uses_bias=uses_bias)


def assert_same(found, what, hint):
    """A trajectory that leaves the library's fails at the step where it does."""
    step, yours, library = found
    if yours.shape != library.shape:
        raise AssertionError(f"{what}: {len(yours)} steps recorded instead of {len(library)}. Hint: {hint}")
    assert step is None, (f"{what} first differs from the library at step {step + 1} (largest difference there "
                          f"{np.abs(yours[step] - library[step]).max():.3g}). Hint: {hint}")


SGD_HINT = ("return self.lr * grad, reading self.lr at every call (it may change during training); the library's "
            "SGDOptimizer.update is off-limits here.")


@pytest.mark.exercise("sgd")
@pytest.mark.points(1)
def test_my_sgd_with_a_changing_learning_rate(walk, rng):
    lr = rng.uniform(0.05, 0.3)
    inputs = problem(rng, 6, lrs=lr / np.arange(1, 7), skip_bias=True)
    found = walk("trajectory", "MySGD", "MySGD on a (3, 2) weight and a (2,) bias, lr lowered at every step",
                 SGD_HINT, unavailable=SGD_OFF, settings={"lr": lr}, **inputs)
    assert_same(found, "MySGD, with optimizer.lr lowered at every step,", SGD_HINT)


@pytest.mark.exercise("learning_rates")
@pytest.mark.points(0.5)
def test_learning_rates_are_ordered_positive_numbers(student):
    values = student.run("result = [lr_too_small, lr_just_right, lr_too_large]", what="the three learning rates",
                         hint="set lr_too_small, lr_just_right and lr_too_large in the learning-rate cell.")
    assert all(isinstance(v, (int, float)) and not isinstance(v, bool) and v > 0 for v in values), (
        f"the learning rates should be positive numbers, got {values}. Hint: a rate of 0 never moves and a "
        f"negative one climbs uphill; use plain Python numbers such as 0.05.")
    assert values[0] < values[1] < values[2], (
        f"expected lr_too_small < lr_just_right < lr_too_large, got {values}. Hint: the loss crawls, converges or "
        f"diverges as the rate grows.")


MOMENTUM_HINT = ("keep one velocity per parameter number i in self.velocity, of that parameter's shape, starting "
                 "at 0 (v = momentum * v + grad); reset() must forget it. The library's SGDOptimizer.update is "
                 "off-limits here.")


@pytest.mark.exercise("momentum")
@pytest.mark.points(0.5)
def test_my_momentum_keeps_one_velocity_per_parameter(walk, rng):
    lr, momentum = rng.uniform(0.02, 0.08), rng.uniform(0.6, 0.9)
    inputs = problem(rng, 12, lrs=np.full(12, lr))
    found = walk("trajectory", "MyMomentum", "MyMomentum on a (3, 2) weight and a (2,) bias", MOMENTUM_HINT,
                 unavailable=SGD_OFF, settings={"lr": lr, "momentum": momentum}, **inputs)
    assert_same(found, f"MyMomentum(lr={lr:.3f}, momentum={momentum:.3f})", MOMENTUM_HINT)


@pytest.mark.exercise("momentum")
@pytest.mark.points(0.5)
def test_my_momentum_reset_forgets_the_velocity(walk, rng):
    lr, momentum = rng.uniform(0.5, 1.5), rng.uniform(0.3, 0.9)
    grads = rng.normal(size=(6, 2))
    found = walk("by hand", "MyMomentum", "MyMomentum with reset() before the 4th step", MOMENTUM_HINT,
                 unavailable=SGD_OFF, settings={"lr": lr, "momentum": momentum}, grads=grads, reset_at=3)
    assert_same(found, "MyMomentum, with gradients set by hand and reset() called before step 4,",
                MOMENTUM_HINT)


ADAM_HINT = ("keep m, v and t per parameter number i (a parameter without a gradient is skipped, so its t does "
             "not grow); count t from 1; use the betas and eps given to __init__ (self.betas, self.eps); the "
             "library's AdamOptimizer.update is off-limits here.")


@pytest.mark.exercise("adam")
@pytest.mark.points(1)
def test_my_adam_on_parameters_of_different_shapes(walk, rng):
    lr = rng.uniform(0.02, 0.1)
    inputs = problem(rng, 20, lrs=np.full(20, lr), skip_bias=True)
    found = walk("trajectory", "MyAdam", "MyAdam on a (3, 2) weight and a sometimes unused (2,) bias", ADAM_HINT,
                 unavailable=ADAM_OFF, settings={"lr": lr}, **inputs)
    assert_same(found, f"MyAdam(lr={lr:.3f}) on a (3, 2) weight and a (2,) bias that skips some steps", ADAM_HINT)


@pytest.mark.exercise("adam")
@pytest.mark.points(1)
def test_my_adam_honours_its_settings(walk, rng):
    settings = {"lr": rng.uniform(0.05, 0.2), "betas": [rng.uniform(0.5, 0.8), rng.uniform(0.8, 0.95)],
                "eps": rng.uniform(0.05, 0.3)}
    inputs = problem(rng, 8, lrs=np.full(8, settings["lr"]))
    found = walk("trajectory", "MyAdam", "MyAdam with other betas and eps", ADAM_HINT, unavailable=ADAM_OFF,
                 settings=settings, **inputs)
    assert_same(found, "MyAdam(lr={lr:.3f}, betas=({0:.3f}, {1:.3f}), eps={eps:.3f})".format(
        *settings["betas"], lr=settings["lr"], eps=settings["eps"]), ADAM_HINT)


# train_mlp runs on points and a model drawn for this submission, put in place of the notebook's spirals and
# make_spiral_mlp; the reference loop below runs on the judge's side on the same data.
SMALL_MLP = """
def make_spiral_mlp():
    return nt.layers.SequentialLayer([nt.layers.LinearLayer(2, 5), nt.layers.Tanh(), nt.layers.LinearLayer(5, 3)])
"""

REFERENCE_TRAIN = SMALL_MLP + """
np.random.seed(0)
model = make_spiral_mlp()
optimizer = nt.optimizers.AdamOptimizer(model.get_params(), lr=lr)
result = []
for _ in range(steps):
    loss = nt.layers.CrossEntropyLoss()(model(nt.Tensor(spiral_x)), spiral_y)
    result.append(loss.item())
    loss.backward()
    optimizer.step()
"""

TRAIN_HINT = ("seed 0 just before make_spiral_mlp(), use the optimizer make_optimizer returns, train on all of "
              "spiral_x and spiral_y for `steps` steps, and append loss.item() before the update.")


def held_out_spirals(rng):
    """replace= sources for a small data set and model the student never saw."""
    x, y = rng.normal(size=(24, 2)), rng.integers(0, 3, size=24)
    return x, y, {"spiral_x": f"spiral_x = np.array({x.tolist()!r})",
                  "spiral_y": f"spiral_y = np.array({y.tolist()!r})", "make_spiral_mlp": SMALL_MLP}


@pytest.mark.exercise("compare")
@pytest.mark.points(0.5)
def test_train_mlp_follows_the_reference_loop(student, on_judge, rng, floats):
    x, y, replace = held_out_spirals(rng)
    lr, steps = rng.uniform(0.01, 0.05), int(rng.integers(6, 10))
    losses = student.run("result = train_mlp(lambda params: nt.optimizers.AdamOptimizer(params, lr=lr), steps)",
                         what=f"train_mlp(Adam, steps={steps}) on other data", hint=TRAIN_HINT, replace=replace,
                         lr=lr, steps=steps)
    expected = on_judge(REFERENCE_TRAIN, spiral_x=x, spiral_y=y, lr=lr, steps=steps)
    assert not floats(losses, steps), (
        f"train_mlp(..., steps={steps}) should return a list of {steps} losses (floats), got {floats(losses, steps)}. "
        f"Hint: {TRAIN_HINT}")
    bad = [k for k, (a, b) in enumerate(zip(losses, expected)) if not np.isclose(a, b, rtol=1e-6, atol=1e-9)]
    assert not bad, (f"on another data set and model, train_mlp's loss at step {bad[0] + 1} is {losses[bad[0]]:.6f}, "
                     f"the reference loop's {expected[bad[0]]:.6f}. Hint: {TRAIN_HINT}")


@pytest.mark.exercise("compare")
@pytest.mark.points(0.5)
def test_train_mlp_uses_the_optimizer_it_is_given(student, rng, floats):
    _, _, replace = held_out_spirals(rng)
    steps = int(rng.integers(3, 7))
    counted = student.run("""
        made = []
        def make(params):
            made.append(nt.optimizers.SGDOptimizer(params, lr=0.0))
            return made[-1]
        losses = train_mlp(make, steps)
        result = {"losses": losses, "made": len(made), "params": len(made[0].params) if made else 0,
                  "distinct": len(set(losses))}
    """, what=f"train_mlp(SGD with lr 0, steps={steps})", hint=TRAIN_HINT, replace=replace, steps=steps)
    assert counted["made"] == 1 and counted["params"] == 4, (
        f"train_mlp called make_optimizer {counted['made']} times, with {counted['params']} parameters; it should "
        f"call it once with the model's 4 parameters (model.get_params()). Hint: {TRAIN_HINT}")
    assert not floats(counted["losses"], steps), (
        f"train_mlp(..., steps={steps}) returned {floats(counted['losses'], steps)}. Hint: {TRAIN_HINT}")
    assert counted["distinct"] == 1, (
        f"with a learning rate of 0 every one of the {steps} losses should be the same; got {counted['distinct']} "
        f"different values. Hint: {TRAIN_HINT}")
