"""MXNet 1.9.1 on today's numpy and Python: the few names it still uses, put back where missing.

MXNet 1.9.1 was written for numpy < 1.24 and Python <= 3.11. It imports and computes correctly
on numpy 1.26 and 2.x and on Python 3.12 and 3.13 once these exist again:

- `numpy.bool` (gone in numpy 1.24-1.26): bound at import by `mxnet/numpy/utils.py` and used on
  every item assignment;
- the constants and functions numpy 2 removed, bound at import by `mxnet/numpy/utils.py` and
  `mxnet/numpy/fallback.py`;
- `sometrue`, `round_` and `product`, which `mxnet/numpy_dispatch_protocol.py` looks up by name
  and uses as keys of its dispatch table: functions of their own, not aliases, so that their
  entries do not replace those of `any` and `prod`;
- `numpy.compat.basestring` (`mx.np.pad`);
- `distutils` (gone in Python 3.12): setuptools provides it, pinned for 3.12+ in requirements.txt.

Nothing that exists is replaced: on numpy 1.23.5 this adds nothing. `import_mxnet` applies it
and imports MXNet, turning a missing system library into a message that names the package to
install. The start-up hook (`python -m grader.frameworks.mxnet_compat`, run by `make setup`)
applies it before any `import mxnet` in an environment, so that plain scripts, notebook
kernels and the tests import MXNet too.
"""

from __future__ import annotations

import sys

# The start-up hook imports this module in every process, so its imports stay lazy (even typing).
TYPE_CHECKING = False
if TYPE_CHECKING:
    from pathlib import Path
    from types import ModuleType

HOOK_FILE = "grader_mxnet_compat.pth"
# One line that `site` runs at start-up; it does nothing once the grader is uninstalled.
HOOK_LINE = (
    'import importlib.util; importlib.util.find_spec("grader") and '
    '__import__("grader.frameworks.mxnet_compat", fromlist=["_"]).install_import_hook()\n'
)

CONSTANTS = {
    "PZERO": 0.0,
    "NZERO": -0.0,
    "PINF": float("inf"),
    "NINF": float("-inf"),
    "Inf": float("inf"),
    "NAN": float("nan"),
    "NaN": float("nan"),
}
# Removed from numpy in 1.20 (NEP 32); MXNet's fallback module still binds them.
FINANCIAL = ("mirr", "npv", "pmt", "ppmt", "pv", "rate")

# Where the library a loader error names comes from, on Debian and Ubuntu.
DEBIAN_PACKAGES = {
    "libgomp.so.1": "libgomp1",
    "libquadmath.so.0": "libquadmath0",
    "libgfortran.so.5": "libgfortran5",
    "libstdc++.so.6": "libstdc++6",
    "libgcc_s.so.1": "libgcc-s1",
}
SHARED_LIBRARY = r"(lib[\w+.-]*?\.so(?:\.\d+)*)"
# What libmxnet.so needs from the system rather than from its own wheel (slim images lack them).
SYSTEM_LIBRARIES = ("libgomp.so.1", "libquadmath.so.0")


