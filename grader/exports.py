"""Machine-readable renderings of the report: our JSON, JUnit XML, Gradescope's and
PrairieLearn's results.

Each is computed from the one report model; none recomputes a score.
"""

from __future__ import annotations

import base64
import json
import math
import re
import xml.etree.ElementTree as ElementTree
import zlib
from typing import Any

from grader.render import example_text, withheld_credit
from grader.report import Comparison, Report, report_to_dict

NOT_XML = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


def render_json(report: Report) -> str:
    return json.dumps(report_to_dict(report), indent=2) + "\n"


def xml_text(text: str) -> str:
    """Student output may hold control characters that XML 1.0 cannot carry."""
    return NOT_XML.sub("?", text)


def counts(tests) -> dict[str, str]:
    return {
        "tests": str(len(tests)),
        "failures": str(sum(t.status == "failed" for t in tests)),
        "errors": str(sum(t.status in ("error", "timeout") for t in tests)),
        "skipped": str(sum(t.status == "skipped" for t in tests)),
        "time": f"{sum(t.seconds for t in tests):.3f}",
    }


def render_junit(report: Report) -> str:
    """JUnit XML: a testsuite per exercise, a testcase per test. failed -> <failure>,
    error and timeout -> <error>, skipped -> <skipped>; printed output -> <system-out>."""
    every_test = [t for e in report.exercises for t in e.tests]
    root = ElementTree.Element("testsuites", name=xml_text(report.submission), **counts(every_test))
    for exercise in report.exercises:
        suite = ElementTree.SubElement(
            root, "testsuite", name=exercise.name, **counts(exercise.tests)
        )
        properties = ElementTree.SubElement(suite, "properties")
        for key, value in (
            ("score", exercise.score),
            ("max_score", exercise.max_score),
            ("seed", report.seed),
            ("isolation", report.isolation),
        ):
            ElementTree.SubElement(properties, "property", name=key, value=str(value))
        for text in withheld_credit(exercise):  # passing tests' messages have no element
            ElementTree.SubElement(properties, "property", name="withheld_credit", value=text)
        for test in exercise.tests:
            case = ElementTree.SubElement(
                suite,
                "testcase",
                classname=exercise.name,
                name=test.name,
                time=f"{test.seconds:.4f}",
            )
            message = xml_text(test.message)
            first_line = message.splitlines()[0] if message else test.status
            if test.status == "failed":
                ElementTree.SubElement(
                    case, "failure", message=first_line, type="failed"
                ).text = message
            elif test.status in ("error", "timeout"):
                ElementTree.SubElement(
                    case, "error", message=first_line, type=test.status
                ).text = message
            elif test.status == "skipped":
                ElementTree.SubElement(case, "skipped", message=first_line)
            if test.output:
                ElementTree.SubElement(case, "system-out").text = xml_text(test.output)
    ElementTree.indent(root)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ElementTree.tostring(root, "unicode") + "\n"


def gradescope_results(report: Report, hidden_visibility: str = "after_published") -> dict:
    """results.json as Gradescope's autograder specification describes it. Skipped tests
    (a GPU that is not there) count for nothing and are left out."""
    tests: list[dict[str, Any]] = []
    for number, exercise in enumerate(report.exercises, start=1):
        counted = [t for t in exercise.tests if t.status != "skipped"]
        first_problem = next((t for t in counted if t.status != "passed"), None)
        for index, test in enumerate(counted, start=1):
            output = test.message + (f"\n\nprinted:\n{test.output}" if test.output else "")
            if test is first_problem and exercise.example:
                output += "\n\n" + example_text(exercise)
            tests.append(
                {
                    "name": f"{exercise.name}: {test.name}",
                    "number": f"{number}.{index}",
                    "score": round(test.score, 4),
                    "max_score": round(test.max_score, 4),
                    "status": "passed" if test.status == "passed" else "failed",
                    "output": output or "passed",
                    "visibility": "visible" if test.visibility == "visible" else hidden_visibility,
                    "tags": [exercise.name],
                }
            )
    notes = "\n".join(f"- {note}" for note in report.notes)
    return {
        "score": report.score,
        "output": f"Graded with seed-drawn hidden cases; isolation: {report.isolation}."
        + (f"\n{notes}" if notes else ""),
        "stdout_visibility": "hidden",
        "tests": tests,
    }


# ---- PrairieLearn: /grade/results/results.json of its external grader ----

PANEL_PIXELS = 120  # a panel's longer side, about; each value is a square of at least 8 px
PANEL_GAP = 6
MAX_HEATMAP_VALUES = 4096  # larger answers get no picture (results.json is capped at 1 MB)
NAN_COLOR = (160, 160, 160)
BACKGROUND = (255, 255, 255)


def diverging(value: float, scale: float) -> tuple[int, int, int]:
    """Red above zero, blue below, white at zero (as the HTML report draws them)."""
    if not math.isfinite(value):
        return NAN_COLOR
    t = 0.0 if scale == 0 else max(-1.0, min(1.0, value / scale))
    fade = int(round(255 * (1 - abs(t))))
    return (255, fade, fade) if t > 0 else (fade, fade, 255)


