"""What differs between the IPython / ipykernel / ipywidgets versions NumTorch supports, in one place.

Colab runs IPython 7.34, ipykernel 6.17 and ipywidgets 7.7 (and breaks if they are upgraded), so the magics
and widgets take what changed since from here: the real thing when the installed version has it, else a
stand-in that does the same or, for a cosmetic feature, nothing.
"""
import json
from pathlib import Path

from IPython.core import magic_arguments
from IPython.utils.process import arg_split

try:
    from IPython.core.magic import output_can_be_silenced
except ImportError:  # IPython < 8.10: a trailing ";" cannot silence a cell magic's result there anyway
    def output_can_be_silenced(magic):
        """Mark `magic` as silenceable by a trailing ";" (a no-op before IPython 8.10)."""
        return magic


def parse_argstring(magic_func, argstring, *, partial=False):
    """IPython's parse_argstring; with `partial` (IPython >= 8), (options, words it does not know)."""
    if not partial:
        return magic_arguments.parse_argstring(magic_func, argstring)
    return magic_func.parser.parse_known_args(arg_split(argstring))


def write_kernel_spec(path=None, overrides=None, extra_arguments=None, python_arguments=None):
    """ipykernel's write_kernel_spec, returning the folder as a str (jupyter_client 6 needs one);
    `python_arguments` (ipykernel >= 6.19) are put into kernel.json by hand on older ipykernels."""
    from ipykernel import kernelspec

    if python_arguments is None or "python_arguments" in kernelspec.write_kernel_spec.__code__.co_varnames:
        extra = {} if python_arguments is None else {"python_arguments": python_arguments}
        return str(kernelspec.write_kernel_spec(path, overrides=overrides, extra_arguments=extra_arguments, **extra))
    path = kernelspec.write_kernel_spec(path, overrides=overrides, extra_arguments=extra_arguments)
    spec_file = Path(path) / "kernel.json"
    spec = json.loads(spec_file.read_text())
    spec["argv"][1:1] = python_arguments  # right after the Python executable, before -m ipykernel_launcher
    spec_file.write_text(json.dumps(spec, indent=1))
    return str(path)


def widget_mimebundle(widget, include=None, exclude=None):
    """An ipywidget's display data: its _repr_mimebundle_ (ipywidgets 8), else what ipywidgets 7 displays."""
    if hasattr(widget, "_repr_mimebundle_"):
        return widget._repr_mimebundle_(include=include, exclude=exclude)
    view = {"version_major": 2, "version_minor": 0, "model_id": widget._model_id}
    return {"text/plain": repr(widget), "application/vnd.jupyter.widget-view+json": view}
