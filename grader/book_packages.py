"""The book's packages in the worker, as students have them (worker side only).

Installed in the sandbox's environment (requirements-book.txt): `d2l` 1.0 (`from d2l import
mxnet as d2l`, np API; `from d2l import torch as d2l`), `d2lzh` (the Chinese edition, nd API)
and `gluonbook` (2018, nd API).

`d2l.torch` imports torchvision, whose PyPI builds load only beside the CUDA build of their own
torch release. Where torchvision does not import, a stand-in lets `from d2l import torch as d2l`
work; using it (datasets, image transforms: nothing these exercises need) raises ImportError.

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
import sys
import tempfile
import types
from collections.abc import Callable
from typing import Any

FRAMEWORK_MODULES = ("mxnet", "torch", "tensorflow", "jax")


BOOK_MODULES = {"mxnet": "d2l.mxnet", "pytorch": "d2l.torch"}


def flat_names(framework: str) -> Callable[[str], Any]:
    """`d2l.NAME` after a flat `import d2l`, for names d2l 1.0's package does not have: from
    the book's module of the framework graded (MXNet's corr2d keeps its input's API)."""

    def flat_name(name: str) -> Any:
        if name.startswith("__") or name in FRAMEWORK_MODULES:
            raise AttributeError(name)  # lets `from d2l import mxnet` import the submodule
        if name == "corr2d" and framework == "mxnet":
            from grader.frameworks.mxnet import book_corr2d

            return book_corr2d
        try:
            return getattr(importlib.import_module(BOOK_MODULES[framework]), name)
        except AttributeError:
            raise AttributeError(f"module 'd2l' has no attribute '{name}'") from None

    return flat_name


class Unavailable(types.ModuleType):
    """A package that cannot be imported here, standing in so that importing it works; every
    use of what it holds raises ImportError naming it."""

    def __init__(self, name: str, why: str) -> None:
        super().__init__(name)
        self.__why = why
        self.__path__: list[str] = []

    def __getattr__(self, name: str) -> Any:
        if name.startswith("__"):
            raise AttributeError(name)
        return Unavailable(f"{self.__name__}.{name}", self.__why)

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        raise ImportError(f"{self.__name__} cannot be used here: {self.__why}")


def stand_in_for_torchvision() -> None:
    """torchvision if it imports, else a stand-in (see the module's docstring)."""
    if "torchvision" in sys.modules:
        return
    try:
        importlib.import_module("torchvision")
        return
    except Exception:  # ImportError, or RuntimeError when its operators don't match torch
        for name in [n for n in sys.modules if n == "torchvision" or n.startswith("torchvision.")]:
            del sys.modules[name]
    why = "torchvision is not installed beside this PyTorch; these exercises do not need it"
    package = Unavailable("torchvision", why)
    sys.modules["torchvision"] = package
    for name in ("transforms", "datasets", "models", "io", "ops", "utils"):
        sys.modules[f"torchvision.{name}"] = getattr(package, name)


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


def install(framework: str = "mxnet") -> None:
    """Make the book's packages importable as every generation of students wrote them."""
    os.environ.setdefault("MPLBACKEND", "Agg")
    if framework == "pytorch":
        stand_in_for_torchvision()
    try:
        package = importlib.import_module("d2l")
    except ImportError:  # a machine without the book's packages: imports fail as they would
        return
    if not hasattr(package, "__getattr__"):
        package.__getattr__ = flat_names(framework)


# What each framework's book module imports besides the framework itself.
PRELOADED = {
    "mxnet": ("matplotlib.pyplot", "pandas", "IPython.display", "requests"),
    "pytorch": (
        "matplotlib.pyplot",
        "pandas",
        "IPython.display",
        "requests",
        "scipy.spatial",
        "torch._dynamo",  # what the first torch.optim optimizer imports: about 3 s
    ),
}


def preload(framework: str = "mxnet") -> None:
    """Import what the book's packages import, once, in a process that forks submissions.
    matplotlib's font cache is written to a folder that is gone before any submission runs,
    so that nothing in the shared /tmp outlives the zygote's start."""
    install(framework)
    scratch = tempfile.mkdtemp()
    caches = {"MPLCONFIGDIR": scratch, "XDG_CACHE_HOME": scratch}  # matplotlib's, fontconfig's
    os.environ.update(caches)
    try:
        for module in PRELOADED[framework]:
            with contextlib.suppress(ImportError):
                importlib.import_module(module)
    finally:
        for name in caches:
            del os.environ[name]
        shutil.rmtree(scratch, ignore_errors=True)