def planes(grid) -> list[list[list[float]]]:
    """A 2-D grid as one plane, a 3-D grid (channels first) as one plane per channel."""
    if grid and isinstance(grid[0], tuple) and grid[0] and isinstance(grid[0][0], tuple):
        return [[list(row) for row in plane] for plane in grid]
    return [[list(row) for row in grid]]


def png(pixels: list[list[tuple[int, int, int]]]) -> bytes:
    """An 8-bit RGB PNG: small enough to write by hand, so no plotting library is loaded."""
    height, width = len(pixels), len(pixels[0])
    raw = b"".join(b"\0" + bytes(c for pixel in row for c in pixel) for row in pixels)

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return len(data).to_bytes(4, "big") + body + zlib.crc32(body).to_bytes(4, "big")

    header = width.to_bytes(4, "big") + height.to_bytes(4, "big") + bytes([8, 2, 0, 0, 0])
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(raw, 9))
        + chunk(b"IEND", b"")
    )


def heatmap_png(comparison: Comparison) -> bytes | None:
    """Expected, received and their difference side by side, one row per channel; None when
    the shapes differ or the answer is too large to draw."""
    expected, received = planes(comparison.expected), planes(comparison.received)
    shape = [(len(p), len(p[0]) if p else 0) for p in expected]
    if shape != [(len(p), len(p[0]) if p else 0) for p in received] or not all(
        rows and cols for rows, cols in shape
    ):
        return None
    if sum(rows * cols for rows, cols in shape) > MAX_HEATMAP_VALUES:
        return None
    difference = [
        [[r - e for e, r in zip(erow, rrow)] for erow, rrow in zip(ep, rp)]
        for ep, rp in zip(expected, received)
    ]

    def finite(values):
        return [abs(v) for p in values for row in p for v in row if math.isfinite(v)]

    value_scale = max(finite(expected) + finite(received) + [0.0])
    diff_scale = max(finite(difference) + [0.0])
    cols = max(c for _, c in shape)
    cell = max(8, min(48, PANEL_PIXELS // max(cols, max(r for r, _ in shape))))
    panel_width = cols * cell
    width = 3 * panel_width + 2 * PANEL_GAP
    image: list[list[tuple[int, int, int]]] = []
    for channel, (rows, _) in enumerate(shape):
        if channel:
            image += [[BACKGROUND] * width for _ in range(PANEL_GAP)]
        for r in range(rows):
            line = []
            for panel, scale in (
                (expected[channel], value_scale),
                (received[channel], value_scale),
                (difference[channel], diff_scale),
            ):
                if line:
                    line += [BACKGROUND] * PANEL_GAP
                cells = [diverging(v, scale) for v in panel[r]]
                cells += [BACKGROUND] * (cols - len(cells))
                line += [color for color in cells for _ in range(cell)]
            image += [line] * cell
    return png(image)


def heatmap_image(label: str, comparison: Comparison | None) -> list[dict[str, str]]:
    picture = heatmap_png(comparison) if comparison is not None else None
    if picture is None:
        return []
    url = "data:image/png;base64," + base64.b64encode(picture).decode("ascii")
    return [{"label": label, "url": url}]


def prairielearn_results(report: Report) -> dict:
    """results.json as PrairieLearn's external grading documentation describes it: `score` in
    [0, 1], a test per graded test with `points` and `max_points`, and heatmaps (expected,
    received, difference) as PNG images for failing public tests. A submission with no
    readable code is `gradable: false`, so the student loses no attempt to a broken upload."""
    if report.notes and all(e.defined_at is None for e in report.exercises):
        return {"gradable": False, "format_errors": list(report.notes)}
    tests = []
    for exercise in report.exercises:
        drawn = False
        for test in exercise.tests:
            if test.status == "skipped":
                continue
            entry = {
                "name": f"{exercise.name}: {test.name}",
                "description": test.diagnosis and f"likely cause: {test.diagnosis}",
                "points": round(test.score, 4),
                "max_points": round(test.max_score, 4),
                "message": test.message or test.status,
                "output": test.output,
            }
            if test.status != "passed" and not drawn:
                images = heatmap_image(
                    f"{exercise.name} {test.name}: expected | received | difference",
                    test.comparison,
                )
                if images:
                    entry["images"], drawn = images, True
            tests.append(entry)
        if exercise.example is not None:
            tests.append(
                {
                    "name": f"{exercise.name}: smallest failing input (not scored)",
                    "points": 0,
                    "max_points": 0,
                    "message": example_text(exercise),
                    "output": exercise.example.output,
                    "images": heatmap_image(
                        f"{exercise.name} example: expected | received | difference",
                        exercise.example.comparison,
                    ),
                }
            )
    score = report.score / report.max_score if report.max_score else 0.0
    return {
        "gradable": True,
        "score": min(1.0, max(0.0, score)),
        "message": f"{report.score:g}/{report.max_score:g} points "
        f"(hidden cases drawn from the course seed; isolation: {report.isolation})",
        "output": "\n".join(report.notes),
        "tests": tests,
    }
