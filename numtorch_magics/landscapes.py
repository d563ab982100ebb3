"""Loss landscapes of two parameters: small problems to watch an optimizer walk on.

Each problem is a plain NumTorch function ``f(x, y)`` of two tensors, elementwise in them, so the same code
gives the loss of two scalar parameters (to minimise) and the loss surface over a grid (to draw):

    from numtorch_magics import landscapes
    x, y = nt.tensor(-1.5, requires_grad=True), nt.tensor(2.0, requires_grad=True)
    landscapes.rosenbrock(x, y).backward()            # x.grad, y.grad
    xs, ys, z = landscapes.ROSENBROCK.surface()        # z[i, j] = f(xs[j], ys[i])
"""

import numpy as np

from numtorch.tensor import Tensor, no_grad


def quadratic_bowl(x, y):
    """f(x, y) = (x^2 + 10 y^2) / 2: a long narrow valley, steepest across it."""
    return (x ** 2 + 10 * y ** 2) / 2


def rosenbrock(x, y):
    """f(x, y) = (1 - x)^2 + 100 (y - x^2)^2: a curved, flat-bottomed valley with its minimum at (1, 1)."""
    return (1 - x) ** 2 + 100 * (y - x ** 2) ** 2


NEURON_INPUTS = np.linspace(-3.0, 3.0, 13)
NEURON_TARGETS = 1 / (1 + np.exp(-(2.0 * NEURON_INPUTS - 1.0)))  # made by the neuron w = 2, b = -1


def neuron_fit(w, b):
    """f(w, b) = mean_k (sigmoid(w u_k + b) - t_k)^2: fit one sigmoid neuron to the points (u_k, t_k)."""
    def per_point(p):  # a trailing axis over the data points
        return p.reshape(*p.shape, 1)
    prediction = (per_point(w) * NEURON_INPUTS + per_point(b)).sigmoid()
    return ((prediction - NEURON_TARGETS) ** 2).mean(dim=-1)


class Landscape:
    """A two-parameter problem: the loss ``fn(x, y)``, where to start, the window to draw and the minimum.

    lr maps an optimizer's label ("SGD", "SGD with momentum", "Adam") to a learning rate that makes
    progress on this problem without diverging: curvature decides it, so each problem has its own.
    """

    def __init__(self, name, fn, start, xlim, ylim, minimum, lr, labels=("x", "y")):
        self.name, self.fn, self.start = name, fn, start
        self.xlim, self.ylim, self.minimum, self.lr, self.labels = xlim, ylim, minimum, lr, labels

    def __call__(self, x, y):
        return self.fn(x, y)

    def surface(self, n=61):
        """(xs, ys, z): an n x n grid over the window and the loss at each point, z[i, j] = f(xs[j], ys[i])."""
        xs, ys = np.linspace(*self.xlim, n), np.linspace(*self.ylim, n)
        gx, gy = np.meshgrid(xs, ys)
        with no_grad():
            return xs, ys, self.fn(Tensor(gx), Tensor(gy)).data

    def __repr__(self):
        return f"Landscape({self.name!r})"


QUADRATIC_BOWL = Landscape("quadratic bowl", quadratic_bowl, start=(-2.6, 1.4), xlim=(-3, 3), ylim=(-2, 2),
                           minimum=(0, 0), lr={"SGD": 0.17, "SGD with momentum": 0.03, "Adam": 0.2})
ROSENBROCK = Landscape("Rosenbrock", rosenbrock, start=(-1.5, 2.0), xlim=(-2, 2), ylim=(-1, 3),
                       minimum=(1, 1), lr={"SGD": 0.001, "SGD with momentum": 0.0003, "Adam": 0.1})
NEURON_FIT = Landscape("1-neuron fit", neuron_fit, start=(-3.0, 3.0), xlim=(-4, 6), ylim=(-5, 5),
                       minimum=(2, -1), lr={"SGD": 3.0, "SGD with momentum": 0.5, "Adam": 0.2},
                       labels=("w", "b"))

LANDSCAPES = {problem.name: problem for problem in (QUADRATIC_BOWL, ROSENBROCK, NEURON_FIT)}
