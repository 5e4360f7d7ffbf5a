"""Each machine format against its own spec's fields, from one real graded report."""

import base64
import io
import json
import xml.etree.ElementTree as ElementTree

import pytest
from bugs import buggy_text
from conftest import small_config, with_change, withheld_credit_report, write

from grader.exports import (
    gradescope_results,
    prairielearn_results,
    render_json,
    render_junit,
)
from grader.grading import grade
from grader.report import ExerciseResult, Report, TestResult

GRADESCOPE_TOP = {
    "score",
    "execution_time",
    "output",
    "output_format",
    "visibility",
    "stdout_visibility",
    "extra_data",
    "tests",
    "leaderboard",
}
GRADESCOPE_TEST = {
    "score",
    "max_score",
    "status",
    "name",
    "name_format",
    "number",
    "output",
    "output_format",
    "tags",
    "visibility",
    "extra_data",
}
GRADESCOPE_VISIBILITY = {"hidden", "after_due_date", "after_published", "visible"}


@pytest.fixture(scope="module")
def report(tmp_path_factory):
    """A submission with a bias bug (Conv2D fails some tests), a print, and a missing name."""
    text = buggy_text("bias-missing").replace("def corr2d_multi_in_out_1x1", "def renamed_1x1")
    text = with_change(
        text,
        "    return np.stack([corr2d_multi_in(X, k) for k in K])",
        "    print('stacking', len(K))\n    return np.stack([corr2d_multi_in(X, k) for k in K])",
    )
    path = write(tmp_path_factory.mktemp("s"), "student.py", text)
    return grade(path, small_config(), device="all", isolation="strict")


def test_gradescope_results_use_only_the_spec_fields(report):
    results = gradescope_results(report, "after_due_date")
    assert set(results) <= GRADESCOPE_TOP
    assert results["tests"], "one entry per counted test"
    for test in results["tests"]:
        assert set(test) <= GRADESCOPE_TEST
        assert {"name", "score", "max_score", "status", "output", "visibility"} <= set(test)
        assert test["status"] in ("passed", "failed")
        assert test["visibility"] in GRADESCOPE_VISIBILITY
        assert 0 <= test["score"] <= test["max_score"]
    visibilities = {t["visibility"] for t in results["tests"]}
    assert visibilities == {"visible", "after_due_date"}
    assert results["score"] == report.score
    assert abs(sum(t["score"] for t in results["tests"]) - results["score"]) < 1e-3
    assert abs(sum(t["max_score"] for t in results["tests"]) - report.max_score) < 1e-3
    assert not any("[gpu]" in t["name"] for t in results["tests"]), "skipped GPU tests left out"
    printed = [t for t in results["tests"] if "stacking" in t["output"]]
    assert printed and all(t["name"].startswith("corr2d_multi_in_out:") for t in printed)


def test_junit_counts_match_its_test_cases(report):
    root = ElementTree.fromstring(render_junit(report))
    assert root.tag == "testsuites"
    suites = root.findall("testsuite")
    assert [s.get("name") for s in suites] == [e.name for e in report.exercises]
    for suite, exercise in zip(suites, report.exercises):
        cases = suite.findall("testcase")
        assert int(suite.get("tests")) == len(cases) == len(exercise.tests)
        assert int(suite.get("failures")) == sum(c.find("failure") is not None for c in cases)
        assert int(suite.get("errors")) == sum(c.find("error") is not None for c in cases)
        assert int(suite.get("skipped")) == sum(c.find("skipped") is not None for c in cases)
        properties = {p.get("name"): p.get("value") for p in suite.iter("property")}
        assert float(properties["score"]) == exercise.score
        for case, test in zip(cases, exercise.tests):
            assert case.get("classname") == exercise.name and case.get("name") == test.name
            assert float(case.get("time")) >= 0
    assert int(root.get("tests")) == sum(int(s.get("tests")) for s in suites)
    failure = root.find(".//testsuite[@name='Conv2D']/testcase/failure")
    assert failure is not None and "values of the result are off" in failure.text


def test_junit_says_why_a_passing_test_earns_less_in_a_suite_property():
    suite = ElementTree.fromstring(render_junit(withheld_credit_report())).find("testsuite")
    notes = [p.get("value") for p in suite.iter("property") if p.get("name") == "withheld_credit"]
    assert len(notes) == 1 and notes[0].startswith("public-1 [cpu]: passed, and earns 0.33")
    passed = suite.find("testcase[@name='public-1 [cpu]']")
    assert passed is not None and list(passed) == []


