"""NumTorch's exception types: each subclasses the built-in a student would expect to catch."""


class NumTorchError(Exception):
    """Base class of every error NumTorch raises on purpose."""


class ShapeError(NumTorchError, ValueError):
    """Shapes that do not fit an operation (the message names the op, the shapes and a fix)."""


class GradError(NumTorchError, RuntimeError):
    """A backward pass that cannot run: no gradient tracking, a gradient of the wrong shape, ..."""


class NumTorchTypeError(NumTorchError, TypeError):
    """A value of the wrong type: an optimizer given something that is not a tensor, float class targets, ..."""


class GradcheckError(NumTorchError, AssertionError):
    """Analytic and numerical gradients disagree (raised by numtorch.testing.gradcheck)."""


class NumTorchIndexError(NumTorchError, IndexError):
    """An index out of range (indexing, index_select, class targets)."""
