"""HTML renderings of the report: one page per submission, and a class overview.

Each page is one self-contained file: inline CSS and SVG, no script, and a Content Security
Policy that forbids every fetch, so a page opened from an LMS download shows the same as on the
grading machine. Everything from the submission (messages, printed output) is escaped.
"""

from __future__ import annotations

import math
import statistics
from collections import Counter
from collections.abc import Sequence
from html import escape
from typing import TYPE_CHECKING
from urllib.parse import quote

from grader.render import EXAMPLE_HEADING, points, summary, withheld_credit
from grader.report import Comparison, ExerciseResult, Grid, Report, TestResult

if TYPE_CHECKING:
    from grader.batch import BatchRow
    from grader.similarity import SimilarityReport, SimilarPair

NO_FETCHING = "default-src 'none'; style-src 'unsafe-inline'; img-src data:"
MAX_PROBLEMS_SHOWN = 20
MAX_HEATMAP_CELL = 32  # pixels; large outputs get smaller cells
HEATMAP_LEGEND = (
    "Heatmaps of public cases: red above zero, blue below, white zero, grey not a number; "
    "point at a cell for its value."
)
LABELLED_VALUES = 12  # rows and columns up to which each cell shows its number
PAIRS_SHOWN_IN_OVERVIEW = 10  # side by side in the overview; every listed pair has its page

STYLE = """
body { font: 15px/1.45 system-ui, sans-serif; margin: 0 auto; max-width: 1100px; padding: 1.5em;
       color: #1d2330; background: #fff; }
h1 { margin: 0 0 .2em; font-size: 1.6em; } h2 { margin: 1.6em 0 .4em; font-size: 1.25em; }
h3 { font-size: 1em; margin: 1em 0 .3em; }
.meta { color: #5b6475; margin: 0; }
.total { font-size: 2.2em; font-weight: 700; margin: .2em 0; }
table { border-collapse: collapse; margin: .5em 0; }
th, td { text-align: left; padding: .3em .7em; border-bottom: 1px solid #e3e6ec;
         vertical-align: top; }
td:first-child { white-space: nowrap; }
td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; }
.bar { display: inline-block; width: 140px; height: 12px; background: #eceff4; border-radius: 6px;
       overflow: hidden; vertical-align: middle; }
.bar span { display: block; height: 100%; background: #2f9e62; }
.bar.partial span { background: #e0a526; } .bar.low span { background: #d2453d; }
.status { display: inline-block; padding: 0 .5em; border-radius: 4px; font-size: .85em;
          font-weight: 600; color: #fff; }
.passed { background: #2f9e62; } .failed { background: #d2453d; } .error { background: #9c2a87; }
.timeout { background: #b5651d; } .skipped { background: #8a93a6; }
.chips { display: flex; flex-wrap: wrap; gap: 3px; margin: .4em 0; }
.chip { width: 14px; height: 14px; border-radius: 3px; }
pre { background: #f5f7fa; border: 1px solid #e3e6ec; border-radius: 6px; padding: .7em;
      overflow-x: auto; white-space: pre-wrap; font-size: 13px; }
.diagnosis { border-left: 4px solid #e0a526; background: #fff8e6; padding: .4em .8em;
             margin: .4em 0; }
.note { border-left: 4px solid #5b7fd6; background: #eef3ff; padding: .4em .8em; margin: .4em 0; }
.example { border: 1px dashed #8a93a6; border-radius: 8px; padding: .2em 1em 1em; margin: 1em 0; }
.maps { display: flex; flex-wrap: wrap; gap: 1.5em; align-items: flex-start; }
.maps figure { margin: 0; } .maps figcaption { font-size: .85em; color: #5b6475; }
details > summary { cursor: pointer; margin: .3em 0; }
section.exercise { border-top: 1px solid #e3e6ec; }
a { color: #2757c5; }
.sidebyside { display: grid; grid-template-columns: 1fr 1fr; gap: 1em; align-items: start; }
.sidebyside > div { min-width: 0; }
.sidebyside pre { white-space: pre; font-size: 12px; line-height: 1.35; margin: .3em 0; }
mark { background: #ffd866; color: inherit; border-radius: 2px; }
"""