def test_junit_survives_control_characters_in_student_output():
    test = TestResult(
        "public-1 [cpu]",
        "failed",
        0,
        1,
        "bad \x00 byte",
        "cpu",
        "visible",
        output="\x1b[31mred\x07",
    )
    report = Report(
        "me", 1, (ExerciseResult("corr2d", (test,), "x.py, line 1"),), (), "basic", "mxnet"
    )
    case = ElementTree.fromstring(render_junit(report)).find(".//testcase")
    assert case.find("failure").text == "bad ? byte"
    assert case.find("system-out").text == "?[31mred?"


def test_json_report_keeps_the_documented_schema(report):
    document = json.loads(render_json(report))
    assert {"submission", "score", "max_score", "seed", "exercises"} <= set(document)
    missing = next(e for e in document["exercises"] if e["name"] == "corr2d_multi_in_out_1x1")
    assert missing["defined_at"] is None and missing["score"] == 0


def test_gradescope_shows_the_smallest_failing_input_once_per_exercise(report):
    conv2d = [t for t in gradescope_results(report)["tests"] if t["tags"] == ["Conv2D"]]
    shown = [t for t in conv2d if "smallest failing input found" in t["output"]]
    assert len(shown) == 1 and shown[0]["status"] == "failed"
    assert "likely cause: the bias is missing" in shown[0]["output"]


def test_prairielearn_results_follow_its_external_grader_format(report):
    results = json.loads(json.dumps(prairielearn_results(report)))
    assert results["gradable"] is True
    assert results["score"] == pytest.approx(report.score / report.max_score)
    assert 0 <= results["score"] <= 1
    counted = [t for t in results["tests"] if t["max_points"] > 0]
    assert sum(t["points"] for t in counted) == pytest.approx(report.score, abs=1e-3)
    assert sum(t["max_points"] for t in counted) == pytest.approx(report.max_score, abs=1e-3)
    for test in results["tests"]:
        assert {"name", "points", "max_points", "message"} <= set(test)
        assert 0 <= test["points"] <= test["max_points"] or test["max_points"] == 0
    assert len(json.dumps(results)) < 2**20, "PrairieLearn caps results.json at 1 MB"
    printed = [t for t in results["tests"] if "stacking" in t["output"]]
    assert printed and all(t["name"].startswith("corr2d_multi_in_out:") for t in printed)


def test_prairielearn_heatmaps_show_expected_received_and_difference(report):
    from PIL import Image

    conv2d = [t for t in prairielearn_results(report)["tests"] if t["name"].startswith("Conv2D:")]
    pictured = [t for t in conv2d if t.get("images")]
    assert pictured and pictured[0]["points"] < pictured[0]["max_points"]
    [image] = pictured[0]["images"]
    assert image["url"].startswith("data:image/png;base64,")
    picture = Image.open(io.BytesIO(base64.b64decode(image["url"].split(",", 1)[1])))
    failing = next(
        t
        for e in report.exercises
        if e.name == "Conv2D"
        for t in e.tests
        if t.comparison is not None and t.status != "passed"
    )
    rows, cols = len(failing.comparison.expected), len(failing.comparison.expected[0])
    cell = picture.size[1] // rows  # each value a square: three panels, two 6-pixel gaps
    assert cell >= 8 and picture.size == (3 * cols * cell + 2 * 6, rows * cell)
    # The bias is missing, so every value is off by the same amount: the difference panel has
    # one colour all over, and it is not white.
    panel = picture.crop((2 * cols * cell + 12, 0, picture.size[0], rows * cell)).convert("RGB")
    assert len(set(panel.getdata())) == 1 and panel.getpixel((0, 0)) != (255, 255, 255)


def test_prairielearn_marks_a_submission_without_code_not_gradable():
    missing = ExerciseResult(
        "corr2d",
        (TestResult("public-1 [cpu]", "failed", 0, 1, "not defined", "cpu", "visible"),),
        None,
    )
    report = Report("me", 1, (missing,), ("hw.py: SyntaxError, line 3",), "strict", "mxnet")
    results = prairielearn_results(report)
    assert results == {"gradable": False, "format_errors": ["hw.py: SyntaxError, line 3"]}
