"""MXNet 1.9.1 on this Python and numpy, through its compatibility module, in fresh processes."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import types
from pathlib import Path

import numpy
import pytest

from grader.frameworks.mxnet_compat import (
    CONSTANTS,
    FINANCIAL,
    HOOK_FILE,
    missing_names,
    restore_numpy_names,
    write_startup_hook,
)

ROOT = Path(__file__).resolve().parents[2]
LEGACY = {"bool", *CONSTANTS, "sometrue", "round_", "product", "alltrue", "msort", "in1d"}
LEGACY |= {"trapz", *FINANCIAL, "compat"}


def python(code: str, *options: str, env: dict | None = None) -> subprocess.CompletedProcess:
    """Run code in a fresh interpreter of this environment, from the project's root."""
    return subprocess.run(
        [sys.executable, *options, "-c", code],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        env=env,
    )


def last_json(done: subprocess.CompletedProcess):
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout.splitlines()[-1])


def numpy_without_legacy_names() -> types.ModuleType:
    """This numpy as numpy 2.4 shows it: every name MXNet misses there is gone."""
    module = types.ModuleType("numpy_2_4")

    def lookup(name):
        if name in LEGACY:
            raise AttributeError(name)
        return getattr(numpy, name)

    module.__getattr__ = lookup
    return module


def test_every_name_mxnet_binds_is_added_and_nothing_present_is_replaced():
    result = last_json(
        python(
            "import json, warnings; warnings.simplefilter('ignore')\n"
            "import numpy\n"
            "before = {name: id(getattr(numpy, name)) for name in dir(numpy)}\n"
            "from grader.frameworks.mxnet_compat import restore_numpy_names\n"
            "added = restore_numpy_names()\n"
            "changed = [n for n, i in before.items() if id(getattr(numpy, n)) != i]\n"
            "print(json.dumps({'added': added, 'changed': changed, 'version': numpy.__version__,"
            " 'present': sorted(n for n in " + repr(sorted(LEGACY)) + " if hasattr(numpy, n))}))"
        )
    )
    assert result["changed"] == []
    assert result["present"] == sorted(LEGACY)
    if result["version"] == "1.23.5":  # MXNet's own numpy: nothing is missing
        assert result["added"] == []
    if result["version"].startswith("2."):
        assert {"PZERO", "NaN", "sometrue", "round_", "product", "compat"} <= set(result["added"])


def test_the_restored_functions_compute_what_numpy_1_did():
    restored = missing_names(numpy_without_legacy_names())
    assert set(restored) == LEGACY
    assert restored["bool"] is numpy.bool_
    assert restored["sometrue"]([0, 0, 1]) and not restored["alltrue"]([1, 0])
    assert restored["round_"](2.345, 1) == 2.3
    assert restored["product"]([[1, 2], [3, 4]], axis=0).tolist() == [3, 8]
    assert restored["msort"]([[3, 1], [2, 4]]).tolist() == [[2, 1], [3, 4]]
    assert restored["in1d"]([[1, 2], [3, 4]], [2, 3]).tolist() == [False, True, True, False]
    assert restored["compat"].basestring is str
    assert restored["NINF"] == -numpy.inf and numpy.isnan(restored["NaN"])
    assert str(restored["NZERO"]) == "-0.0"
    with pytest.raises(RuntimeError, match="numpy_financial"):
        restored["npv"](0.1, [1.0, 2.0])
    if hasattr(numpy, "trapezoid"):  # what trapz is called on the numpy that lacks it
        assert restored["trapz"]([1.0, 2.0, 3.0]) == 4.0
    # Functions of their own, so that MXNet's dispatch table keeps any and prod apart.
    assert restored["sometrue"] is not numpy.any and restored["product"] is not numpy.prod


