"""Shared by lab 1's public and hidden tests (shipped with the public ones)."""
import numpy as np
import pytest

from labs.testing import TensorData

TENSOR_HINT = "Hint: wrap the data: nt.Tensor(data) or nt.tensor(data), and build results with tensor methods."


@pytest.fixture
def tensor_from(student):
    """tensor_from(code, what, **inputs): the `result` of the snippet, which must be an nt.Tensor (TensorData)."""

    def run(code, what, **inputs):
        value = student.run(code, what=what, **inputs)
        assert isinstance(value, TensorData), f"{what} should be an nt.Tensor, got {type(value).__name__}. {TENSOR_HINT}"
        return value

    return run


@pytest.fixture
def check_broadcast(student):
    """check_broadcast(pairs, hint): the student's broadcast_shape agrees with NumPy on every pair of shapes
    (None where NumPy refuses to broadcast)."""

    def check(pairs, hint):
        for a, b in pairs:
            try:
                expected = np.broadcast_shapes(a, b)
            except ValueError:
                expected = None
            got = student.call("broadcast_shape", a, b, hint=hint)
            assert got == expected and type(got) is type(expected), (
                f"broadcast_shape({a}, {b}) returned {got!r}, expected {expected!r}. {hint}")

    return check
