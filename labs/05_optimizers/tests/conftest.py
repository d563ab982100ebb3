"""Shared by lab 5's public and hidden tests (shipped with the public ones): the snippets that walk an
optimizer, run the same way in the student's process (on the student's class) and on the judge's side (on
the library's class), so the two trajectories are compared step by step."""

import numpy as np
import pytest

import numtorch as nt
from labs.testing import not_floats, run_on_judge

# The points an optimizer visits on the quadratic bowl f = (x^2 + 10 y^2) / 2 from `start`: (steps + 1, 2).
BOWL_PATH = """
from numtorch_magics.landscapes import quadratic_bowl
x, y = (nt.tensor(float(v), requires_grad=True) for v in start)
optimizer = {cls}([x, y], **settings)
path = [(x.item(), y.item())]
with np.errstate(all="ignore"):
    for _ in range(steps):
        quadratic_bowl(x, y).backward()
        optimizer.step()
        path.append((x.item(), y.item()))
result = np.array(path)
"""

# A (3, 2) weight and a (2,) bias fitted by least squares; at step k the learning rate is lrs[k], and the
# bias takes part only where uses_bias[k] (else it has no gradient and the optimizer skips it).
# The parameters after every step, flattened: (steps, 8).
TRAJECTORY = """
weight, bias = nt.tensor(weight0, requires_grad=True), nt.tensor(bias0, requires_grad=True)
optimizer = {cls}([weight, bias], **settings)
points = []
for lr, use_bias in zip(lrs, uses_bias):
    optimizer.lr = float(lr)
    out = nt.tensor(data) @ weight + (bias if use_bias else 0.0)
    ((out - nt.tensor(target)) ** 2).mean().backward()
    optimizer.step()
    points.append(np.concatenate([weight.data.ravel(), bias.data.ravel()]))
result = np.array(points)
"""

# One parameter w whose gradient is set by hand to grads[k] at step k; reset() is called before step reset_at.
BY_HAND = """
w = nt.tensor(np.zeros(np.shape(grads[0])), requires_grad=True)
optimizer = {cls}([w], **settings)
points = []
for k, g in enumerate(grads):
    if k == reset_at:
        optimizer.reset()
    w.grad = nt.tensor(g)
    optimizer.step()
    points.append(w.data.copy())
result = np.array(points)
"""

LIBRARY = {"MySGD": nt.optimizers.SGDOptimizer, "MyMomentum": nt.optimizers.SGDOptimizer,
           "MyAdam": nt.optimizers.AdamOptimizer}
SNIPPETS = {"bowl": BOWL_PATH, "trajectory": TRAJECTORY, "by hand": BY_HAND}


@pytest.fixture
def on_judge():
    """on_judge(code, **inputs): the `result` of a snippet run on the judge's side (the expected value)."""
    return run_on_judge


def walk_library(snippet, cls, **inputs):
    """One of SNIPPETS run on the judge's side with the library's twin of the student's class `cls`."""
    return run_on_judge(SNIPPETS[snippet].format(cls="library"), library=LIBRARY[cls], **inputs)


@pytest.fixture
def library_walk():
    """library_walk(snippet, cls, **inputs): the library's trajectory (see walk_library)."""
    return walk_library


@pytest.fixture
def walk(student):
    """walk(snippet, cls, what, hint, unavailable=(), **inputs) -> (step, yours, library): runs one of SNIPPETS
    on the student's optimizer class `cls` in the student's process and on the library's twin on the judge's
    side; `step` is the first step (row) where the two trajectories differ, None when they agree."""

    def run(snippet, cls, what, hint, unavailable=(), **inputs):
        yours = student.run(SNIPPETS[snippet].format(cls=cls), what=what, hint=hint, unavailable=unavailable,
                            **inputs)
        yours, library = np.asarray(yours, dtype=float), walk_library(snippet, cls, **inputs)
        if yours.shape != library.shape:
            return 0, yours, library
        same = np.isclose(yours, library, atol=1e-7, rtol=1e-6).reshape(len(library), -1).all(axis=1)
        return (None if same.all() else int(np.argmin(same))), yours, library

    return run


@pytest.fixture
def floats():
    """floats(value, length): None for a list of `length` floats, else what `value` is instead."""
    return not_floats