def test_mxnet_imports_and_computes_in_a_fresh_process():
    result = last_json(
        python(
            "import json, sys\n"
            "sys.meta_path[:] = [f for f in sys.meta_path if type(f).__name__ != '_BeforeMXNet']\n"
            "from grader.frameworks.mxnet_compat import import_mxnet\n"
            "mx = import_mxnet()\n"
            "import numpy as onp\n"
            "from mxnet import np, npx\n"
            "from mxnet.numpy_dispatch_protocol import _NUMPY_ARRAY_FUNCTION_DICT as table\n"
            "npx.set_np()\n"
            "X = np.zeros((3, 3)); X[1, 1] = 2\n"  # item assignment uses numpy.bool
            "padded = np.pad(np.ones((2, 2)), ((1, 1), (1, 1)))\n"  # numpy.compat.basestring
            "conv = npx.convolution(np.arange(9.0).reshape(1, 1, 3, 3),"
            " np.array([[[[0.0, 1.0], [2.0, 3.0]]]]), kernel=(2, 2), num_filter=1, no_bias=True)\n"
            "from d2l import mxnet as d2l\n"
            "print(json.dumps({'sum': float(X.sum()), 'padded': padded.shape,"
            " 'conv': conv.asnumpy().tolist(), 'book': d2l.corr2d(np.arange(9.0).reshape(3, 3),"
            " np.array([[0.0, 1.0], [2.0, 3.0]])).tolist(),"
            " 'any': bool(onp.any(np.array([0, 1]))),"
            " 'own': [table[onp.any] is np.any, table[onp.prod] is np.prod]}))"
        )
    )
    assert result["sum"] == 2.0 and result["padded"] == [4, 4]
    assert result["conv"] == [[[[19.0, 25.0], [37.0, 43.0]]]]
    assert result["book"] == [[19.0, 25.0], [37.0, 43.0]]
    assert result["any"] is True
    assert result["own"] == [True, True], "sometrue and product did not replace any and prod"


def test_the_startup_hook_restores_numpy_just_before_mxnet_is_imported(tmp_path):
    hook = write_startup_hook(tmp_path)
    assert hook.name == HOOK_FILE
    result = last_json(
        python(
            "import json, site, sys\n"
            "def hooked(): return [type(f).__name__ for f in sys.meta_path].count('_BeforeMXNet')\n"
            "sys.meta_path[:] = [f for f in sys.meta_path if type(f).__name__ != '_BeforeMXNet']\n"
            f"site.addsitedir({str(tmp_path)!r})\n"
            "at_start = [hooked(), 'numpy' in sys.modules]\n"
            "import mxnet, numpy\n"
            "print(json.dumps({'at_start': at_start, 'after': hooked(),"
            " 'bool': numpy.bool in (bool, numpy.bool_)}))"
        )
    )
    assert result["at_start"] == [1, False], "installed, without importing numpy"
    assert result["after"] == 0, "it fired on `import mxnet` and left"
    assert result["bool"] is True


def test_the_startup_hook_does_nothing_where_the_grader_is_not_installed(tmp_path):
    write_startup_hook(tmp_path)
    done = python(
        f"import site, sys; site.addsitedir({str(tmp_path)!r}); print(len(sys.meta_path))",
        "-S",
        env={k: v for k, v in os.environ.items() if k != "PYTHONPATH"},
    )
    assert done.returncode == 0 and done.stderr == "", done.stderr


def loaded_library(soname: str) -> Path:
    """The file this environment's MXNet loads for soname, found in a process that loaded it."""
    result = last_json(
        python(
            "import json, mxnet\n"
            "maps = open('/proc/self/maps').read().split()\n"
            f"print(json.dumps(sorted({{p for p in maps if '/{soname}' in p}})))"
        )
    )
    assert result, f"MXNet did not load {soname}"
    return Path(result[0])


@pytest.mark.skipif(shutil.which("bwrap") is None, reason="needs bubblewrap to hide a library")
@pytest.mark.parametrize(
    "soname, package", [("libgomp.so.1", "libgomp1"), ("libquadmath.so.0", "libquadmath0")]
)
def test_a_missing_system_library_is_a_message_naming_its_package(soname, package):
    library = loaded_library(soname)
    done = subprocess.run(
        ["bwrap", "--bind", "/", "/", "--dev", "/dev", "--proc", "/proc"]
        + ["--ro-bind", "/dev/null", str(library), "--"]
        + [sys.executable, "-m", "grader", "grade", "solutions", "--isolation", "basic"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 2, done.stderr
    assert done.stderr.startswith(f"grader: MXNet needs the system library {soname}")
    assert f"apt-get install {package}" in done.stderr
    assert "Traceback" not in done.stderr


def test_nothing_is_added_twice():
    restore_numpy_names()
    assert restore_numpy_names() == []
