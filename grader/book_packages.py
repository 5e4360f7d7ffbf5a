"""The book's packages in the worker, as students have them (worker side only).

Installed in the sandbox's environment (requirements-book.txt): `d2l` 1.0 (`from d2l import
mxnet as d2l`, np API), `d2lzh` (the Chinese edition, nd API) and `gluonbook` (2018, nd API).

One name, several generations: in 2019 `import d2l` gave a flat module with `d2l.corr2d`
(d2l 0.10 on nd arrays, 0.11-0.12 on np arrays), while d2l 1.0's top-level package holds only
the framework modules. So the flat names are served from the package itself: `corr2d` by a
version that keeps its input's API (NDArray in, NDArray out; np in, np out), every other name
from d2l 1.0's MXNet module. A student's own corr2d never earns its points through this: the
policy fails a corr2d that uses `d2l.corr2d`.

Also what notebooks as published expect of their kernel: `get_ipython()` (code exported by
`jupyter nbconvert` calls it for every magic) and `display()`, and matplotlib drawing nowhere.
"""

from __future__ import annotations

import contextlib
import importlib
import os
import shutil
import tempfile
from typing import Any

FRAMEWORK_MODULES = ("mxnet", "torch", "tensorflow", "jax")


def flat_corr2d(X: Any, K: Any) -> Any:
    """2-D cross-correlation in the API of X, on X's device."""
    import mxnet as mx

    h, w = K.shape
    shape = (X.shape[0] - h + 1, X.shape[1] - w + 1)
    if isinstance(X, mx.np.ndarray):
        Y = mx.np.zeros(shape, dtype=X.dtype, ctx=X.ctx)
    else:
        Y = mx.nd.zeros(shape, dtype=X.dtype, ctx=X.context)
    for i in range(shape[0]):
        for j in range(shape[1]):
            Y[i, j] = (X[i : i + h, j : j + w] * K).sum()
    return Y


FLAT_NAMES = {"corr2d": flat_corr2d}


def flat_name(name: str) -> Any:
    """`d2l.NAME` after a flat `import d2l`, for names d2l 1.0's package does not have."""
    if name.startswith("__") or name in FRAMEWORK_MODULES:
        raise AttributeError(name)  # lets `from d2l import mxnet` import the submodule
    if name in FLAT_NAMES:
        return FLAT_NAMES[name]
    try:
        return getattr(importlib.import_module("d2l.mxnet"), name)
    except AttributeError:
        raise AttributeError(f"module 'd2l' has no attribute '{name}'") from None


class NotebookShell:
    """What `get_ipython()` gives code exported from a notebook: magics and shell escapes do
    nothing, as the grader skips them in notebooks too."""

    def run_line_magic(self, *args: Any, **kwargs: Any) -> None:
        return None

    run_cell_magic = magic = system = getoutput = run_line_magic


def display(*objects: Any, **kwargs: Any) -> None:
    """Jupyter's display(), as text."""
    for value in objects:
        print(repr(value))


def notebook_names() -> dict[str, Any]:
    """Names a notebook's code finds in its kernel without importing them."""
    shell = NotebookShell()
    return {"get_ipython": lambda: shell, "display": display}


def install() -> None:
    """Make the book's packages importable as every generation of students wrote them."""
    os.environ.setdefault("MPLBACKEND", "Agg")
    try:
        package = importlib.import_module("d2l")
    except ImportError:  # a machine without the book's packages: imports fail as they would
        return
    if not hasattr(package, "__getattr__"):
        package.__getattr__ = flat_name


def preload() -> None:
    """Import what the book's packages import, once, in a process that forks submissions.
    matplotlib's font cache is written to a folder that is gone before any submission runs,
    so that nothing in the shared /tmp outlives the zygote's start."""
    install()
    scratch = tempfile.mkdtemp()
    caches = {"MPLCONFIGDIR": scratch, "XDG_CACHE_HOME": scratch}  # matplotlib's, fontconfig's
    os.environ.update(caches)
    try:
        for module in ("matplotlib.pyplot", "pandas", "IPython.display", "requests"):
            with contextlib.suppress(ImportError):
                importlib.import_module(module)
    finally:
        for name in caches:
            del os.environ[name]
        shutil.rmtree(scratch, ignore_errors=True)
