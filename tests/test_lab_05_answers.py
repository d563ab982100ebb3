"""Lab 5 (optimizers): the wrong-answer table. Plausible wrong answers lose points in their own exercise only;
valid alternatives keep full marks (tests/answer_tables.py grades them all in one batch with the real grader)."""
from pathlib import Path

import numpy as np

from answer_tables import KEEPS, LOSES, answer, table_tests
import numtorch as nt
from labs.grading.lab import cell_role, load_lab
from numtorch_magics import landscapes

LAB = load_lab(Path(__file__).parents[1] / "labs" / "05_optimizers")

SGD = "return self.lr * grad"
MOMENTUM = """        velocity = self.momentum * self.velocity.get(i, 0.0) + grad
        self.velocity[i] = velocity
        return self.lr * velocity"""
ADAM = """        t = self.t[i] = self.t.get(i, 0) + 1
        m = self.m[i] = beta1 * self.m.get(i, 0.0) + (1 - beta1) * grad
        v = self.v[i] = beta2 * self.v.get(i, 0.0) + (1 - beta2) * grad ** 2
        m_hat = m / (1 - beta1 ** t)
        v_hat = v / (1 - beta2 ** t)
        return self.lr * m_hat / (np.sqrt(v_hat) + self.eps)"""
SEEDED = "    np.random.seed(0)\n    model = make_spiral_mlp()"
RECORD = "losses.append(loss.item())\n        loss.backward()"

ROWS = [
    answer(LAB, "sgd", "ignores the learning rate", LOSES, (SGD, "return grad")),
    answer(LAB, "sgd", "also subtracts the step itself", LOSES, (SGD, "p.data -= self.lr * grad\n        " + SGD)),
    answer(LAB, "sgd", "a learning rate read once, in the first call", LOSES,
           (SGD, "self.rate = getattr(self, 'rate', self.lr)\n        return self.rate * grad")),
    answer(LAB, "sgd", "delegates to the library", LOSES,
           (SGD, "return nt.optimizers.SGDOptimizer(self.params, self.lr).update(i, p, grad)"), says="off-limits"),
    answer(LAB, "sgd", "the step as its own variable", KEEPS,
           (SGD, "step = np.multiply(grad, self.lr)\n        return step")),

    answer(LAB, "learning_rates", "an overshooting rate that still converges", LOSES,
           ("lr_too_large = 0.25", "lr_too_large = 0.15")),
    answer(LAB, "learning_rates", "a rate of zero", LOSES, ("lr_too_small = 0.001", "lr_too_small = 0")),
    answer(LAB, "learning_rates", "a negative rate climbs", LOSES, ("lr_too_large = 0.25", "lr_too_large = -1.0")),
    answer(LAB, "learning_rates", "other rates in the right bands, an int", KEEPS,
           ("lr_too_small = 0.001", "lr_too_small = 0.0005"), ("lr_just_right = 0.15", "lr_just_right = 0.18"),
           ("lr_too_large = 0.25", "lr_too_large = 1")),

    answer(LAB, "momentum", "the velocity is never stored", LOSES, ("        self.velocity[i] = velocity\n", "")),
    answer(LAB, "momentum", "one velocity for every parameter", LOSES,
           (MOMENTUM, MOMENTUM.replace("get(i, 0.0)", "get(0, 0.0)").replace("velocity[i]", "velocity[0]"))),
    answer(LAB, "momentum", "an average instead of a sum", LOSES,
           ("self.velocity.get(i, 0.0) + grad", "self.velocity.get(i, 0.0) + (1 - self.momentum) * grad")),
    answer(LAB, "momentum", "delegates to the library", LOSES,
           (MOMENTUM, "        return nt.optimizers.SGDOptimizer.update(self, i, p, grad)"), says="off-limits"),
    answer(LAB, "momentum", "the velocity updated in place", KEEPS,
           (MOMENTUM, "        if i not in self.velocity:\n            self.velocity[i] = np.zeros_like(grad)\n"
                      "        self.velocity[i] *= self.momentum\n        self.velocity[i] += grad\n"
                      "        return self.lr * self.velocity[i]")),

    answer(LAB, "adam", "no bias correction", LOSES, ("m_hat = m / (1 - beta1 ** t)", "m_hat = m"),
           ("v_hat = v / (1 - beta2 ** t)", "v_hat = v")),
    answer(LAB, "adam", "hard-coded betas", LOSES,
           ("        t = self.t[i]", "        beta1, beta2 = 0.9, 0.999\n        t = self.t[i]")),
    answer(LAB, "adam", "one step counter for every parameter", LOSES,
           ("t = self.t[i] = self.t.get(i, 0) + 1", "t = self.t[0] = self.t.get(0, 0) + 1")),
    answer(LAB, "adam", "eps inside the square root", LOSES,
           ("(np.sqrt(v_hat) + self.eps)", "np.sqrt(v_hat + self.eps)")),
    answer(LAB, "adam", "delegates to the library", LOSES,
           (ADAM, "        return nt.optimizers.AdamOptimizer.update(self, i, p, grad)"), says="off-limits"),
    answer(LAB, "adam", "the paper's rearranged step (bias correction folded into lr, eps scaled)", KEEPS,
           (ADAM, "        self.t[i] = self.t.get(i, 0) + 1\n"
                  "        self.m[i] = beta1 * self.m.get(i, 0) + (1 - beta1) * grad\n"
                  "        self.v[i] = beta2 * self.v.get(i, 0) + (1 - beta2) * np.square(grad)\n"
                  "        root = np.sqrt(1 - beta2 ** self.t[i])\n"
                  "        step_size = self.lr * root / (1 - beta1 ** self.t[i])\n"
                  "        return step_size * self.m[i] / (np.sqrt(self.v[i]) + self.eps * root)")),

    answer(LAB, "compare", "no seed: every run starts elsewhere", LOSES, (SEEDED, "    model = make_spiral_mlp()")),
    answer(LAB, "compare", "seeded after the model is made", LOSES,
           (SEEDED, "    model = make_spiral_mlp()\n    np.random.seed(0)")),
    answer(LAB, "compare", "ignores make_optimizer", LOSES,
           ("optimizer = make_optimizer(model.get_params())", "optimizer = MySGD(model.get_params(), lr=0.1)")),
    answer(LAB, "compare", "always 200 steps", LOSES, ("for step in range(steps):", "for step in range(200):")),
    answer(LAB, "compare", "records the loss tensors", LOSES, ("losses.append(loss.item())", "losses.append(loss)")),
    answer(LAB, "compare", "zero_grad before backward, float(loss.data)", KEEPS,
           (RECORD, "losses.append(float(loss.data))\n        optimizer.zero_grad()\n        loss.backward()")),
]

