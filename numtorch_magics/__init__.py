"""NumTorch's IPython extension: ``%load_ext numtorch_magics``, then ``%%numtorch`` draws the autograd graph
after every ``.backward()`` of the cell (see `numtorch_magics.magics`).

``python -m numtorch_magics install-kernel`` installs a "NumTorch (Python 3)" kernel that loads the
extension at start, so no ``%load_ext`` is needed (see `numtorch_magics.kernel`).
"""


def load_ipython_extension(ipython):
    """Register the magics and subscribe to NumTorch's backward hook (once, even when called again)."""
    from numtorch_magics.magics import NumtorchMagics

    unload_ipython_extension(ipython)
    ipython.register_magics(NumtorchMagics(ipython))


def unload_ipython_extension(ipython):
    """Remove the magics, the backward hook and the event handlers that `load_ipython_extension` added."""
    magics = ipython.magics_manager.registry.get("NumtorchMagics")
    if magics is not None:
        magics.close()
