"""The human-readable views: a student's check and the Markdown summary."""

import pytest
from bugs import buggy_text
from conftest import EXERCISES, grade_on_cpu, small_config, withheld_credit_report, write

from grader.config import public_only
from grader.render import points, render_check, render_markdown, render_table


@pytest.fixture(scope="module")
def flipped_check(tmp_path_factory):
    path = write(tmp_path_factory.mktemp("s"), "student.py", buggy_text("flipped-kernel"))
    return grade_on_cpu(path, public_only(small_config()))


def test_check_shows_each_exercise_and_the_first_failure_in_full(flipped_check):
    text = render_check(flipped_check)
    assert "[FAIL] corr2d" in text and "[pass] conv_output_shape" in text
    assert "4 of 8 exercises pass their public cases." in text
    assert "expected [[19., 25.]," in text and "got      [[ 5., 11.]," in text
    assert "X = [[0., 1., 2.]," in text
    assert "hidden" not in text.replace("Hidden cases run only when your work is graded", "")
    assert "printed while loading" not in text


def test_check_of_the_stubs_says_not_implemented():
    text = render_check(grade_on_cpu(EXERCISES, public_only(small_config())))
    assert text.count(": not implemented yet") == 8
    assert "0 of 8 exercises pass" in text


def test_markdown_summary_is_a_table_with_details(flipped_check):
    text = render_markdown(flipped_check)
    rows = [line for line in text.splitlines() if line.startswith("| `")]
    corr2d = flipped_check.exercises[0]
    assert len(rows) == 8 and f"| `corr2d` | {points(corr2d.score)}/15 |" in text
    lost = {"corr2d", "Conv2D", "corr2d_multi_in", "corr2d_multi_in_out"}
    assert {e.name for e in flipped_check.exercises if e.score < e.max_score} == lost
    assert f"| **total** | **{points(flipped_check.score)}/100** | |" in text
    assert "<details><summary>What went wrong</summary>" in text and "~~~~text" in text


def test_table_lists_every_exercise(flipped_check):
    text = render_table(flipped_check)
    assert all(name in text for name in ("corr2d_multi_in_out_1x1", "learn_kernel"))
    total = next(line for line in text.splitlines() if line.strip().startswith("total"))
    assert total.split() == ["total", f"{points(flipped_check.score)}/100"]


def test_every_human_format_shows_the_smallest_failing_input(flipped_check):
    example = flipped_check.exercises[0].example
    assert example is not None
    for render in (render_check, render_table, render_markdown):
        text = render(flipped_check)
        assert "smallest failing input found (not scored):" in text
        assert example.message.splitlines()[0] in text


def test_the_table_and_markdown_say_why_a_passing_test_earns_less():
    report = withheld_credit_report()
    reason = "passed, and earns 0.33 of its 1 points"
    table = render_table(report)
    assert f"  - public-1 [cpu]: {reason}" in table
    assert "  FAILED 2 tests: the values of the result are off" in table
    markdown = render_markdown(report)
    assert "Points withheld from passing tests:" in markdown
    assert f"- **corr2d**, public-1 [cpu]: {reason}" in markdown
    assert "(1 of 3)" in markdown
