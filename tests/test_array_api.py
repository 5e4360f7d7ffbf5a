import pytest
from conftest import ALL_NAMES, solution_text, write

from grader.array_api import ND, NP, TORCH, array_apis, edition_note
from grader.submission import read_submission

NAMES = sorted(ALL_NAMES)


def apis_of(tmp_path, text: str, name: str = "student.py"):
    return array_apis(read_submission(write(tmp_path, name, text)), NAMES)


LOOP = (
    "def corr2d(X, K):\n"
    "    h, w = K.shape\n"
    "    Y = {zeros}((X.shape[0] - h + 1, X.shape[1] - w + 1))\n"
    "    for i in range(Y.shape[0]):\n"
    "        for j in range(Y.shape[1]):\n"
    "            Y[i, j] = (X[i: i + h, j: j + w] * K).sum()\n"
    "    return Y\n"
)


@pytest.mark.parametrize(
    ("imports", "zeros", "api"),
    [
        ("from mxnet import nd\n", "nd.zeros", ND),
        ("import mxnet as mx\n", "mx.nd.zeros", ND),
        ("from mxnet import ndarray as F\n", "F.zeros", ND),
        ("from mxnet.ndarray import zeros\n", "zeros", ND),
        ("import d2lzh as d2l\n", "d2l.nd.zeros", ND),
        ("from mxnet import np, npx\nnpx.set_np()\n", "np.zeros", NP),
        ("import mxnet as mx\n", "mx.np.zeros", NP),
        ("from d2l import mxnet as d2l\n", "d2l.zeros", NP),
        ("from mxnet import *\n", "nd.zeros", ND),
    ],
)
def test_a_definition_is_graded_in_the_api_it_calls(tmp_path, imports, zeros, api):
    apis = apis_of(tmp_path, imports + LOOP.format(zeros=zeros))
    assert apis.of("corr2d") == api


def test_functions_it_uses_decide_and_otherwise_the_submission_does(tmp_path):
    text = (
        "from mxnet import autograd, nd\nfrom mxnet.gluon import nn\n"
        + LOOP.format(zeros="nd.zeros")
        + "class Conv2D(nn.Block):\n"
        "    def forward(self, x):\n"
        "        return corr2d(x, self.weight.data()) + self.bias.data()\n"
        "def comp_conv2d(conv2d, X):\n"
        "    conv2d.initialize()\n"
        "    return conv2d(X.reshape((1, 1) + X.shape))[0, 0]\n"
    )
    apis = apis_of(tmp_path, text)
    assert apis.of("Conv2D") == ND, "it calls the nd corr2d"
    assert apis.of("comp_conv2d") == ND, "neutral code follows the submission's nd imports"
    assert apis.submission == ND


def test_set_np_makes_neutral_code_np_and_the_default_is_np(tmp_path):
    neutral = "def comp_conv2d(conv2d, X):\n    return X\n"
    assert apis_of(tmp_path, "from mxnet import nd, npx\nnpx.set_np()\n" + neutral).submission == NP
    assert apis_of(tmp_path, neutral).of("comp_conv2d") == NP


def test_the_flat_d2l_of_2019_follows_the_arrays_beside_it(tmp_path):
    nd_code = (
        "import d2l\nfrom mxnet import nd\n"
        "def corr2d_multi_in(X, K):\n"
        "    return nd.add_n(*[d2l.corr2d(x, k) for x, k in zip(X, K)])\n"
    )
    assert apis_of(tmp_path, nd_code).of("corr2d_multi_in") == ND
    np_code = (
        "import d2l\nfrom mxnet import np, npx\nnpx.set_np()\n"
        "def corr2d_multi_in(X, K):\n"
        "    return sum(d2l.corr2d(x, k) for x, k in zip(X, K))\n"
    )
    assert apis_of(tmp_path, np_code).of("corr2d_multi_in") == NP


def test_a_folder_mixing_both_apis_grades_each_name_in_its_own(tmp_path):
    folder = tmp_path / "student"
    folder.mkdir()
    write(folder, "conv_layer.py", "from mxnet import nd\n" + LOOP.format(zeros="nd.zeros"))
    write(
        folder,
        "channels.py",
        "from mxnet import np, npx\nnpx.set_np()\nfrom conv_layer import corr2d\n"
        "def corr2d_multi_in_out_1x1(X, K):\n    return np.dot(K, X)\n",
    )
    apis = array_apis(read_submission(folder), NAMES)
    assert (apis.of("corr2d"), apis.of("corr2d_multi_in_out_1x1")) == (ND, NP)


def test_the_solutions_are_np(tmp_path):
    apis = apis_of(tmp_path, solution_text())
    assert {apis.of(name) for name in NAMES} == {NP}


def test_pytorch_has_one_api_whatever_the_code_imports(tmp_path):
    path = write(tmp_path, "student.py", "from mxnet import nd\n" + LOOP.format(zeros="nd.zeros"))
    apis = array_apis(read_submission(path), NAMES, "pytorch")
    assert {apis.of(name) for name in NAMES} == {TORCH}


@pytest.mark.parametrize(
    "imports, framework, mismatch",
    [
        ("import torch\nfrom torch import nn\n", "mxnet", "imports PyTorch"),
        ("from d2l import torch as d2l\n", "mxnet", "imports PyTorch"),
        ("from mxnet import np, npx\n", "pytorch", "imports MXNet"),
        ("import d2lzh as d2l\n", "pytorch", "imports MXNet"),
        ("import torch\n", "pytorch", None),
        ("from mxnet import nd\nimport torch\n", "pytorch", None),  # both: no guess
        ("import numpy as np\n", "pytorch", None),
    ],
)
def test_code_for_the_other_edition_gets_a_note(tmp_path, imports, framework, mismatch):
    submission = read_submission(write(tmp_path, "student.py", imports + "x = 1\n"))
    note = edition_note(submission, framework)
    if mismatch is None:
        assert note is None
    else:
        assert mismatch in note and f"framework: {framework}" in note
