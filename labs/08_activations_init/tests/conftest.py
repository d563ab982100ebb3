"""Shared by lab 8's public and hidden tests (shipped with the public ones): the judge's own forward and backward."""
import numpy as np
import pytest

import numtorch as nt

ACTIVATIONS = {"tanh": lambda t: t.tanh(), "sigmoid": lambda t: t.sigmoid(), "relu": lambda t: t.relu()}


@pytest.fixture
def reference_pass():
    """reference_pass(weights, x, activation) -> (activations per layer, weight gradients per layer)."""

    def run(weights, x, activation):
        params = [nt.tensor(w, requires_grad=True) for w in weights]
        h, acts = nt.tensor(x), []
        for w in params:
            h = ACTIVATIONS[activation](h @ w + np.zeros(w.shape[1]))
            acts.append(h.data)
        (h ** 2).mean().backward()
        return acts, [w.grad.data for w in params]

    return run


@pytest.fixture
def layers_code():
    """A snippet that builds the student's layers (deep_net) holding the judge's `weights`."""
    return """
layers = deep_net(len(weights), weights[0].shape[0], 1.0)
for layer, w in zip(layers, weights):
    layer.weight.data = np.array(w, dtype=float)
"""
