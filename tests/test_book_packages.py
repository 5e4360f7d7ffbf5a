"""The book's packages in the worker: every generation's `d2l` names, and a notebook's kernel."""

import importlib
import importlib.util
import subprocess
import sys
from dataclasses import replace

import numpy as onp
import pytest
from conftest import full_marks, grade_on_cpu, small_config, write

from grader import book_packages
from grader.config import only_exercises
from grader.frameworks import mxnet as mxnet_backend
from grader.grading import grade

X = onp.arange(9, dtype="float32").reshape(3, 3)
K = onp.array([[0, 1], [2, 3]], dtype="float32")


@pytest.mark.parametrize("api", ["nd", "np"])
def test_the_flat_corr2d_keeps_its_input_api(api):
    mx = mxnet_backend._mxnet()
    mxnet_backend.use_api(api)
    try:
        placed = [mxnet_backend.on_device(a, mx.cpu(), api) for a in (X, K)]
        Y = mxnet_backend.book_corr2d(*placed)
        kind = mx.nd.NDArray if api == "nd" else mx.np.ndarray
        assert type(Y) is kind
        assert Y.asnumpy().tolist() == [[19, 25], [37, 43]]
    finally:
        mxnet_backend.use_api("np")  # the oracle's mode, for the tests in this process


def test_import_d2l_serves_the_flat_names_and_the_framework_modules():
    book_packages.install("mxnet")
    d2l = importlib.import_module("d2l")
    assert d2l.corr2d is mxnet_backend.book_corr2d
    assert callable(d2l.try_gpu), "other flat names come from d2l 1.0's MXNet module"
    from d2l import mxnet as d2l_mxnet  # the 1.0 way still imports the module itself

    assert d2l_mxnet.corr2d is not mxnet_backend.book_corr2d
    with pytest.raises(AttributeError, match="no attribute 'not_a_name'"):
        d2l.not_a_name  # noqa: B018


def test_notebook_code_finds_its_kernel(capsys):
    names = book_packages.notebook_names()
    assert names["get_ipython"]().run_line_magic("matplotlib", "inline") is None
    names["display"]([1, 2])
    assert capsys.readouterr().out == "[1, 2]\n"


def test_the_book_package_never_earns_the_exercise_it_implements(tmp_path):
    text = (
        "from mxnet import npx\nnpx.set_np()\nfrom d2l import mxnet as d2l\ncorr2d = d2l.corr2d\n"
    )
    report = grade_on_cpu(write(tmp_path, "student.py", text), small_config())
    corr2d = next(e for e in report.exercises if e.name == "corr2d")
    assert corr2d.score == 0
    assert corr2d.tests[0].message.startswith("corr2d uses d2l.corr2d (student.py, line 4)")
    assert "corr2d" not in full_marks(report)


def test_from_d2l_import_torch_works_in_the_sandbox_and_its_corr2d_helps(tmp_path):
    pytest.importorskip("torch")
    text = (
        "import torch\n"
        "from d2l import torch as d2l\n"
        "def corr2d_multi_in(X, K):\n"
        "    return sum(d2l.corr2d(x, k) for x, k in zip(X, K))\n"
        "try:\n"
        "    d2l.torchvision.transforms.ToTensor()\n"
        "except ImportError as error:\n"
        "    print(error)\n"
    )
    config = replace(only_exercises(small_config(), ["corr2d_multi_in"]), framework="pytorch")
    report = grade(write(tmp_path, "student.py", text), config, device="simulated")
    assert full_marks(report) == {"corr2d_multi_in"}
    printed = " ".join(report.notes)
    if importlib.util.find_spec("torchvision") is None:  # the stand-in, as on this machine
        assert "torchvision.transforms.ToTensor cannot be used here" in printed
    else:  # a real torchvision: the transform is made and nothing is printed
        assert "torchvision" not in printed


def test_the_torchvision_stand_in_imports_and_refuses_every_use():
    """In a fresh process, as the worker does it where torchvision does not import."""
    code = (
        "import sys\n"
        "from grader import book_packages\n"
        "sys.modules.pop('torchvision', None)\n"
        "sys.meta_path.insert(0, type('NoTorchvision', (), {'find_spec': staticmethod(\n"
        "    lambda name, *a: (_ for _ in ()).throw(ImportError(name))\n"
        "    if name.split('.')[0] == 'torchvision' else None)})())\n"
        "book_packages.stand_in_for_torchvision()\n"
        "import torchvision\n"
        "from torchvision import transforms, datasets\n"
        "try:\n"
        "    transforms.Compose([transforms.ToTensor()])\n"
        "except ImportError as error:\n"
        "    print(error)\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("torchvision.transforms.ToTensor cannot be used here: ")
