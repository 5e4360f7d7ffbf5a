"""The HTML pages: one per submission (`--format html`) and the class overview of `batch`."""

import re

import pytest
from bugs import buggy_text
from conftest import grade_on_cpu, small_config, solution_text, with_change, write

from grader.batch import row_from_report
from grader.html_report import render_html, render_overview, render_pair
from grader.similarity import Side, SimilarPair

HOSTILE_PRINT = "<script>alert(1)</script><img src=https://example.com/x.png>"


@pytest.fixture(scope="module")
def flipped(tmp_path_factory):
    folder = tmp_path_factory.mktemp("flipped")
    return grade_on_cpu(write(folder, "flip.py", buggy_text("flipped-kernel")), small_config())


@pytest.fixture(scope="module")
def bias_missing(tmp_path_factory):
    folder = tmp_path_factory.mktemp("bias")
    return grade_on_cpu(write(folder, "bias.py", buggy_text("bias-missing")), small_config())


def overview_of(*reports) -> str:
    rows = [row_from_report(r) for r in reports]
    maxima = {e.name: e.max_score for e in reports[0].exercises}
    return render_overview(rows, list(reports), maxima)


def assert_fetches_nothing(page: str) -> None:
    assert "Content-Security-Policy" in page and "default-src 'none'" in page
    assert not re.search(r"<(script|link|iframe|img)\b", page, re.IGNORECASE)
    assert "url(" not in page and 'href="http' not in page


def test_a_page_is_one_file_that_fetches_nothing(flipped):
    assert_fetches_nothing(render_html(flipped))
    assert_fetches_nothing(overview_of(flipped))


def test_a_failing_public_case_shows_expected_received_and_difference(flipped):
    page = render_html(flipped)
    corr2d = page[page.index('id="corr2d"') : page.index('id="Conv2D"')]
    for caption in ("expected", "received", "received - expected"):
        assert f'aria-label="{caption}"' in corr2d
    assert "<title>[0, 0] 19</title>" in corr2d, "the seed's 3x3 example expects 19 at [0, 0]"
    assert "likely cause: you computed a true convolution" in corr2d
    assert "Smallest failing input found" in corr2d


def test_only_public_cases_and_examples_get_heatmaps(bias_missing):
    page = render_html(bias_missing)
    conv2d = next(e for e in bias_missing.exercises if e.name == "Conv2D")
    pictured = [t for t in conv2d.tests if t.comparison and t.status != "passed"]
    assert pictured and all(t.visibility == "visible" for t in pictured)
    section = page[page.index('id="Conv2D"') : page.index('id="learn_kernel"')]
    maps_per_test = section.count('aria-label="expected"')
    assert maps_per_test == len(pictured) + (conv2d.example is not None)
    assert "hidden case (" in section


def test_what_the_student_printed_is_shown_escaped(tmp_path):
    loud = f"    h, w = K.shape\n    print({HOSTILE_PRINT!r})\n"
    text = with_change(solution_text(), "    h, w = K.shape\n", loud)
    text = with_change(text, "(X[i : i + h, j : j + w] * K).sum()", "0")
    page = render_html(grade_on_cpu(write(tmp_path, "loud.py", text), small_config()))
    assert_fetches_nothing(page)
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page


def test_the_overview_counts_each_mistake_once_per_student(flipped, bias_missing):
    page = overview_of(flipped, bias_missing)
    flip = re.search(r"<td class='num'>(\d+)</td><td>corr2d</td><td>you computed a true", page)
    bias = re.search(r"<td class='num'>(\d+)</td><td>Conv2D</td><td>the bias is missing", page)
    assert flip and flip.group(1) == "1" and bias and bias.group(1) == "1"
    assert "<td>learn_kernel</td><td class='num'>2/2</td>" in page
    assert "<td>corr2d</td><td class='num'>1/2</td>" in page
    assert page.count('<a href="') == 2


def test_a_passing_test_that_earns_less_says_why_on_the_page(flipped):
    """The flipped kernel still passes corr2d's transposed edge image (all zeros): its page
    says why that test earns only part of its share."""
    corr2d = next(e for e in flipped.exercises if e.name == "corr2d")
    reduced = [t for t in corr2d.tests if t.status == "passed" and t.score < t.max_score]
    assert reduced and reduced[0].name == "public-3 [cpu]"
    page = render_html(flipped)
    section = page[page.index('id="corr2d"') : page.index('id="Conv2D"')]
    assert '<div class="note">public-3 [cpu]: passed, and earns' in section


def test_a_similar_pair_page_shows_both_codes_escaped_with_the_shared_part_marked():
    hostile = f"def corr2d(X, K):\n    return X  # {HOSTILE_PRINT}\n"
    start = hostile.index("return")
    first = Side("a.py", hostile, 0.9, ((start, start + len("return X")),))
    second = Side("b.py", "def f():\n    return X\n", 0.8, ((13, 21),))
    page = render_pair(SimilarPair(first, second), 0.5)
    assert_fetches_nothing(page)
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert page.count("<mark>return X</mark>") == 2
    assert "a.py and b.py: 90% similar" in page and "a.py: 90% of its code" in page
