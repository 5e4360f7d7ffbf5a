"""Code similarity across a class: which pairs of submissions share more code than chance.

Fingerprints come from copydetect, which works the way MOSS does: the code is tokenized
(names become one symbol, comments and whitespace go), every run of NOISE_CHARACTERS
characters of that is hashed, and winnowing keeps the smallest hash of each window, so that
any shared run of GUARANTEE_CHARACTERS is certain to be seen. Fingerprints of the boilerplate
(the stubs and the book's own code, which every student starts from) are dropped first, so
that everyone's copy of the book is not a match. A pair's similarity is the larger of the two
shares: the part of one submission's own code that is found in the other.

Only the instructor's grader runs this, on the submissions' files; it never changes a grade.
Hashes are stable (BLAKE2b, not Python's per-process hash), so the same class gives the same
numbers on every run.
"""

from __future__ import annotations

import csv
import hashlib
import io
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from grader.submission import SubmissionNotFound, read_submission

NOISE_CHARACTERS = 25  # shorter shared runs of tokenized code are never counted (copydetect's)
GUARANTEE_CHARACTERS = 30  # shared runs this long are always found (copydetect's default)
LEXER_NAME = "code.py"  # a file name for copydetect's messages; the language is given
# A side with less of its own tokenized code than this (about three lines) is too small to
# judge: a few runs where a student's code meets the book's would make it look copied.
MIN_OWN_CHARACTERS = 100


@dataclass(frozen=True)
class Side:
    """One submission of a pair: its code, and the parts of it the other one shares."""

    id: str
    code: str
    share: float  # the part of its own (non-boilerplate) code that the other one has
    matched: tuple[tuple[int, int], ...]  # [start, end) character ranges of code


@dataclass(frozen=True)
class SimilarPair:
    first: Side
    second: Side

    @property
    def similarity(self) -> float:
        return max(self.first.share, self.second.share)

    @property
    def page(self) -> str:
        """Its page, relative to the reports folder."""
        return f"similarity/{self.first.id}--{self.second.id}.html"


@dataclass(frozen=True)
class SimilarityReport:
    threshold: float
    compared: int  # submissions with code
    pairs: tuple[SimilarPair, ...]  # at or above the threshold, most similar first
    notes: tuple[str, ...] = ()


@dataclass(frozen=True, eq=False)
class Fingerprint:
    """What copydetect's compare_files reads of a file (the attributes of its
    CodeFingerprint), computed with stable hashes."""

    raw_code: str
    filtered_code: str
    offsets: np.ndarray
    hashes: set
    hash_idx: dict
    k: int
    token_coverage: float


def submission_code(path: Path) -> str:
    """A submission's code cells as one text, each under a comment naming where it is from
    (comments are not fingerprinted, so a notebook and its cells pasted into a .py match)."""
    submission = read_submission(path)
    return "\n\n".join(
        f"# {cell.label}\n{cell.text}" for source in submission.sources for cell in source.cells
    )


def kgram_hashes(text: str, k: int) -> np.ndarray:
    return np.array(
        [
            int.from_bytes(
                hashlib.blake2b(text[i : i + k].encode(), digest_size=8).digest(),
                "little",
                signed=True,
            )
            for i in range(len(text) - k + 1)
        ],
        dtype=np.int64,
    )


def fingerprint(code: str, boilerplate: np.ndarray) -> Fingerprint:
    """Tokenize, hash, winnow, and drop the boilerplate's hashes."""
    from copydetect.utils import filter_code, get_token_coverage, winnow

    filtered, offsets = filter_code(code, LEXER_NAME, "python")
    window = GUARANTEE_CHARACTERS - NOISE_CHARACTERS + 1
    hashes = kgram_hashes(filtered, NOISE_CHARACTERS)
    if len(hashes):
        hashes, where = winnow(hashes, window, remove_duplicates=False)
    else:
        where = np.array([], dtype=np.int64)
    own = ~np.isin(hashes, boilerplate)
    positions: dict[int, list[int]] = {}
    for value, index in zip(hashes[own].tolist(), where[own].tolist()):
        positions.setdefault(value, []).append(index)
    return Fingerprint(
        raw_code=code,
        filtered_code=filtered,
        offsets=offsets,
        hashes=set(positions),
        hash_idx=positions,
        k=NOISE_CHARACTERS,
        token_coverage=get_token_coverage(positions, NOISE_CHARACTERS, len(filtered)),
    )


