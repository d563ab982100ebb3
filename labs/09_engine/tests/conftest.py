"""Shared by lab 9's public and hidden tests (shipped with the public ones): random graphs and NumTorch's answer."""
import numpy as np
import pytest

import numtorch as nt

# Builds a program's graph with the student's engine and returns every value's data and grad.
RUN_PROGRAM = """
values = [Value(x) for x in leaves]
for op, i, j in program:
    if op == "add":
        values.append(add(values[i], values[j]))
    elif op == "mul":
        values.append(mul(values[i], values[j]))
    elif op == "tanh":
        values.append(tanh(values[i]))
    else:
        values.append(power(values[i], j))
backward(values[-1])
result = {"data": [v.data for v in values], "grad": [v.grad for v in values]}
"""


def make_program(rng, n_leaves=3, n_ops=10):
    """(leaves, program): random numbers and ops over earlier values, with reuse and dead branches."""
    leaves = [float(x) for x in rng.uniform(-1.5, 1.5, size=n_leaves)]
    program = []
    for k in range(n_ops):
        n = n_leaves + k
        op = str(rng.choice(["add", "mul", "mul", "tanh", "pow"]))
        i = int(rng.integers(n))
        j = int(rng.integers(n)) if op in ("add", "mul") else (int(rng.choice([2, 3])) if op == "pow" else 0)
        program.append([op, i, j])
    return leaves, program


def numtorch_grads(leaves, program):
    """Every value's d root / d value by NumTorch's engine (0 where it got none: a dead branch)."""
    values = [nt.tensor(x, requires_grad=True) for x in leaves]
    for op, i, j in program:
        a = values[i]
        out = {"add": lambda: a + values[j], "mul": lambda: a * values[j], "tanh": lambda: a.tanh(),
               "pow": lambda: a ** j}[op]()
        values.append(out)
    values[-1].backward()
    return [0.0 if v.grad is None else float(v.grad.data) for v in values]


@pytest.fixture
def random_program():
    """random_program(rng) -> (leaves, program)."""
    return make_program


@pytest.fixture
def check_program(student):
    """Run a random program through the student's engine and compare every grad with NumTorch's."""

    def check(leaves, program, hint, **options):
        got = student.run(RUN_PROGRAM, leaves=leaves, program=program, what="backward(root) on a random graph",
                          hint=hint, **options)
        expected = numtorch_grads(leaves, program)
        wrong = [k for k, (g, e) in enumerate(zip(got["grad"], expected)) if not np.isclose(g, e, atol=1e-6)]
        if wrong:
            k = wrong[0]
            made = "a value you made" if k < len(leaves) else f"value {k}, made by {program[k - len(leaves)][0]}"
            raise AssertionError(f"on the graph {program} with leaves {np.round(leaves, 3).tolist()}, {made} has grad "
                                 f"{got['grad'][k]:.6g}, NumTorch's engine gives {expected[k]:.6g}. Hint: {hint}")

    return check