def page(title: str, body: list[str]) -> str:
    return "\n".join(
        [
            "<!DOCTYPE html>",
            '<html lang="en"><head><meta charset="utf-8">',
            f'<meta http-equiv="Content-Security-Policy" content="{NO_FETCHING}">',
            '<meta name="viewport" content="width=device-width, initial-scale=1">',
            f"<title>{escape(title)}</title><style>{STYLE}</style></head><body>",
            *body,
            "</body></html>",
            "",
        ]
    )


def score_bar(score: float, max_score: float) -> str:
    fraction = score / max_score if max_score else 0.0
    level = "" if fraction >= 0.999 else "partial" if fraction >= 0.5 else "low"
    return f'<span class="bar {level}"><span style="width:{100 * fraction:.1f}%"></span></span>'


def status_badge(status: str) -> str:
    return f'<span class="status {escape(status)}">{escape(status)}</span>'


# -- heatmaps -------------------------------------------------------------------------------------


def color(value: float, scale: float) -> str:
    """Diverging: blue below zero, white at zero, red above; grey for nan or inf."""
    if not math.isfinite(value):
        return "#9aa0aa"
    t = max(-1.0, min(1.0, value / scale)) if scale else 0.0
    far = (178, 24, 43) if t > 0 else (33, 102, 172)
    r, g, b = (round(255 + (c - 255) * abs(t)) for c in far)
    return f"#{r:02x}{g:02x}{b:02x}"


def label(value: float) -> str:
    if not math.isfinite(value):
        return str(value)
    return f"{value:.0f}" if value == round(value) and abs(value) < 1e4 else f"{value:.2g}"