INDEPENDENT = [LAB.exercises()]  # no lab 5 test uses another exercise's answer

(test_every_exercise_has_wrong_answers_and_a_valid_alternative,
 test_the_points_the_text_states_and_hidden_tests_carry_half, grades, test_answer) = table_tests(LAB, ROWS, INDEPENDENT)


def test_the_figures_the_text_states():
    cells = {cell_role(cell)[0]: cell.source for cell in LAB.notebook.cells}
    scope = {"np": np, "nt": nt}
    exec(cells["spirals"].replace("print(", "(lambda *a: None)("), scope)
    x, y = nt.Tensor(scope["spiral_x"]), scope["spiral_y"]

    def accuracy(model, optimizer, steps):
        for _ in range(steps):
            loss = nt.layers.CrossEntropyLoss()(model(x), y)
            loss.backward()
            optimizer.step()
        return float(np.mean(model(x).data.argmax(axis=1) == y))

    np.random.seed(0)
    linear = nt.layers.LinearLayer(2, 3)
    np.random.seed(0)
    mlp = scope["make_spiral_mlp"]()
    assert len(y) == 300 and "300 points" in cells["mlp-md"] and "32 units" in cells["mlp-md"]
    assert round(accuracy(linear, nt.optimizers.AdamOptimizer(linear.get_params(), lr=0.05), 1500), 2) == 0.50
    assert "only half of them right" in cells["mlp-md"]
    mlp_accuracy = accuracy(mlp, nt.optimizers.AdamOptimizer(mlp.get_params(), lr=0.01), 200)
    assert f"{mlp_accuracy:.0%} after 200 steps of Adam" in cells["mlp-md"]
    bx, by = nt.tensor(-2.6, requires_grad=True), nt.tensor(1.4, requires_grad=True)
    landscapes.quadratic_bowl(bx, by).backward()
    assert (bx.item(), by.item()) == landscapes.QUADRATIC_BOWL.start
    assert round(by.grad.item() / -bx.grad.item()) == 5 and "d/dy is 5 times d/dx" in cells["adam-demo"]
