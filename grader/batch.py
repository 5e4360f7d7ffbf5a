"""Grade a class: every entry of a folder is one submission, every submission gets a row.

Each finished submission's report (JSON and HTML) is written at once (atomically) to the
reports folder, and the gradebook CSV is rewritten from all finished rows after each one, so an
interruption loses nothing already graded; `resume` skips the submissions whose report is
there. At the end, index.html in the reports folder gives the class overview. Submissions run
in parallel on a local process pool (each pool process keeps one zygote, which imports the
framework once), or on a Dask cluster when a scheduler address is given."""

from __future__ import annotations

import atexit
import csv
import io
import json
import os
import sys
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import dataclass
from multiprocessing import get_context
from pathlib import Path

from grader.config import CourseConfig
from grader.exports import render_json
from grader.html_report import render_html, render_overview, render_pair
from grader.isolation import choose_isolation
from grader.lms_exports import StagedExport, stage_export, warn
from grader.report import Report, report_from_dict
from grader.sandbox import WorkerPool
from grader.similarity import SimilarityReport, check_class, similarity_csv

REPORT_SUFFIX = ".json"
PAGE_SUFFIX = ".html"
OVERVIEW = "index.html"


@dataclass(frozen=True)
class BatchRow:
    id: str
    total: float
    max: float
    scores: dict[str, float]
    status: str  # "ok", or why the submission could not be graded as code
    seconds: float


STAGING = ".submissions"  # inside the reports folder: each student's work, named by the student


def staging_folder(reports: Path) -> Path:
    return reports / STAGING


def staged_submissions(
    source: Path, skip: tuple[Path, ...] = (), staging: Path | None = None
) -> StagedExport:
    """One submission per student: each entry of a folder, or of an LMS export (a zip, or
    Canvas, Moodle or Gradescope's layout; see grader/lms_exports.py)."""
    skipped = {p.resolve() for p in skip}
    if staging is None:
        import tempfile

        staging = Path(tempfile.mkdtemp(prefix="grader-submissions-"))
    return stage_export(source, staging, skip=lambda path: path.resolve() in skipped)


def submission_entries(
    source: Path, skip: tuple[Path, ...] = (), staging: Path | None = None
) -> list[Path]:
    """Each student's submission, in id order; an entry's name is the student's id."""
    return list(staged_submissions(source, skip, staging).entries)


def row_from_report(report: Report) -> BatchRow:
    """A submission's gradebook row."""
    if all(e.defined_at is None for e in report.exercises):
        notes = report.notes or ("nothing graded is defined",)
        status = "nothing defined: " + notes[0].splitlines()[0][:200]
    else:
        status = "ok"
    return BatchRow(
        report.submission,
        report.score,
        report.max_score,
        {e.name: e.score for e in report.exercises},
        status,
        report.seconds,
    )


def failed_row(submission: str, config: CourseConfig, reason: str, seconds: float) -> BatchRow:
    max_score = round(sum(e.points for e in config.exercises), 4)
    return BatchRow(
        submission,
        0.0,
        max_score,
        {e.name: 0.0 for e in config.exercises},
        f"error: {reason}"[:300],
        seconds,
    )


def write_atomically(path: Path, text: str) -> None:
    partial = path.with_name(f".{path.name}.partial")
    partial.write_text(text)
    os.replace(partial, path)


# One zygote per grading process, made on first use and kept for the process's life: it is
# what makes a submission cost its own code's time, not an `import mxnet` (or torch) each.
_pools: dict[tuple, WorkerPool] = {}


def shared_pool(config: CourseConfig, isolation: str | None) -> WorkerPool:
    from grader.grading import uses_gpu

    confinement = choose_isolation(isolation or config.isolation)
    gpu = uses_gpu(None, config)
    key = (confinement, config.limits, config.framework, gpu)
    if key not in _pools:
        _pools[key] = WorkerPool(config.limits, confinement, config.framework, gpu)
        atexit.register(_pools[key].close)
    return _pools[key]


def grade_entry(
    path: Path, config: CourseConfig, seed: int | None, isolation: str | None, reports: Path
) -> BatchRow:
    """Grade one submission and store its report; never raises (an error is a row)."""
    from grader.grading import grade

    started = time.monotonic()
    try:
        report = grade(path, config, seed=seed, pool=shared_pool(config, isolation))
    except Exception as error:  # noqa: BLE001 - one broken submission must not stop a class
        return failed_row(
            path.name, config, f"{type(error).__name__}: {error}", time.monotonic() - started
        )
    write_atomically(reports / f"{path.name}{PAGE_SUFFIX}", render_html(report))
    write_atomically(reports / f"{path.name}{REPORT_SUFFIX}", render_json(report))  # marks done
    return row_from_report(report)


def finished_reports(reports: Path) -> dict[str, Report]:
    """The reports already written, by submission id; a damaged one is left out (and so
    graded again on resume)."""
    found = {}
    for path in reports.glob(f"*{REPORT_SUFFIX}"):
        try:
            report = report_from_dict(json.loads(path.read_text()))
        except (ValueError, KeyError, TypeError, AttributeError):
            continue
        found[report.submission] = report
    return found


def finished_rows(reports: Path) -> dict[str, BatchRow]:
    """Rows of the submissions whose reports are already written (for resume)."""
    return {id: row_from_report(report) for id, report in finished_reports(reports).items()}


