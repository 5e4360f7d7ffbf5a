import pytest
from conftest import ALL_NAMES, full_marks, grade_on_cpu, small_config, solution_text, write

from grader.config import ExerciseConfig, Tolerance
from grader.policy import violations
from grader.submission import read_submission


def rule(name: str, *forbidden: str) -> ExerciseConfig:
    return ExerciseConfig(name, 10, 1, 1, 5, Tolerance(0, 0), (), forbidden)


def check(tmp_path, text: str, exercise: ExerciseConfig):
    return violations(read_submission(write(tmp_path, "student.py", text)), (exercise,))


@pytest.mark.parametrize(
    "text",
    [
        "from mxnet import npx\ndef corr2d(X, K):\n    return npx.convolution(X, K)\n",
        "import mxnet as mx\ndef corr2d(X, K):\n    return mx.npx.convolution(X, K)\n",
        "from mxnet.npx import convolution as conv\ndef corr2d(X, K):\n    return conv(X, K)\n",
        "from mxnet import npx as q\ndef corr2d(X, K):\n    f = q.convolution\n"
        "    return f(X, K)\n",
        "from mxnet import npx\ndef helper(X, K):\n    return npx.convolution(X, K)\n"
        "def corr2d(X, K):\n    return helper(X, K)\n",
        "from mxnet import npx\ncorr2d = npx.convolution\n",
    ],
)
def test_forbidden_names_are_found_however_they_are_spelled(tmp_path, text):
    found = check(tmp_path, text, rule("corr2d", "npx.convolution"))
    assert found["corr2d"].name == "npx.convolution"
    assert found["corr2d"].where.startswith("student.py, line ")


def test_the_message_names_the_rule_and_the_line(tmp_path):
    text = "from mxnet.gluon import nn\n\n\ndef corr2d(X, K):\n    return nn.Conv2D(1, 2)\n"
    (violation,) = check(tmp_path, text, rule("corr2d", "nn.Conv2D")).values()
    assert violation.message() == (
        "corr2d uses nn.Conv2D (student.py, line 5); this exercise asks you to write it "
        "without nn.Conv2D, so its tests were not run"
    )


@pytest.mark.parametrize(
    "text",
    [
        "from mxnet import np\ndef corr2d(X, K):\n    return np.dot(X, K)\n",
        "from mxnet.gluon import nn\nclass Conv2D(nn.Block):\n    pass\n"
        "def corr2d(X, K):\n    return Conv2D\n",  # the student's own Conv2D is not nn.Conv2D
        "from mxnet import npx\nY = npx.convolution\ndef corr2d(X, K):\n    Y = X\n    return Y\n",
        "def corr2d(X, K)\n    broken syntax\n",
    ],
)
def test_similar_but_allowed_code_passes(tmp_path, text):
    assert check(tmp_path, text, rule("corr2d", "npx.convolution", "nn.Conv2D")) == {}


def test_the_solutions_follow_the_course_rules(course):
    from conftest import SOLUTIONS

    assert violations(read_submission(SOLUTIONS), course.exercises) == {}


def test_a_broken_rule_fails_only_that_exercise(tmp_path, course):
    cheat = (
        "\nfrom mxnet import np as _np\n"
        "def corr2d_multi_in_out_1x1(X, K):\n"
        "    return _np.stack([corr2d_multi_in(X, k) for k in K])\n"
    )
    report = grade_on_cpu(write(tmp_path, "cheat.py", solution_text() + cheat), small_config())
    assert full_marks(report) == ALL_NAMES - {"corr2d_multi_in_out_1x1"}
    exercise = {e.name: e for e in report.exercises}["corr2d_multi_in_out_1x1"]
    assert all("uses corr2d_multi_in (cheat.py, line" in t.message for t in exercise.tests)
