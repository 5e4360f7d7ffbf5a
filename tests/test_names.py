import pytest
from conftest import ALL_NAMES, grade_on_cpu, small_config, write

from grader.names import near_misses
from grader.submission import read_submission

NAMES = sorted(ALL_NAMES)


def misses(tmp_path, text: str) -> dict[str, str]:
    found = near_misses(read_submission(write(tmp_path, "student.py", text)), NAMES)
    return {name: miss.name for name, miss in found.items()}


@pytest.mark.parametrize(
    ("defined", "graded"),
    [
        ("def corr2D(X, K):", "corr2d"),
        ("class Conv2d:", "Conv2D"),
        ("def conv_2d(X, K):", "Conv2D"),
        ("def corr2d_muti_in_out(X, K):", "corr2d_multi_in_out"),
        ("def corr2d_multi_in_1x1(X, K):", "corr2d_multi_in_out_1x1"),
        ("def Learn_Kernel(X, Y, kernel_size, lr, num_epochs):", "learn_kernel"),
    ],
)
def test_a_near_miss_is_found_for_the_name_it_misses(tmp_path, defined, graded):
    name = defined.split()[1].split("(")[0].rstrip(":")
    assert misses(tmp_path, f"{defined}\n    pass\n") == {graded: name}


def test_variables_graded_names_and_far_names_are_no_near_misses(tmp_path):
    text = (
        "from mxnet.gluon import nn\nconv2d = nn.Conv2D(1, kernel_size=3)\n"  # the book's demo
        "def corr2d_multi_in(X, K):\n    pass\n"  # graded itself, though close to multi_in_out
        "def my_helper(X):\n    pass\n"
    )
    assert misses(tmp_path, text) == {}


def test_one_definition_is_the_near_miss_of_one_name_only(tmp_path):
    found = misses(tmp_path, "def corr2d_muti_in_out(X, K):\n    pass\n")
    assert found == {"corr2d_multi_in_out": "corr2d_muti_in_out"}


def test_the_report_says_did_you_mean_and_gives_no_credit(tmp_path):
    text = "from mxnet import np\n\ndef corr2D(X, K):\n    return np.zeros((1, 1))\n"
    report = grade_on_cpu(write(tmp_path, "student.py", text), small_config())
    corr2d = next(e for e in report.exercises if e.name == "corr2d")
    assert corr2d.score == 0 and corr2d.defined_at is None
    assert corr2d.tests[0].message == (
        "no corr2d is defined; did you mean corr2D (student.py, line 3)? "
        "It is graded only under the name corr2d"
    )


def test_a_graded_name_holding_another_exercise_is_said_to_be_it(tmp_path):
    text = (
        "from mxnet import np, npx\nnpx.set_np()\n"
        "def single(X, K):\n"
        "    h, w = K.shape\n"
        "    Y = np.zeros((X.shape[0] - h + 1, X.shape[1] - w + 1))\n"
        "    for i in range(Y.shape[0]):\n"
        "        for j in range(Y.shape[1]):\n"
        "            Y[i, j] = (X[i: i + h, j: j + w] * K).sum()\n"
        "    return Y\n"
        "def corr2d(X, K):\n"
        "    return sum(single(x, k) for x, k in zip(X, K))\n"
    )
    report = grade_on_cpu(write(tmp_path, "student.py", text), small_config())
    corr2d = next(e for e in report.exercises if e.name == "corr2d")
    assert corr2d.score == 0
    assert any(n.startswith("corr2d seems to be corr2d_multi_in:") for n in corr2d.notes)
    others = [n for e in report.exercises if e.name != "corr2d" for n in e.notes]
    assert not any("seems to be" in n for n in others)
