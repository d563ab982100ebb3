"""Lab 9 (the engine): the wrong-answer table, graded in one batch by the real grader."""
from pathlib import Path

from answer_tables import KEEPS, LOSES, answer, table_tests
from labs.grading.lab import load_lab

LAB = load_lab(Path(__file__).parents[1] / "labs" / "09_engine")
VISIT = """        if value in seen:
            return
        seen.add(value)
        for parent in value.inputs:
            visit(parent)
        order.append(value)"""
STEP = """    loss = loss_fn(params)
    zero_grad(loss)
    backward(loss)"""

ROWS = [
    answer(LAB, "rules", "= instead of += in mul", LOSES, ("a.grad += b.data * out.grad\n        b.grad += a.data * out.grad",
                                              "a.grad = b.data * out.grad\n        b.grad = a.data * out.grad")),
    answer(LAB, "rules", "tanh's derivative without out.grad", LOSES, ("a.grad += (1 - out.data ** 2) * out.grad", "a.grad += 1 - out.data ** 2")),
    answer(LAB, "rules", "power's derivative as k * a^k", LOSES, ("a.grad += k * a.data ** (k - 1) * out.grad", "a.grad += k * a.data ** k * out.grad")),
    answer(LAB, "rules", "tanh's derivative from the input", KEEPS,
          ("a.grad += (1 - out.data ** 2) * out.grad", "a.grad += out.grad / math.cosh(a.data) ** 2")),

    answer(LAB, "topo", "no memory of visited values", LOSES, ("        if value in seen:\n            return\n        seen.add(value)\n", "")),
    answer(LAB, "topo", "appends before visiting the inputs", LOSES, (VISIT, """        if value in seen:
            return
        seen.add(value)
        order.append(value)
        for parent in value.inputs:
            visit(parent)""")),
    answer(LAB, "topo", "an explicit stack instead of recursion", KEEPS, ("""    def visit(value):
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

    answer(LAB, "backward", "forward order", LOSES, ("for value in reversed(topological_order(root)):", "for value in topological_order(root):")),
    answer(LAB, "backward", "no seed", LOSES, ("    root.grad = 1.0\n", "")),
    answer(LAB, "backward", "plain recursion from the root", LOSES, ("""    root.grad = 1.0
    for value in reversed(topological_order(root)):
        value.backward_step()""", """    root.grad = 1.0

    def walk(value):
        value.backward_step()
        for parent in value.inputs:
            walk(parent)

    walk(root)""")),
    answer(LAB, "backward", "the order reversed by slicing", KEEPS, ("reversed(topological_order(root))", "topological_order(root)[::-1]")),

    answer(LAB, "zero", "zeroes only the leaves", LOSES, ("    for value in topological_order(root):\n        value.grad = 0.0",
                                             "    for value in topological_order(root):\n        if not value.inputs:\n            value.grad = 0.0")),
    answer(LAB, "zero", "no zeroing in train_step", LOSES, (STEP, "    loss = loss_fn(params)\n    backward(loss)")),
    answer(LAB, "zero", "returns the loss after the step", LOSES, ("    return loss.data", "    return loss_fn(params).data")),
    answer(LAB, "zero", "zero the parameters, then build the loss", KEEPS, (STEP, """    for p in params:
        p.grad = 0.0
    loss = loss_fn(params)
    backward(loss)""")),
]
INDEPENDENT = [LAB.exercises()]  # every test of this lab uses stand-ins for the other exercises

(test_every_exercise_has_wrong_answers_and_a_valid_alternative,
 test_the_points_the_text_states_and_hidden_tests_carry_half, grades, test_answer) = table_tests(LAB, ROWS, INDEPENDENT)


