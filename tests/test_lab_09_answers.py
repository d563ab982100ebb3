"""Lab 9 (the engine): the wrong-answer table, graded in one batch by the real grader."""
from pathlib import Path

import pytest

from answer_table import check_hidden_share, check_table, check_variant, grade_variants, valid, wrong
from labs.grading.lab import load_lab

LAB = Path(__file__).parents[1] / "labs" / "09_engine"
VISIT = """        if value in seen:
            return
        seen.add(value)
        for parent in value.inputs:
            visit(parent)
        order.append(value)"""
STEP = """    loss = loss_fn(params)
    zero_grad(loss)
    backward(loss)"""

VARIANTS = [
    wrong("rules", "= instead of += in mul", ("rules", "a.grad += b.data * out.grad\n        b.grad += a.data * out.grad",
                                              "a.grad = b.data * out.grad\n        b.grad = a.data * out.grad")),
    wrong("rules", "tanh's derivative without out.grad", ("rules", "a.grad += (1 - out.data ** 2) * out.grad", "a.grad += 1 - out.data ** 2")),
    wrong("rules", "power's derivative as k * a^k", ("rules", "a.grad += k * a.data ** (k - 1) * out.grad", "a.grad += k * a.data ** k * out.grad")),
    valid("rules", "tanh's derivative from the input",
          ("rules", "a.grad += (1 - out.data ** 2) * out.grad", "a.grad += out.grad / math.cosh(a.data) ** 2")),

    wrong("topo", "no memory of visited values", ("topo", "        if value in seen:\n            return\n        seen.add(value)\n", "")),
    wrong("topo", "appends before visiting the inputs", ("topo", VISIT, """        if value in seen:
            return
        seen.add(value)
        order.append(value)
        for parent in value.inputs:
            visit(parent)""")),
    valid("topo", "an explicit stack instead of recursion", ("topo", """    def visit(value):
""" + VISIT + """

    visit(root)
    return order""", """    stack = [(root, False)]
    while stack:
        value, expanded = stack.pop()
        if expanded:
            order.append(value)
        elif value not in seen:
            seen.add(value)
            stack.append((value, True))
            stack.extend((parent, False) for parent in reversed(value.inputs))
    return order""")),

    wrong("backward", "forward order", ("backward", "for value in reversed(topological_order(root)):", "for value in topological_order(root):")),
    wrong("backward", "no seed", ("backward", "    root.grad = 1.0\n", "")),
    wrong("backward", "plain recursion from the root", ("backward", """    root.grad = 1.0
    for value in reversed(topological_order(root)):
        value.backward_step()""", """    root.grad = 1.0

    def walk(value):
        value.backward_step()
        for parent in value.inputs:
            walk(parent)

    walk(root)""")),
    valid("backward", "the order reversed by slicing", ("backward", "reversed(topological_order(root))", "topological_order(root)[::-1]")),

    wrong("zero", "zeroes only the leaves", ("zero", "    for value in topological_order(root):\n        value.grad = 0.0",
                                             "    for value in topological_order(root):\n        if not value.inputs:\n            value.grad = 0.0")),
    wrong("zero", "no zeroing in train_step", ("zero", STEP, "    loss = loss_fn(params)\n    backward(loss)")),
    wrong("zero", "returns the loss after the step", ("zero", "    return loss.data", "    return loss_fn(params).data")),
    valid("zero", "zero the parameters, then build the loss", ("zero", STEP, """    for p in params:
        p.grad = 0.0
    loss = loss_fn(params)
    backward(loss)""")),
]
INDEPENDENT = [["rules", "topo", "backward", "zero"]]


def test_hidden_tests_carry_half_the_points():
    check_hidden_share(LAB)


def test_every_exercise_has_its_rows():
    check_table(VARIANTS, load_lab(LAB).exercises())


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    return grade_variants(LAB, VARIANTS, tmp_path_factory.mktemp("lab09_answers"), INDEPENDENT)


@pytest.mark.slow
@pytest.mark.parametrize("variant", VARIANTS, ids=lambda variant: variant.id)
def test_variant(graded, variant):
    check_variant(LAB, graded, variant)
