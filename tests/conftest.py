"""Fixtures shared by every test file: keep this small and generic."""

import numpy as np
import pytest


@pytest.fixture
def rng():
    """A seeded NumPy generator: each test gets the same numbers on every run."""
    return np.random.default_rng(0)


@pytest.fixture(autouse=True)
def _seed_numpy_global():
    """Layers initialise their weights from np.random: seed it so a test never depends on the order it runs in."""
    np.random.seed(0)


@pytest.fixture(scope="session")
def torch():
    """PyTorch, for cross-checks; the test skips when it is not installed."""
    return pytest.importorskip("torch")