class MXNetUnavailable(OSError):
    """MXNet cannot be imported in this environment; the message says what to install."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.strerror = message  # what the command line prints for an OSError

    def __str__(self) -> str:
        return self.strerror


def _missing(numpy: ModuleType, name: str) -> bool:
    import warnings

    with warnings.catch_warnings():  # numpy warns when an expired name is looked up
        warnings.simplefilter("ignore")
        return not hasattr(numpy, name)


def _removed_financial(name: str):
    def removed(*args, **kwargs):
        raise RuntimeError(
            f"numpy.{name} was removed in numpy 1.20 (NEP 32); numpy_financial has it"
        )

    removed.__name__ = removed.__qualname__ = name
    return removed


def missing_names(numpy: ModuleType) -> dict[str, object]:
    """What MXNet 1.9.1 looks up in numpy that this numpy lacks, with the value to put back."""
    import types

    def sometrue(*args, **kwargs):
        return numpy.any(*args, **kwargs)

    def round_(*args, **kwargs):
        return numpy.round(*args, **kwargs)

    def product(*args, **kwargs):
        return numpy.prod(*args, **kwargs)

    def alltrue(*args, **kwargs):
        return numpy.all(*args, **kwargs)

    def msort(a):
        return numpy.sort(a, axis=0)

    def in1d(ar1, ar2, assume_unique=False, invert=False, **kwargs):
        return numpy.isin(ar1, ar2, assume_unique=assume_unique, invert=invert, **kwargs).ravel()

    def trapz(y, x=None, dx=1.0, axis=-1):
        return numpy.trapezoid(y, x=x, dx=dx, axis=axis)

    compat = types.ModuleType("numpy.compat", "What MXNet uses of numpy 1's numpy.compat.")
    compat.basestring = str
    candidates: dict[str, object] = {
        "bool": getattr(numpy, "bool_", bool),
        **CONSTANTS,
        "sometrue": sometrue,
        "round_": round_,
        "product": product,
        "alltrue": alltrue,
        "msort": msort,
        "in1d": in1d,
        "trapz": trapz,
        **{name: _removed_financial(name) for name in FINANCIAL},
        "compat": compat,
    }
    return {name: value for name, value in candidates.items() if _missing(numpy, name)}


def restore_numpy_names() -> list[str]:
    """Add to numpy what MXNet 1.9.1 needs and it lacks; return the names added."""
    import numpy

    added = missing_names(numpy)
    for name, value in added.items():
        setattr(numpy, name, value)
    return sorted(added)


def system_library_message(error: OSError) -> str:
    """A loader error ('libgomp.so.1: cannot open shared object file') -> what to install."""
    import re

    text = str(error)
    found = re.search(SHARED_LIBRARY, text)
    if found is None or "libmxnet" in found.group(1):
        return f"MXNet's library could not be loaded: {text}"
    library = found.group(1)
    package = DEBIAN_PACKAGES.get(library)
    install = (
        f"install the package {package} (Debian/Ubuntu: apt-get install {package})"
        if package
        else "install the system package that provides it"
    )
    return (
        f"MXNet needs the system library {library}, which could not be loaded ({text}): {install}"
    )


def _how_to_install() -> str:
    import numpy

    if int(numpy.__version__.split(".")[0]) >= 2:  # mxnet 1.9.1 declares numpy<2
        return "pip install --no-deps mxnet==1.9.1 (it runs on numpy 2 with this module)"
    return "pip install mxnet==1.9.1"


def check_mxnet_loads() -> None:
    """What import_mxnet would refuse, found in milliseconds without importing MXNet (which
    takes seconds): MXNet installed, and the system libraries its library links loadable."""
    import ctypes
    import importlib.util

    if importlib.util.find_spec("mxnet") is None:
        raise MXNetUnavailable(f"MXNet is not installed for {sys.executable}: {_how_to_install()}")
    for library in SYSTEM_LIBRARIES:
        try:
            ctypes.CDLL(library)
        except OSError as error:
            raise MXNetUnavailable(system_library_message(error)) from error


def import_mxnet() -> ModuleType:
    """Import MXNet after restoring what it needs; a clear MXNetUnavailable if it cannot be."""
    if "mxnet" in sys.modules:
        return sys.modules["mxnet"]
    restore_numpy_names()
    try:
        import mxnet
    except ModuleNotFoundError as error:
        if error.name == "distutils":
            raise MXNetUnavailable(
                f"MXNet 1.9.1 imports distutils, which Python {sys.version_info.major}."
                f"{sys.version_info.minor} no longer has: install setuptools "
                "(pip install -r requirements.txt pins it)"
            ) from error
        if error.name == "mxnet":
            raise MXNetUnavailable(
                f"MXNet is not installed for {sys.executable}: {_how_to_install()}"
            ) from error
        raise
    except OSError as error:
        raise MXNetUnavailable(system_library_message(error)) from error
    return mxnet


class _BeforeMXNet:
    """A meta path finder that restores numpy's names when `import mxnet` is first asked for,
    then leaves; it finds nothing itself."""

    def find_spec(self, name, path=None, target=None):
        if name == "mxnet":
            if self in sys.meta_path:
                sys.meta_path.remove(self)
            restore_numpy_names()
        return None


def install_import_hook() -> None:
    """Restore numpy's names just before this process first imports MXNet (no numpy import now)."""
    if "mxnet" not in sys.modules and not any(
        isinstance(finder, _BeforeMXNet) for finder in sys.meta_path
    ):
        sys.meta_path.insert(0, _BeforeMXNet())


def write_startup_hook(site_packages: Path | str) -> Path:
    """Write the .pth file that installs the import hook in every process of an environment."""
    from pathlib import Path

    path = Path(site_packages) / HOOK_FILE
    path.write_text(HOOK_LINE)
    return path


if __name__ == "__main__":
    import sysconfig

    print(f"wrote {write_startup_hook(sysconfig.get_path('purelib'))}")
