"""Shared by lab 1's public and hidden tests (shipped with the public ones)."""
import numpy as np
import pytest

from labs.testing import call


@pytest.fixture
def check_broadcast():
    """check_broadcast(broadcast_shape, pairs, hint): the student's broadcast_shape agrees with NumPy on every
    pair of shapes (None where NumPy refuses to broadcast)."""

    def check(broadcast_shape, pairs, hint):
        for a, b in pairs:
            try:
                expected = np.broadcast_shapes(a, b)
            except ValueError:
                expected = None
            got = call(broadcast_shape, a, b)
            assert got == expected, f"broadcast_shape({a}, {b}) returned {got!r}, expected {expected!r}. {hint}"

    return check
