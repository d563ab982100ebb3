"""Lab 5 (optimizers): the wrong-answer table. Plausible wrong answers lose points in their own exercise only;
valid alternatives keep full marks (tests/answer_table.py grades them all in one batch with the real grader)."""
from pathlib import Path

import numpy as np
import pytest

from answer_table import cell_sources, check_hidden_share, check_table, check_variant, grade_variants, valid, wrong
import numtorch as nt
from labs.grading.lab import load_lab
from numtorch import landscapes

LAB = Path(__file__).parents[1] / "labs" / "05_optimizers"

MOMENTUM = """        velocity = self.momentum * self.velocity.get(i, 0.0) + grad
        self.velocity[i] = velocity
        return self.lr * velocity"""
ADAM_MOMENTS = """        t = self.t[i] = self.t.get(i, 0) + 1
        m = self.m[i] = beta1 * self.m.get(i, 0.0) + (1 - beta1) * grad
        v = self.v[i] = beta2 * self.v.get(i, 0.0) + (1 - beta2) * grad ** 2
        m_hat = m / (1 - beta1 ** t)
        v_hat = v / (1 - beta2 ** t)
        return self.lr * m_hat / (np.sqrt(v_hat) + self.eps)"""

VARIANTS = [
    wrong("sgd", "ignores the learning rate", ("sgd", "return self.lr * grad", "return grad")),
    wrong("sgd", "also subtracts the step itself",
          ("sgd", "return self.lr * grad", "p.data -= self.lr * grad\n        return self.lr * grad")),
    wrong("sgd", "a learning rate read once, in the first call",
          ("sgd", "return self.lr * grad", "self.rate = getattr(self, 'rate', self.lr)\n        return self.rate * grad")),
    wrong("sgd", "delegates to the library",
          ("sgd", "return self.lr * grad", "return nt.optimizers.SGDOptimizer(self.params, self.lr).update(i, p, grad)"),
          says="off-limits"),
    valid("sgd", "the step as its own variable", ("sgd", "return self.lr * grad", "step = np.multiply(grad, self.lr)\n        return step")),

    wrong("learning_rates", "an overshooting rate that still converges", ("learning_rates", "lr_too_large = 0.25", "lr_too_large = 0.15")),
    wrong("learning_rates", "a rate of zero", ("learning_rates", "lr_too_small = 0.001", "lr_too_small = 0")),
    wrong("learning_rates", "a negative rate climbs", ("learning_rates", "lr_too_large = 0.25", "lr_too_large = -1.0")),
    valid("learning_rates", "other rates in the right bands, an int",
          ("learning_rates", "lr_too_small = 0.001", "lr_too_small = 0.0005"),
          ("learning_rates", "lr_just_right = 0.15", "lr_just_right = 0.18"),
          ("learning_rates", "lr_too_large = 0.25", "lr_too_large = 1")),

    wrong("momentum", "the velocity is never stored", ("momentum", "        self.velocity[i] = velocity\n", "")),
    wrong("momentum", "one velocity for every parameter",
          ("momentum", MOMENTUM, MOMENTUM.replace("get(i, 0.0)", "get(0, 0.0)").replace("velocity[i]", "velocity[0]"))),
    wrong("momentum", "an average instead of a sum",
          ("momentum", "self.velocity.get(i, 0.0) + grad", "self.velocity.get(i, 0.0) + (1 - self.momentum) * grad")),
    wrong("momentum", "delegates to the library",
          ("momentum", MOMENTUM, "        return nt.optimizers.SGDOptimizer.update(self, i, p, grad)"), says="off-limits"),
    valid("momentum", "the velocity updated in place",
          ("momentum", MOMENTUM, "        if i not in self.velocity:\n            self.velocity[i] = np.zeros_like(grad)\n"
                                 "        self.velocity[i] *= self.momentum\n        self.velocity[i] += grad\n"
                                 "        return self.lr * self.velocity[i]")),

    wrong("adam", "no bias correction", ("adam", "m_hat = m / (1 - beta1 ** t)", "m_hat = m"),
          ("adam", "v_hat = v / (1 - beta2 ** t)", "v_hat = v")),
    wrong("adam", "hard-coded betas", ("adam", "        t = self.t[i]", "        beta1, beta2 = 0.9, 0.999\n        t = self.t[i]")),
    wrong("adam", "one step counter for every parameter",
          ("adam", "t = self.t[i] = self.t.get(i, 0) + 1", "t = self.t[0] = self.t.get(0, 0) + 1")),
    wrong("adam", "eps inside the square root", ("adam", "(np.sqrt(v_hat) + self.eps)", "np.sqrt(v_hat + self.eps)")),
    wrong("adam", "delegates to the library",
          ("adam", ADAM_MOMENTS, "        return nt.optimizers.AdamOptimizer.update(self, i, p, grad)"), says="off-limits"),
    valid("adam", "the paper's rearranged step (correction folded into lr, eps scaled)",
          ("adam", ADAM_MOMENTS,
           "        self.t[i] = self.t.get(i, 0) + 1\n"
           "        self.m[i] = beta1 * self.m.get(i, 0) + (1 - beta1) * grad\n"
           "        self.v[i] = beta2 * self.v.get(i, 0) + (1 - beta2) * np.square(grad)\n"
           "        root = np.sqrt(1 - beta2 ** self.t[i])\n"
           "        step_size = self.lr * root / (1 - beta1 ** self.t[i])\n"
           "        return step_size * self.m[i] / (np.sqrt(self.v[i]) + self.eps * root)")),

    wrong("compare", "no seed: every run starts elsewhere", ("compare", "    np.random.seed(0)\n    model", "    model")),
    wrong("compare", "seeded after the model is made",
          ("compare", "    np.random.seed(0)\n    model = make_spiral_mlp()", "    model = make_spiral_mlp()\n    np.random.seed(0)")),
    wrong("compare", "ignores make_optimizer",
          ("compare", "optimizer = make_optimizer(model.get_params())", "optimizer = MySGD(model.get_params(), lr=0.1)")),
    wrong("compare", "always 200 steps", ("compare", "for step in range(steps):", "for step in range(200):")),
    wrong("compare", "records the loss tensors", ("compare", "losses.append(loss.item())", "losses.append(loss)")),
    valid("compare", "zero_grad before backward, float(loss.data)",
          ("compare", "losses.append(loss.item())\n        loss.backward()",
           "losses.append(float(loss.data))\n        optimizer.zero_grad()\n        loss.backward()")),
]

INDEPENDENT = [sorted(load_lab(LAB).exercises())]  # no lab 5 test uses another exercise's answer


def test_hidden_tests_carry_half_the_points():
    check_hidden_share(LAB)


def test_every_exercise_has_its_rows():
    check_table(VARIANTS, load_lab(LAB).exercises())


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    return grade_variants(LAB, VARIANTS, tmp_path_factory.mktemp("lab05_answers"), INDEPENDENT)


@pytest.mark.slow
@pytest.mark.parametrize("variant", VARIANTS, ids=lambda variant: variant.id)
def test_variant(graded, variant):
    check_variant(LAB, graded, variant)


def test_the_figures_the_text_states():
    cells = cell_sources(LAB)
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
