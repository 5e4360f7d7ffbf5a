"""Helpers shared by the tests: real submissions built from solutions/, and course configs."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from grader.batch import shared_pool
from grader.cases import EXERCISES as CATALOGUE
from grader.cases import public_case_counts
from grader.config import CourseConfig, load_config, parse_config
from grader.grading import grade
from grader.report import ExerciseResult, Report, TestResult
from grader.scoring import award

ROOT = Path(__file__).resolve().parent.parent
SOLUTIONS = ROOT / "solutions"
EXERCISES = ROOT / "exercises"
CROSS_IMPORT = "from conv_layer import corr2d\n"
EXERCISE_NAMES = list(CATALOGUE)  # in the course config's order too
ALL_NAMES = frozenset(CATALOGUE)


# Modules whose module-scoped fixtures are costly: a graded class, a built bundle and the fresh
# environment it installs, reports opened in a browser, graded reports rendered many ways. Under
# `pytest -n` each goes whole to one test process, so they are made once; every other test is
# its own unit, dealt out as it would be by xdist's `load`, the biggest units first.
ONE_PROCESS_MODULES = frozenset(
    f"tests/test_{name}.py"
    for name in ("batch", "bundles", "browser", "html_report", "exports", "render", "gpu_check")
)


@pytest.hookimpl(optionalhook=True)
def pytest_xdist_make_scheduler(config, log):
    from xdist.scheduler import LoadScopeScheduling

    class WholeModules(LoadScopeScheduling):
        def _split_scope(self, nodeid: str) -> str:
            module = nodeid.split("::", 1)[0]
            return module if module in ONE_PROCESS_MODULES else nodeid

    return WholeModules(config, log)


def solution_text() -> str:
    """The whole chapter's solutions as one student file (one file needs no cross import)."""
    parts = [
        (SOLUTIONS / name).read_text()
        for name in ("conv_layer.py", "padding_and_strides.py", "channels.py")
    ]
    text = "\n".join(parts)
    assert CROSS_IMPORT in text
    return text.replace(CROSS_IMPORT, "")


def with_change(text: str, old: str, new: str) -> str:
    """text with one snippet replaced; fails loudly if the snippet is not there."""
    assert old in text, f"snippet not found: {old!r}"
    return text.replace(old, new, 1)


def write(folder: Path, name: str, text: str | bytes) -> Path:
    path = folder / name
    if isinstance(text, bytes):
        path.write_bytes(text)
    else:
        path.write_text(text)
    return path


def course_config() -> CourseConfig:
    return load_config(ROOT / "config.yaml", public_case_counts())


def small_config(hidden_cases: int = 2, **limits) -> CourseConfig:
    """The course with few hidden cases and short limits, for tests about failures."""
    return parse_config(
        small_config_data(hidden_cases, **limits), "test config", public_case_counts()
    )


def small_config_file(folder: Path, hidden_cases: int = 2, **limits) -> Path:
    """The same, as a config.yaml for the command line."""
    data = small_config_data(hidden_cases, **limits)
    return write(folder, "config.yaml", yaml.safe_dump(data, sort_keys=False))


def small_config_data(hidden_cases: int = 2, **limits) -> dict:
    course = course_config()
    data = {
        "seed": 7,
        "devices": ["cpu"],
        "limits": {"load_seconds": 5, "startup_seconds": 60, **limits},
        "defaults": {"time_limit_seconds": 3},
        "exercises": {
            e.name: {
                "hidden_cases": hidden_cases,
                "uses": list(e.uses),
                "points": e.points,
                "tolerance": {"rtol": e.tolerance.rtol, "atol": e.tolerance.atol},
                "forbidden": list(e.forbidden),
            }
            for e in course.exercises
        },
    }
    return data


def scores(report: Report) -> dict[str, tuple[float, float]]:
    return {e.name: (e.score, e.max_score) for e in report.exercises}


def full_marks(report: Report) -> set[str]:
    return {e.name for e in report.exercises if e.score == e.max_score > 0}


def grade_on_cpu(path: Path, config: CourseConfig | None = None, **options) -> Report:
    """Grade in the strict sandbox, which the tests require (.ci/run installs bubblewrap)."""
    options.setdefault("isolation", "strict")
    return grade(path, config or course_config(), device="cpu", **options)


def grade_pooled(path: Path, config: CourseConfig | None = None, **options) -> Report:
    """Grade as `batch` does: strict sandbox, in a fork of a zygote that imported the
    framework once for this test process. For the tests about what a grade says; those about
    how a worker starts, hangs or dies use grade_on_cpu."""
    config = config or course_config()
    return grade(path, config, device="cpu", pool=shared_pool(config, "strict"), **options)


@pytest.fixture(scope="session")
def course() -> CourseConfig:
    return course_config()


def withheld_credit_report() -> Report:
    """A report in which corr2d's public test passes but earns a third of its share: one of
    three hidden cases passed, as scoring.award rules it when grading."""

    def test(name: str, passed: bool) -> TestResult:
        message = "" if passed else "the values of the result are off"
        visibility = "visible" if name.startswith("public") else "hidden"
        status = "passed" if passed else "failed"
        return TestResult(f"{name} [cpu]", status, float(passed), 1.0, message, "cpu", visibility)

    tests = [test("public-1", True), test("hidden-1", True)]
    tests += [test("hidden-2", False), test("hidden-3", False)]
    tests = award(tests, [t.visibility == "hidden" for t in tests], "proportional")
    corr2d = ExerciseResult("corr2d", tests, "student.py, line 1")
    return Report("student.py", 7, (corr2d,), (), "strict", "mxnet")
