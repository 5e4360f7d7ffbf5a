"""The HTML pages in a real headless browser (Debian's chromium, which .ci/run installs): they
load without errors or fetches, and their screenshots are not blank.

`make screenshots` keeps the screenshots in docs/ for the README (GRADER_SCREENSHOTS=docs).
"""

import os
import shutil
import tempfile
from pathlib import Path

import pytest
from bugs import buggy_text
from classroom import make_class
from conftest import EXERCISES, ROOT, SOLUTIONS, grade_on_cpu, small_config, write
from PIL import Image, ImageStat

from grader.batch import row_from_report
from grader.html_report import NO_FETCHING, page, render_html, render_overview, render_pair
from grader.similarity import check_class

CHROMIUM = shutil.which("chromium")
KEEP_SCREENSHOTS = os.environ.get("GRADER_SCREENSHOTS")

pytestmark = pytest.mark.skipif(
    CHROMIUM is None and not os.environ.get("CI"),
    reason="Debian's chromium is not installed (.ci/run installs it; CI requires it)",
)


def open_in_browser(html: Path, shots: dict[str, str]) -> list[str]:
    """Open the file in headless Chromium; save screenshots (name -> CSS selector, or "" for
    the whole page) next to it. Returns every problem the browser reported."""
    from playwright.sync_api import sync_playwright

    problems: list[str] = []
    with sync_playwright() as playwright, tempfile.TemporaryDirectory() as home:
        # A home of its own: Chromium writes crash-report settings and dconf files there,
        # which the red-team tests, running beside this one, would see as changed files.
        environment = {**os.environ, "HOME": home, "XDG_CONFIG_HOME": home, "XDG_CACHE_HOME": home}
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM,
            args=["--no-sandbox", "--disable-crash-reporter", "--disable-breakpad"],
            env=environment,
        )
        tab = browser.new_page(viewport={"width": 1100, "height": 900})
        tab.on("pageerror", lambda error: problems.append(f"page error: {error}"))
        tab.on(
            "console",
            lambda m: (
                problems.append(f"console {m.type}: {m.text}")
                if m.type in ("error", "warning")
                else None
            ),
        )
        tab.on("requestfailed", lambda r: problems.append(f"request failed: {r.url}"))
        tab.on(
            "request",
            lambda r: problems.append(f"fetched {r.url}") if r.url != html.as_uri() else None,
        )
        response = tab.goto(html.as_uri(), wait_until="load")
        if response is None or not response.ok:
            problems.append(f"could not open {html}")
        for name, selector in shots.items():
            target = tab.locator(selector) if selector else tab
            kwargs = {} if selector else {"full_page": True}
            target.screenshot(path=str(html.with_name(f"{name}.png")), **kwargs)
        browser.close()
    return problems


def blank(png: Path) -> bool:
    """Blank: one colour, or so nearly one that nothing is readable."""
    image = Image.open(png).convert("RGB")
    colours = image.getcolors(maxcolors=64)
    return colours is not None and len(colours) < 8 or max(ImageStat.Stat(image).stddev) < 8


def keep(png: Path) -> None:
    if KEEP_SCREENSHOTS:
        folder = ROOT / KEEP_SCREENSHOTS
        folder.mkdir(exist_ok=True)
        shutil.copyfile(png, folder / png.name)


@pytest.fixture(scope="module")
def reports(tmp_path_factory):
    folder = tmp_path_factory.mktemp("class")
    return [
        grade_on_cpu(write(folder, f"{bug}.py", buggy_text(bug)), small_config())
        for bug in ("flipped-kernel", "bias-missing", "channels-averaged", "padding-once")
    ]


def test_a_submission_page_loads_cleanly_and_shows_its_heatmaps(reports, tmp_path):
    html = write(tmp_path, "report.html", render_html(reports[0]))
    problems = open_in_browser(html, {"page": "", "report-corr2d": "#corr2d"})
    assert problems == []
    assert not blank(tmp_path / "page.png") and not blank(tmp_path / "report-corr2d.png")
    keep(tmp_path / "report-corr2d.png")


def test_the_class_overview_loads_cleanly(reports, tmp_path):
    rows = [row_from_report(r) for r in reports]
    maxima = {e.name: e.max_score for e in reports[0].exercises}
    html = write(tmp_path, "index.html", render_overview(rows, reports, maxima))
    assert open_in_browser(html, {"overview": ""}) == []
    assert not blank(tmp_path / "overview.png")
    keep(tmp_path / "overview.png")


@pytest.fixture(scope="module")
def similar(tmp_path_factory):
    classroom = make_class(tmp_path_factory.mktemp("similar") / "class")
    threshold = small_config().similarity.threshold
    return check_class(sorted(classroom.iterdir()), (EXERCISES, SOLUTIONS), threshold)


def test_a_similar_pair_page_loads_cleanly_with_both_codes_highlighted(similar, tmp_path):
    pair = similar.pairs[0]
    html = write(tmp_path, "pair.html", render_pair(pair, similar.threshold))
    assert open_in_browser(html, {"similarity-pair": "", "similarity-code": ".sidebyside"}) == []
    assert not blank(tmp_path / "similarity-pair.png")
    assert not blank(tmp_path / "similarity-code.png")


def test_the_overview_with_similar_code_loads_cleanly(reports, similar, tmp_path):
    rows = [row_from_report(r) for r in reports]
    maxima = {e.name: e.max_score for e in reports[0].exercises}
    html = write(tmp_path, "index.html", render_overview(rows, reports, maxima, similar))
    assert open_in_browser(html, {"overview-similar": ""}) == []
    assert not blank(tmp_path / "overview-similar.png")


def test_the_checks_catch_a_fetch_and_a_blank_page(tmp_path):
    """The two checks above can fail: a page that fetches, and one that shows nothing."""
    fetching = write(
        tmp_path, "fetching.html", page("fetch", ['<img src="https://example.com/x.png">'])
    )
    assert NO_FETCHING in fetching.read_text()
    assert open_in_browser(fetching, {}) != []
    empty = write(tmp_path, "empty.html", page("empty", []))
    assert open_in_browser(empty, {"empty": ""}) == []
    assert blank(tmp_path / "empty.png")