def heatmap(grid: Grid, scale: float, caption: str) -> str:
    """One 2-D grid as an SVG heatmap; each cell carries its value as a tooltip."""
    rows, cols = len(grid), len(grid[0]) if grid else 0
    cell = max(8, min(MAX_HEATMAP_CELL, 320 // max(rows, cols, 1)))
    labelled = rows <= LABELLED_VALUES and cols <= LABELLED_VALUES and cell >= 20
    parts = [
        f'<figure><svg xmlns="http://www.w3.org/2000/svg" width="{cols * cell}" '
        f'height="{rows * cell}" role="img" aria-label="{escape(caption)}">'
    ]
    for i, row in enumerate(grid):
        for j, value in enumerate(row):
            x, y = j * cell, i * cell
            parts.append(
                f'<rect x="{x}" y="{y}" width="{cell}" height="{cell}" fill="{color(value, scale)}"'
                f' stroke="#fff"><title>[{i}, {j}] {label(value)}</title></rect>'
            )
            if labelled:
                dark = math.isfinite(value) and scale and abs(value) / scale > 0.6
                parts.append(
                    f'<text x="{x + cell / 2}" y="{y + cell / 2}" font-size="{cell * 0.38:.0f}" '
                    f'text-anchor="middle" dominant-baseline="central" '
                    f'fill="{"#fff" if dark else "#1d2330"}">{escape(label(value))}</text>'
                )
    parts.append(f"</svg><figcaption>{escape(caption)}</figcaption></figure>")
    return "".join(parts)


def channels(grid: Grid) -> list[Grid]:
    """A 3-D grid's 2-D channels; a 2-D grid is its own only channel."""
    return list(grid) if grid and grid[0] and isinstance(grid[0][0], tuple) else [grid]


def shape(grid: Grid) -> tuple[int, ...]:
    sizes = []
    while isinstance(grid, tuple):
        sizes.append(len(grid))
        grid = grid[0] if grid else None
    return tuple(sizes)


def largest(grids: Sequence[Grid]) -> float:
    values = [abs(v) for g in grids for c in channels(g) for row in c for v in row]
    return max((v for v in values if math.isfinite(v)), default=0.0) or 1.0


def subtract(a: Grid, b: Grid) -> Grid:
    if isinstance(a, tuple):
        return tuple(subtract(x, y) for x, y in zip(a, b))
    return a - b


def heatmaps(comparison: Comparison) -> str:
    """Expected, received and their difference, side by side, one row per channel."""
    expected, received = comparison.expected, comparison.received
    scale = largest([expected, received])
    same_shape = shape(expected) == shape(received)
    difference = subtract(received, expected) if same_shape else None
    rows = []
    for c, want in enumerate(channels(expected)):
        suffix = f", channel {c}" if len(channels(expected)) > 1 else ""
        figures = [heatmap(want, scale, f"expected{suffix}")]
        if same_shape:
            figures.append(heatmap(channels(received)[c], scale, f"received{suffix}"))
            figures.append(
                heatmap(
                    channels(difference)[c], largest([difference]), f"received - expected{suffix}"
                )
            )
        rows.append(f'<div class="maps">{"".join(figures)}</div>')
    if not same_shape:
        got = channels(received)
        rows.append(
            '<div class="maps">'
            + "".join(heatmap(g, scale, f"received, {i}") for i, g in enumerate(got[:4]))
            + "</div>"
            + f"<p>The shapes differ: expected {shape(expected)}, received {shape(received)}.</p>"
        )
    return "".join(rows)


# -- one submission -------------------------------------------------------------------------------


def test_details(test: TestResult, open_: bool) -> str:
    summary_line = f"{status_badge(test.status)} {escape(test.name)}"
    parts = [f"<details{' open' if open_ else ''}><summary>{summary_line}</summary>"]
    parts.append(f"<pre>{escape(test.message)}</pre>")
    if test.comparison is not None:
        parts.append(heatmaps(test.comparison))
    if test.output:
        parts.append(f"<h3>Printed</h3><pre>{escape(test.output)}</pre>")
    parts.append("</details>")
    return "".join(parts)


def example_block(example: TestResult) -> str:
    """The smallest failing input, in full, with its heatmaps."""
    return "".join(
        [
            f'<div class="example"><h3>{escape(EXAMPLE_HEADING.capitalize())}</h3>',
            f"<pre style='white-space:pre-wrap'>{escape(example.message)}</pre>",
            heatmaps(example.comparison) if example.comparison else "",
            "</div>",
        ]
    )


def chips(exercise: ExerciseResult) -> str:
    return (
        '<div class="chips">'
        + "".join(
            f'<span class="chip {escape(t.status)}" title="{escape(t.name)}: {escape(t.status)}">'
            "</span>"
            for t in exercise.tests
        )
        + "</div>"
    )


def exercise_section(exercise: ExerciseResult) -> str:
    score = f"{points(exercise.score)}/{points(exercise.max_score)}"
    parts = [
        f'<section class="exercise" id="{escape(exercise.name)}">',
        f"<h2>{escape(exercise.name)} &nbsp; {score} "
        f"{score_bar(exercise.score, exercise.max_score)}</h2>",
        f'<p class="meta">{escape(summary(exercise))}'
        + (f" &middot; defined at {escape(exercise.defined_at)}" if exercise.defined_at else "")
        + "</p>",
        chips(exercise),
    ]
    parts += [f'<div class="note">{escape(note)}</div>' for note in exercise.notes]
    parts += [f'<div class="note">{escape(text)}</div>' for text in withheld_credit(exercise)]
    problems = [t for t in exercise.tests if t.status not in ("passed", "skipped")]
    diagnoses = sorted({t.diagnosis for t in problems if t.diagnosis})
    parts += [f'<div class="diagnosis">likely cause: {escape(d)}</div>' for d in diagnoses]
    for index, test in enumerate(problems[:MAX_PROBLEMS_SHOWN]):
        parts.append(test_details(test, open_=index == 0))
    if len(problems) > MAX_PROBLEMS_SHOWN:
        parts.append(f"<p>... and {len(problems) - MAX_PROBLEMS_SHOWN} more (see the JSON).</p>")
    if exercise.example is not None:
        parts.append(example_block(exercise.example))
    parts.append("</section>")
    return "\n".join(parts)


def render_html(report: Report) -> str:
    """A self-contained page for one submission (`grade --format html`)."""
    rows = "".join(
        f'<tr><td><a href="#{escape(e.name)}">{escape(e.name)}</a></td>'
        f'<td class="num">{points(e.score)}/{points(e.max_score)}</td>'
        f"<td>{score_bar(e.score, e.max_score)}</td><td>{escape(summary(e))}</td></tr>"
        for e in report.exercises
    )
    body = [
        f"<header><h1>{escape(report.submission)}</h1>",
        f'<p class="total">{points(report.score)} / {points(report.max_score)}</p>',
        f'<p class="meta">seed {report.seed} &middot; isolation {escape(report.isolation)} '
        f"&middot; {escape(report.framework)} &middot; graded in {report.seconds:.1f} s</p>"
        "</header>",
        '<table><tr><th>exercise</th><th class="num">score</th><th></th><th>tests</th></tr>'
        f"{rows}</table>",
    ]
    if any(t.comparison or e.example for e in report.exercises for t in e.tests):
        body.append(f'<p class="meta">{HEATMAP_LEGEND}</p>')
    if report.notes:
        body.append("<h2>Notes</h2>")
        body += [f"<pre>{escape(note)}</pre>" for note in report.notes]
    body += [exercise_section(e) for e in report.exercises]
    return page(f"{report.submission}: {points(report.score)}/{points(report.max_score)}", body)


# -- a class --------------------------------------------------------------------------------------


def histogram(totals: list[float], max_score: float, bins: int = 10) -> str:
    """Score distribution as SVG bars: bins of equal width from 0 to max_score."""
    counts = [0] * bins
    for total in totals:
        fraction = total / max_score if max_score else 0.0
        counts[min(bins - 1, max(0, int(fraction * bins)))] += 1
    width, height, bar, top_margin = 560, 180, 560 // bins, 20
    top = max(counts, default=0) or 1
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" '
        f'height="{top_margin + height + 40}" role="img" aria-label="score distribution">'
    ]
    for i, count in enumerate(counts):
        h = height * count / top
        y = top_margin + height - h
        low, high = max_score * i / bins, max_score * (i + 1) / bins
        parts.append(
            f'<rect x="{i * bar + 2}" y="{y:.1f}" width="{bar - 4}" height="{h:.1f}" '
            f'fill="#5b7fd6"><title>{points(low)} to {points(high)}: {count}</title></rect>'
            f'<text x="{i * bar + bar / 2}" y="{top_margin + height + 16}" font-size="11" '
            f'text-anchor="middle">{points(low)}</text>'
        )
        if count:
            parts.append(
                f'<text x="{i * bar + bar / 2}" y="{y - 4:.1f}" font-size="12" '
                f'text-anchor="middle">{count}</text>'
            )
    parts.append(
        f'<text x="{width / 2}" y="{top_margin + height + 36}" font-size="12" '
        f'text-anchor="middle">total score (of {points(max_score)})</text></svg>'
    )
    return "".join(parts)


def common_mistakes(reports: Sequence[Report]) -> list[tuple[int, str, str]]:
    """(submissions, exercise, diagnosis), most common first; each counted once per student."""
    counted: Counter[tuple[str, str]] = Counter()
    for report in reports:
        seen = {
            (e.name, t.diagnosis)
            for e in report.exercises
            for t in e.tests
            if t.diagnosis and t.status != "passed"
        }
        counted.update(seen)
    return sorted(((n, e, d) for (e, d), n in counted.items()), key=lambda r: (-r[0], r[1], r[2]))


def render_overview(
    rows: Sequence[BatchRow],
    reports: Sequence[Report],
    maxima: dict[str, float],
    similarity: SimilarityReport | None = None,
) -> str:
    """The class page of `batch`: distribution, pass rates, common mistakes, every student,
    and similar code when checked. maxima: each exercise's points; a row whose report is
    among reports links to its page."""
    names = list(maxima)
    max_score = round(sum(maxima.values()), 4)
    totals = [r.total for r in rows]
    body = [
        "<header><h1>Class overview</h1>",
        f'<p class="meta">{len(rows)} submissions'
        + (
            f" &middot; median {points(statistics.median(totals))} &middot; mean "
            f"{points(statistics.fmean(totals))} of {points(max_score)}"
            if totals
            else ""
        )
        + "</p></header>",
        "<h2>Score distribution</h2>",
        histogram(totals, max_score),
        "<h2>Exercises</h2>",
        '<table><tr><th>exercise</th><th class="num">full marks</th><th></th>'
        '<th class="num">mean score</th></tr>',
    ]
    for name, worth in maxima.items():
        full = sum(r.scores.get(name, 0.0) >= worth - 1e-9 for r in rows)
        mean = statistics.fmean(r.scores.get(name, 0.0) for r in rows) if rows else 0.0
        body.append(
            f"<tr><td>{escape(name)}</td><td class='num'>{full}/{len(rows)}</td>"
            f"<td>{score_bar(full, len(rows))}</td>"
            f"<td class='num'>{points(mean)}/{points(worth)}</td></tr>"
        )
    body.append("</table><h2>Most common mistakes</h2>")
    mistakes = common_mistakes(reports)
    if mistakes:
        body.append(
            '<table><tr><th class="num">students</th><th>exercise</th><th>likely cause</th></tr>'
        )
        body += [
            f"<tr><td class='num'>{n}</td><td>{escape(e)}</td><td>{escape(d)}</td></tr>"
            for n, e, d in mistakes[:15]
        ]
        body.append("</table>")
    else:
        body.append("<p>No diagnosed mistakes.</p>")
    body += [
        "<h2>Submissions</h2>",
        "<table><tr><th>id</th><th class='num'>total</th>"
        + "".join(f"<th class='num'>{escape(n)}</th>" for n in names)
        + "<th>status</th></tr>",
    ]
    graded = {r.submission for r in reports}
    for row in sorted(rows, key=lambda r: r.id):
        page_name = escape(quote(f"{row.id}.html"))
        name = f'<a href="{page_name}">{escape(row.id)}</a>' if row.id in graded else escape(row.id)
        body.append(
            f"<tr><td>{name}</td><td class='num'>{points(row.total)}/{points(row.max)}</td>"
            + "".join(f"<td class='num'>{points(row.scores.get(n, 0.0))}</td>" for n in names)
            + f"<td>{escape(row.status)}</td></tr>"
        )
    body.append("</table>")
    if similarity is not None:
        body += similarity_section(similarity)
    return page(f"Class overview: {len(rows)} submissions", body)


# -- similar code ---------------------------------------------------------------------------------


def marked_code(code: str, matched: Sequence[tuple[int, int]]) -> str:
    """The code, escaped, with the ranges the other submission shares in <mark>."""
    parts, at = [], 0
    for start, end in sorted(matched):
        start, end = max(start, at), min(end, len(code))
        if start >= end:
            continue
        parts += [escape(code[at:start]), f"<mark>{escape(code[start:end])}</mark>"]
        at = end
    parts.append(escape(code[at:]))
    return "".join(parts)


def percent(share: float) -> str:
    return f"{100 * share:.0f}%"


def side_by_side(pair: SimilarPair) -> str:
    columns = "".join(
        f"<div><h3>{escape(side.id)}: {percent(side.share)} of its code is in the other</h3>"
        f"<pre>{marked_code(side.code, side.matched)}</pre></div>"
        for side in (pair.first, pair.second)
    )
    return f'<div class="sidebyside">{columns}</div>'


def pair_title(pair: SimilarPair) -> str:
    return f"{pair.first.id} and {pair.second.id}: {percent(pair.similarity)} similar"


def render_pair(pair: SimilarPair, threshold: float) -> str:
    """A pair's page (similarity/FIRST--SECOND.html in the reports folder): both codes side
    by side, the shared parts highlighted."""
    body = [
        f"<header><h1>{escape(pair_title(pair))}</h1>",
        f'<p class="meta">listed from {percent(threshold)} on &middot; the stubs and the '
        "book's code are left out of the comparison &middot; a similarity never changes a "
        'grade &middot; <a href="../index.html">class overview</a></p></header>',
        '<p class="meta">Highlighted: code the other submission has too, '
        "compared after names, comments and whitespace are set aside.</p>",
        side_by_side(pair),
    ]
    return page(pair_title(pair), body)


def similarity_section(report: SimilarityReport) -> list[str]:
    """The overview's list of similar pairs, the first few side by side."""
    body = [
        "<h2>Similar code</h2>",
        f'<p class="meta">{report.compared} submissions compared pairwise, the stubs and the '
        f"book's code left out; pairs from {percent(report.threshold)} similar are listed. "
        "Similarity never changes a grade: read the code before you judge.</p>",
    ]
    body += [f'<div class="note">{escape(note)}</div>' for note in report.notes]
    if not report.pairs:
        body.append("<p>No pair is that similar.</p>")
        return body
    body.append(
        '<table><tr><th>first</th><th>second</th><th class="num">similarity</th>'
        '<th class="num">of first</th><th class="num">of second</th><th></th></tr>'
    )
    for pair in report.pairs:
        body.append(
            f"<tr><td>{escape(pair.first.id)}</td><td>{escape(pair.second.id)}</td>"
            f"<td class='num'>{percent(pair.similarity)}</td>"
            f"<td class='num'>{percent(pair.first.share)}</td>"
            f"<td class='num'>{percent(pair.second.share)}</td>"
            f'<td><a href="{escape(quote(pair.page))}">side by side</a></td></tr>'
        )
    body.append("</table>")
    for pair in report.pairs[:PAIRS_SHOWN_IN_OVERVIEW]:
        body.append(
            f"<details><summary>{escape(pair_title(pair))}</summary>{side_by_side(pair)}</details>"
        )
    return body
