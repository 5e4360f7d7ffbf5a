import pytest
from conftest import ALL_NAMES, full_marks, grade_on_cpu, small_config, solution_text, write

from grader.config import ExerciseConfig, Tolerance
from grader.policy import calls, violations
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


@pytest.mark.parametrize(
    "text, banned, message",
    [
        (
            "from mxnet.gluon import nn\n\n\ndef corr2d(X, K):\n    return nn.Conv2D(1, 2)\n",
            "nn.Conv2D",
            "corr2d uses nn.Conv2D (student.py, line 5); this exercise asks you to write it "
            "without nn.Conv2D, so its tests were not run",
        ),
        (  # an alias is quoted as the code spells it
            "import torch.nn.functional as F\ndef corr2d(X, K):\n    return F.conv2d(X, K)\n",
            "functional.conv2d",
            "corr2d uses F.conv2d (student.py, line 3), which is functional.conv2d; this "
            "exercise asks you to write it without functional.conv2d, so its tests were not run",
        ),
    ],
)
def test_the_message_names_the_rule_and_the_line(tmp_path, text, banned, message):
    (violation,) = check(tmp_path, text, rule("corr2d", banned)).values()
    assert violation.message() == message


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


CONV2D_CALLING = """
import conv_layer
from d2l import mxnet as d2l
from mxnet.gluon import nn


def corr2d(X, K):
    return X


def window_sum(x, k):
    return {body}


class Conv2D(nn.Block):
    def forward(self, x):
        return window_sum(x, self.weight.data()) + self.bias.data()
"""


@pytest.mark.parametrize(
    "body, uses_own",
    [
        ("corr2d(x, k)", True),  # through a helper
        ("conv_layer.corr2d(x, k)", True),  # the student's other file
        ("d2l.corr2d(x, k)", False),  # the book's, not the student's
        ("(x[:1, :1] * k).sum()", False),  # its own loop
    ],
)
def test_calls_follows_helpers_to_the_submissions_own_function(tmp_path, body, uses_own):
    path = write(tmp_path, "student.py", CONV2D_CALLING.format(body=body))
    write(tmp_path, "conv_layer.py", "def corr2d(X, K):\n    return X\n")
    submission = read_submission(tmp_path if "conv_layer." in body else path)
    assert calls(submission, "Conv2D", "corr2d") is uses_own


def test_a_dependency_note_only_where_the_definition_uses_the_failing_exercise(tmp_path):
    """Conv2D with a loop of its own and no bias, beside a flipped corr2d: no note blames
    corr2d. corr2d_multi_in calls corr2d and gets the note."""
    own_loop = (
        "    def forward(self, x):\n"
        "        K = self.weight.data()\n"
        "        h, w = K.shape\n"
        "        Y = np.zeros((x.shape[0] - h + 1, x.shape[1] - w + 1))\n"
        "        for i in range(Y.shape[0]):\n"
        "            for j in range(Y.shape[1]):\n"
        "                Y[i, j] = (x[i : i + h, j : j + w] * K).sum()\n"
        "        return Y\n"
    )
    text = solution_text().replace(
        "(X[i : i + h, j : j + w] * K).sum()", "(X[i : i + h, j : j + w] * np.flip(K)).sum()"
    )
    text = text.replace(
        "    def forward(self, x):\n        # BEGIN SOLUTION\n"
        "        return corr2d(x, self.weight.data()) + self.bias.data()\n",
        own_loop + "        # BEGIN SOLUTION\n",
    )
    assert own_loop in text
    graded = grade_on_cpu(write(tmp_path, "s.py", text), small_config())
    report = {e.name: e for e in graded.exercises}
    assert report["Conv2D"].score < report["Conv2D"].max_score
    assert not any("builds on" in note for note in report["Conv2D"].notes)
    assert any("builds on corr2d" in note for note in report["corr2d_multi_in"].notes)


@pytest.mark.parametrize(
    "text",
    [
        "from d2l import mxnet as d2l\ncorr2d = d2l.corr2d\n",
        "from d2l.mxnet import corr2d\n",
        "import d2lzh as gb\ndef corr2d(X, K):\n    return gb.corr2d(X, K)\n",
        "import gluonbook\ndef corr2d(X, K):\n    return gluonbook.corr2d(X, K)\n",
        "import d2l\ndef corr2d(X, K):\n    return d2l.corr2d(X, K)\n",
    ],
)
def test_the_books_own_implementation_never_earns_its_exercise(tmp_path, text):
    (violation,) = check(tmp_path, text, rule("corr2d")).values()
    assert violation.where.startswith("student.py, line ")


def test_the_books_corr2d_inside_the_channel_exercises_is_the_books_own_code(tmp_path):
    text = (
        "import d2l\ndef corr2d_multi_in(X, K):\n"
        "    return sum(d2l.corr2d(x, k) for x, k in zip(X, K))\n"
    )
    assert check(tmp_path, text, rule("corr2d_multi_in")) == {}
