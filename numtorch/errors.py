"""NumTorch's exception types: each subclasses the built-in a student would expect to catch."""

import traceback

_LIBRARIES = ("numtorch", "numtorch_magics", "numpy", "IPython")  # whose frames a student's traceback leaves out


class NumTorchError(Exception):
    """Base class of every error NumTorch raises on purpose.

    In IPython and Jupyter its traceback shows the student's own lines and the message, without NumTorch's
    frames (the mistake is in the calling line, not in the library); `error.__traceback__` still holds them all.
    """

    def _render_traceback_(self):
        """The traceback IPython shows (IPython asks exceptions for this, as it does for ipyparallel's)."""
        return student_traceback(self).splitlines()


def student_traceback(error):
    """The traceback text of `error` without the frames of NumTorch (nor NumPy's, nor IPython's cell runner);
    preceded by its cause when the cause happened in the student's own code (a forward they wrote)."""
    frames = _student_frames(error.__traceback__)
    text = "".join(["Traceback (most recent call last):\n", *traceback.StackSummary.extract(frames).format(),
                    *traceback.format_exception_only(type(error), error)])
    cause = error.__cause__
    if cause is not None and _student_frames(cause.__traceback__):
        text = (student_traceback(cause) + "\nThe above exception was the direct cause of the following "
                                           "exception:\n\n" + text)
    return text


def _student_frames(tb):
    return [(frame, line) for frame, line in traceback.walk_tb(tb)
            if frame.f_globals.get("__name__", "").split(".")[0] not in _LIBRARIES]


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


class NumTorchValueError(NumTorchError, ValueError):
    """A setting outside its allowed values (reduction='avg', a negative learning rate, ...)."""
