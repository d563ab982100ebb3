"""Backward hooks: other packages listen to `.backward()` without the core importing them.

    handle = numtorch.hooks.register_backward_hook(lambda root: print("backward of", root))
    ...
    handle.remove()

A hook is called as ``hook(root)`` after every completed ``Tensor.backward()``, in registration order.
"""

_backward_hooks = {}
_next_id = 0


class HookHandle:
    """Returned by `register_backward_hook`; `remove()` unsubscribes (removing twice is harmless)."""

    __slots__ = ("id",)

    def __init__(self, hook_id):
        self.id = hook_id

    def remove(self):
        _backward_hooks.pop(self.id, None)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.remove()


def register_backward_hook(hook):
    """Call ``hook(root)`` after each ``root.backward()``; returns a `HookHandle`."""
    global _next_id
    if not callable(hook):
        raise TypeError(f"register_backward_hook: expected a callable, got {type(hook).__name__}")
    _next_id += 1
    _backward_hooks[_next_id] = hook
    return HookHandle(_next_id)


def backward_hooks():
    """The hooks registered now, in registration order (a copy)."""
    return list(_backward_hooks.values())


def _run_backward_hooks(root):
    for hook in list(_backward_hooks.values()):
        hook(root)