def boilerplate_hashes(codes: Sequence[str]) -> np.ndarray:
    """Every k-gram hash of the boilerplate, not only its winnowed ones: a run of the book's
    code is dropped wherever winnowing picks it in a submission."""
    from copydetect.utils import filter_code

    hashes = [
        kgram_hashes(filter_code(code, LEXER_NAME, "python")[0], NOISE_CHARACTERS) for code in codes
    ]
    return np.unique(np.concatenate([np.array([], dtype=np.int64), *hashes]))


def whole_words(code: str, start: int, end: int) -> tuple[int, int]:
    """A matched range widened to whole words: copydetect maps ranges back to the code to
    within a character or two, which would cut `def` into `d` and `ef`."""
    while 0 < start < len(code) and (code[start - 1].isalnum() or code[start - 1] == "_"):
        start -= 1
    while 0 < end < len(code) and (code[end].isalnum() or code[end] == "_"):
        end += 1
    return start, end


def compare(first_id: str, first: Fingerprint, second_id: str, second: Fingerprint):
    """The pair as copydetect measures it: each side's share and matched ranges."""
    from copydetect.detector import compare_files

    if not first.hashes & second.hashes:
        return SimilarPair(
            Side(first_id, first.raw_code, 0.0, ()), Side(second_id, second.raw_code, 0.0, ())
        )
    _, shares, slices = compare_files(first, second)
    sides = [
        Side(
            name,
            prints.raw_code,
            min(1.0, float(share)) if prints.token_coverage >= MIN_OWN_CHARACTERS else 0.0,
            tuple(whole_words(prints.raw_code, int(a), int(b)) for a, b in zip(*ranges)),
        )
        for name, prints, share, ranges in zip(
            (first_id, second_id), (first, second), shares, slices
        )
    ]
    return SimilarPair(*sides)


def similar_pairs(
    codes: dict[str, str], boilerplate: Sequence[str], threshold: float
) -> tuple[SimilarPair, ...]:
    """Every pair of codes (id -> code) at or above threshold, most similar first."""
    skip = boilerplate_hashes(boilerplate)
    prints = {id: fingerprint(code, skip) for id, code in sorted(codes.items())}
    prints = {id: p for id, p in prints.items() if p.hashes}
    ids = list(prints)
    found = []
    for i, first in enumerate(ids):
        for second in ids[i + 1 :]:
            pair = compare(first, prints[first], second, prints[second])
            if pair.similarity >= threshold and pair.similarity > 0:
                found.append(pair)
    return tuple(sorted(found, key=lambda p: (-p.similarity, p.first.id, p.second.id)))


def with_subfolders(path: Path) -> list[Path]:
    """A boilerplate folder and the folders in it (exercises/pytorch/ beside exercises/)."""
    if not path.is_dir():
        return [path]
    inner = [p for p in path.rglob("*") if p.is_dir() and not p.name.startswith((".", "_"))]
    return [path, *sorted(inner)]


def boilerplate_codes(paths: Sequence[Path]) -> tuple[list[str], list[str]]:
    """The code of each boilerplate file or folder (its subfolders too), and a note for each
    one that is missing."""
    codes, notes = [], []
    for path in paths:
        if not path.exists():
            notes.append(f"similarity.boilerplate: {path} does not exist; compared without it")
            continue
        for folder in with_subfolders(path):
            try:
                codes.append(submission_code(folder))
            except SubmissionNotFound:
                continue  # a folder without code
    return codes, notes


def check_class(
    entries: Sequence[Path], boilerplate: Sequence[Path], threshold: float
) -> SimilarityReport:
    """Compare every pair of the submissions at these paths (each one's id is its name)."""
    bases, notes = boilerplate_codes(boilerplate)
    codes = {}
    for entry in entries:
        try:
            codes[entry.name] = submission_code(entry)
        except (OSError, ValueError) as error:
            notes.append(f"{entry.name}: not compared: {error}")
    pairs = similar_pairs(codes, bases, threshold)
    compared = sum(bool(code.strip()) for code in codes.values())
    return SimilarityReport(threshold, compared, pairs, tuple(notes))


def similarity_csv(report: SimilarityReport) -> str:
    """similarity.csv: one row per listed pair."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["first", "second", "similarity", "first_share", "second_share", "page"])
    for pair in report.pairs:
        writer.writerow(
            [
                pair.first.id,
                pair.second.id,
                f"{pair.similarity:.4f}",
                f"{pair.first.share:.4f}",
                f"{pair.second.share:.4f}",
                pair.page,
            ]
        )
    return out.getvalue()
