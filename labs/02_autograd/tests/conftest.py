"""Shared by lab 2's public and hidden tests (shipped with the public ones)."""
import pytest

import numtorch as nt


@pytest.fixture
def graph_grads():
    """graph_grads(x, y): the grads backward() gives in the graph u = x y, v = u + x, dead = u 100, L = v v."""

    def grads(x, y):
        x, y = nt.Tensor(x, autograd=True), nt.Tensor(y, autograd=True)
        u = x * y
        v = u + x
        dead = u * 100
        L = v * v
        L.backward()
        return {name: None if t.grad is None else t.grad.item() for name, t in
                {"x": x, "y": y, "u": u, "v": v, "L": L, "dead": dead}.items()}

    return grads