def write_overview(
    rows: list[BatchRow],
    reports: Path,
    config: CourseConfig,
    similarity: SimilarityReport | None = None,
) -> Path:
    """The class page, from the gradebook rows and the reports on disk (resumed ones too)."""
    ids = {row.id for row in rows}
    graded = [report for id, report in finished_reports(reports).items() if id in ids]
    maxima = {e.name: e.points for e in config.exercises}
    path = reports / OVERVIEW
    write_atomically(path, render_overview(rows, graded, maxima, similarity))
    return path


SIMILARITY_CSV = "similarity.csv"


def write_similarity(entries: list[Path], reports: Path, config: CourseConfig) -> SimilarityReport:
    """Compare every pair of submissions' code: similarity.csv and a page per listed pair in
    the reports folder. It reads the submissions' files only, after grading: no grade moves."""
    threshold = config.similarity.threshold
    try:
        found = check_class(entries, config.similarity.boilerplate, threshold)
    except ImportError as error:  # the grades and the overview must not be lost for it
        found = SimilarityReport(threshold, 0, (), (f"code was not compared: {error}",))
    write_atomically(reports / SIMILARITY_CSV, similarity_csv(found))
    pages = reports / "similarity"
    pages.mkdir(exist_ok=True)
    for stale in pages.glob("*.html"):  # of a pair an earlier run listed
        stale.unlink()
    for pair in found.pairs:
        write_atomically(reports / pair.page, render_pair(pair, found.threshold))
    return found


def gradebook_csv(rows: list[BatchRow], config: CourseConfig) -> str:
    names = [e.name for e in config.exercises]
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["id", "total", "max", *names, "status", "seconds"])
    for row in sorted(rows, key=lambda r: r.id):
        writer.writerow(
            [
                row.id,
                row.total,
                row.max,
                *(row.scores.get(n, 0.0) for n in names),
                row.status,
                f"{row.seconds:.2f}",
            ]
        )
    return out.getvalue()


def run_local(tasks: list[Path], jobs: int, grade_args: tuple) -> Iterator[BatchRow]:
    with ProcessPoolExecutor(max_workers=jobs, mp_context=get_context("forkserver")) as pool:
        futures = [pool.submit(grade_entry, path, *grade_args) for path in tasks]
        for future in as_completed(futures):
            yield future.result()


def run_dask(tasks: list[Path], scheduler: str, grade_args: tuple) -> Iterator[BatchRow]:
    try:
        from distributed import Client
        from distributed import as_completed as dask_completed
    except ImportError:
        raise RuntimeError("--scheduler needs Dask: pip install '.[dask]'") from None
    with Client(scheduler) as client:
        futures = [client.submit(grade_entry, path, *grade_args, pure=False) for path in tasks]
        for future in dask_completed(futures):
            yield future.result()


class Progress:
    """A bar on a terminal; a plain line per submission otherwise (logs, CI)."""

    def __init__(self, total: int, stream=sys.stderr) -> None:
        self.total, self.done, self.stream = total, 0, stream
        self.started = time.monotonic()
        self.terminal = stream.isatty()

    def update(self, row: BatchRow) -> None:
        self.done += 1
        if not self.terminal:
            status = "" if row.status == "ok" else f" [{row.status}]"
            print(
                f"graded {row.id}: {row.total:g}/{row.max:g}{status} ({row.seconds:.1f} s) "
                f"[{self.done}/{self.total}]",
                file=self.stream,
                flush=True,
            )
            return
        rate = self.done / max(time.monotonic() - self.started, 1e-9)
        left = (self.total - self.done) / rate if rate else 0
        filled = int(30 * self.done / max(self.total, 1))
        print(
            f"\r[{'#' * filled}{'.' * (30 - filled)}] {self.done}/{self.total} "
            f"{rate * 60:.0f}/min, {left:.0f} s left ",
            end="",
            file=self.stream,
            flush=True,
        )
        if self.done == self.total:
            print(file=self.stream)


def run_batch(
    folder: Path,
    config: CourseConfig,
    output: Path,
    reports: Path,
    *,
    jobs: int = 1,
    resume: bool = False,
    seed: int | None = None,
    isolation: str | None = None,
    scheduler: str | None = None,
    on_row: Callable[[BatchRow], None] | None = None,
) -> list[BatchRow]:
    """Grade every entry of folder; write the gradebook and one report per submission."""
    reports.mkdir(parents=True, exist_ok=True)
    staged = staged_submissions(folder, skip=(output, reports), staging=staging_folder(reports))
    warn(staged.notes)
    entries = list(staged.entries)
    done = finished_rows(reports) if resume else {}
    rows = {name: row for name, row in done.items() if name in {e.name for e in entries}}
    tasks = [entry for entry in entries if entry.name not in rows]
    write_atomically(output, gradebook_csv(list(rows.values()), config))
    grade_args = (config, seed, isolation, reports)
    results = (
        run_dask(tasks, scheduler, grade_args)
        if scheduler
        else run_local(tasks, jobs, grade_args)
        if tasks
        else iter(())
    )
    for row in results:
        rows[row.id] = row
        write_atomically(output, gradebook_csv(list(rows.values()), config))
        if on_row:
            on_row(row)
    finished = sorted(rows.values(), key=lambda r: r.id)
    similarity = write_similarity(entries, reports, config)
    write_overview(finished, reports, config, similarity)
    return finished
