"""Machine-readable renderings of the report: our JSON, JUnit XML, and Gradescope's results.

Each is computed from the one report model; none recomputes a score.
"""

from __future__ import annotations

import json
import re
import xml.etree.ElementTree as ElementTree
from typing import Any

from grader.render import example_text
from grader.report import Report, report_to_dict

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
