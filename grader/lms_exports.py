"""An LMS export, as the LMS writes it, turned into one folder per student, named by the student.

`batch` takes what an instructor downloads: a `.zip` or the folder it unpacks to, in the shape
of Canvas ("Download Submissions": flat files `name_userid_fileid_original.py`), Moodle
("Download all submissions": a folder `Full Name_123_assignsubmission_file_` per student),
Gradescope ("Export Submissions": `submission_N/` folders and `submission_metadata.yml`), or a
plain folder with one entry per student. Each student's work lands in `STAGING/students/ID/`, where
the id is the student's (Canvas user id, Moodle name and participant number, Gradescope SID):
the id the gradebook rows carry, and the one a roster maps to the LMS's students.

Zips are hostile input like the code in them: no member may land outside the target, symlinks
and special files are dropped, and the member count and unpacked size are capped. Nothing here
runs student code; every step only reads and copies files.
"""

from __future__ import annotations

import json
import re
import shutil
import stat
import sys
import zipfile
import zlib
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

import yaml

from grader.submission import CODE_SUFFIXES

ZIP_SUFFIX = ".zip"
IGNORED_NAMES = {"__MACOSX", ".DS_Store", "Thumbs.db", "desktop.ini"}
GRADESCOPE_METADATA = "submission_metadata.yml"
STAGED_MARKER = ".staged.json"  # what the staging was made from, and what it holds

# Canvas: `<sortable name>_[LATE_]<user id>_<file id>_<original name>`; a file uploaded again
# under the same name gets `-1`, `-2` before its extension.
CANVAS_FILE = re.compile(
    r"^(?P<name>[^_]+)_(?:LATE_)?(?P<user>\d+)_(?P<file>\d+)_(?P<original>.+)$"
)
CANVAS_RENAMED = re.compile(r"^(?P<stem>.+)-\d+(?P<suffix>\.[^.]+)$")
# Moodle: a folder `<full name>_<participant id>_assignsubmission_<plugin>_` per student and
# plugin, or (with "Download submissions in folders" off) flat files with that prefix.
MOODLE_FOLDER = re.compile(r"^(?P<student>.+_\d+)_assignsubmission_[a-z]+_?$")
MOODLE_FILE = re.compile(r"^(?P<student>.+_\d+)_assignsubmission_[a-z]+_(?P<original>.+)$")
SUBMISSION_FOLDER = re.compile(r"^submission_\d+$")
UNSAFE_ID = re.compile(r"[/\\\x00-\x1f]")


class ExportError(ValueError):
    """An export that cannot be read safely (a zip bomb, a path out of the target)."""


@dataclass(frozen=True)
class ZipLimits:
    """Caps against zip bombs, for one archive (a student's zip inside counts on its own)."""

    max_members: int = 20_000
    max_bytes: int = 1024 * 2**20  # unpacked, all members together
    max_member_bytes: int = 64 * 2**20


# A student's own zip, inside an export: their work is a few files.
STUDENT_ZIP_LIMITS = ZipLimits(max_members=2_000, max_bytes=64 * 2**20, max_member_bytes=16 * 2**20)


@dataclass(frozen=True)
class StagedExport:
    entries: tuple[Path, ...]  # one per student, in id order
    layout: str  # "canvas", "moodle", "gradescope" or "folder"
    notes: tuple[str, ...]  # what was dropped or could not be read, for stderr


def visible(folder: Path, skip: Callable[[Path], bool] = lambda path: False) -> list[Path]:
    """The entries that count: no hidden files, no archiver debris, none the caller skips."""
    return sorted(
        p
        for p in folder.iterdir()
        if not p.name.startswith(".") and p.name not in IGNORED_NAMES and not skip(p)
    )


def is_code(path: Path) -> bool:
    return path.is_file() and path.suffix in CODE_SUFFIXES


def safe_member_path(name: str) -> PurePosixPath | None:
    """The member's path inside the target, or None if it would leave it."""
    name = name.replace("\\", "/")
    if name.startswith("/") or re.match(r"^[A-Za-z]:", name):
        return None
    parts = [p for p in PurePosixPath(name).parts if p not in ("", ".")]
    if not parts or ".." in parts:
        return None
    return PurePosixPath(*parts)


def extract_zip(archive: Path, target: Path, limits: ZipLimits = ZipLimits()) -> list[str]:
    """Unpack archive into target; returns notes on the members dropped. Raises ExportError
    when the archive is not a zip or breaks a cap, before anything past the cap is written."""
    notes = []
    try:
        opened = zipfile.ZipFile(archive)
    except (zipfile.BadZipFile, OSError) as error:
        raise ExportError(f"{archive.name}: not a readable zip file ({error})") from None
    with opened:
        members = opened.infolist()
        if len(members) > limits.max_members:
            raise ExportError(
                f"{archive.name}: {len(members)} members, more than the "
                f"{limits.max_members} allowed (a zip bomb?)"
            )
        declared = sum(m.file_size for m in members)
        if declared > limits.max_bytes:
            raise ExportError(
                f"{archive.name}: unpacks to {declared} bytes, more than the "
                f"{limits.max_bytes} allowed (a zip bomb?)"
            )
        target.mkdir(parents=True, exist_ok=True)
        root = target.resolve()
        written = 0
        for member in members:
            relative = safe_member_path(member.filename)
            if relative is None or not (root / relative).resolve().is_relative_to(root):
                notes.append(f"{archive.name}: dropped {member.filename!r}: its path leaves")
                continue
            mode = member.external_attr >> 16
            if stat.S_ISLNK(mode):
                notes.append(f"{archive.name}: dropped {member.filename!r}: a symbolic link")
                continue
            if stat.S_IFMT(mode) and not (stat.S_ISREG(mode) or stat.S_ISDIR(mode)):
                notes.append(f"{archive.name}: dropped {member.filename!r}: not a plain file")
                continue
            destination = root / relative
            if member.is_dir():
                destination.mkdir(parents=True, exist_ok=True)
                continue
            if member.file_size > limits.max_member_bytes:
                raise ExportError(
                    f"{archive.name}: {member.filename} unpacks to {member.file_size} bytes, "
                    f"more than the {limits.max_member_bytes} allowed per file"
                )
            destination.parent.mkdir(parents=True, exist_ok=True)
            if destination.is_symlink() or destination.is_dir():
                notes.append(f"{archive.name}: dropped {member.filename!r}: its path is taken")
                continue
            written += copy_member(opened, member, destination, archive.name)
            if written > limits.max_bytes:
                raise ExportError(f"{archive.name}: unpacks to more than {limits.max_bytes} bytes")
    return notes


def copy_member(
    opened: zipfile.ZipFile, member: zipfile.ZipInfo, destination: Path, name: str
) -> int:
    """Write one member; its bytes. zipfile stops at the size the directory declares and
    checks the CRC, so a member that lies about its size fails here instead of filling the disk."""
    try:
        with opened.open(member) as source, destination.open("wb") as sink:
            size = 0
            while chunk := source.read(2**20):
                size += len(chunk)
                sink.write(chunk)
    except (zipfile.BadZipFile, zlib.error, EOFError, NotImplementedError, RuntimeError) as error:
        destination.unlink(missing_ok=True)
        raise ExportError(f"{name}: {member.filename} cannot be unpacked ({error})") from None
    return size


def unwrap(folder: Path) -> Path:
    """The folder that holds the work: an unpacked zip usually wraps it in one more folder
    (`alice/hw3/conv_layer.py`), sometimes two."""
    for _ in range(4):
        entries = visible(folder)
        if any(is_code(p) for p in entries):
            return folder
        folders = [p for p in entries if p.is_dir() and not p.is_symlink()]
        if len(folders) != 1:
            return folder
        folder = folders[0]
    return folder


def copy_work(source: Path, target: Path) -> None:
    """Copy a student's files, never following a symlink (one could point anywhere)."""
    target.mkdir(parents=True, exist_ok=True)
    for entry in visible(source):
        if entry.is_symlink():
            continue
        if entry.is_dir():
            copy_work(entry, target / entry.name)
        elif entry.is_file():
            shutil.copyfile(entry, target / entry.name)


def student_id(text: str) -> str:
    """An id safe to use as a file name (reports are named by it)."""
    cleaned = UNSAFE_ID.sub("_", text.strip()).strip(". ")
    return cleaned or "unnamed"


def unique(ids: list[str]) -> list[str]:
    """Ids made unique by a number, in the order given."""
    seen: dict[str, int] = {}
    result = []
    for id in ids:
        count = seen.get(id, 0)
        seen[id] = count + 1
        result.append(id if count == 0 else f"{id}-{count + 1}")
    return result


# ---- layouts: each maps a folder to {student id: [paths that hold that student's work]} ----


def canvas_groups(entries: list[Path]) -> dict[str, list[Path]] | None:
    matched = [(p, CANVAS_FILE.match(p.name)) for p in entries]
    if not entries or not all(m and p.is_file() for p, m in matched):
        return None
    groups: dict[str, list[Path]] = defaultdict(list)
    for path, match in matched:
        groups[match["user"]].append(path)
    return dict(groups)


def canvas_original_name(path: Path) -> tuple[str, int]:
    """The name the student gave the file, and Canvas's file id (larger is newer)."""
    match = CANVAS_FILE.match(path.name)
    original = match["original"]
    renamed = CANVAS_RENAMED.match(original)
    if renamed and renamed["suffix"] in (*CODE_SUFFIXES, ZIP_SUFFIX):
        original = renamed["stem"] + renamed["suffix"]
    return original, int(match["file"])


def stage_canvas(paths: list[Path], target: Path, notes: list[str]) -> None:
    """Each original name once, from its newest upload."""
    newest: dict[str, tuple[int, Path]] = {}
    for path in paths:
        original, file_id = canvas_original_name(path)
        if original not in newest or file_id > newest[original][0]:
            newest[original] = (file_id, path)
    target.mkdir(parents=True)
    for original, (_, path) in newest.items():
        stage_file(path, target / student_id(original), notes)


def moodle_groups(entries: list[Path]) -> dict[str, list[Path]] | None:
    matched = [
        (p, MOODLE_FOLDER.match(p.name) if p.is_dir() else MOODLE_FILE.match(p.name))
        for p in entries
    ]
    if not entries or not all(m for _, m in matched):
        return None
    groups: dict[str, list[Path]] = defaultdict(list)
    for path, match in matched:
        groups[match["student"]].append(path)
    return dict(groups)


def gradescope_groups(
    folder: Path, entries: list[Path], notes: list[str]
) -> dict[str, list[Path]] | None:
    metadata_file = folder / GRADESCOPE_METADATA
    if not metadata_file.is_file():
        return None
    try:
        metadata = yaml.safe_load(metadata_file.read_text(encoding="utf-8")) or {}
    except (yaml.YAMLError, UnicodeDecodeError) as error:
        raise ExportError(f"{metadata_file}: not readable YAML ({error})") from None
    if not isinstance(metadata, dict):
        raise ExportError(f"{metadata_file}: expected a mapping of submission folders")
    groups: dict[str, list[Path]] = {}
    for entry in entries:
        if not (entry.is_dir() and SUBMISSION_FOLDER.match(entry.name)):
            continue
        record = metadata.get(entry.name) or {}
        submitters = record.get(":submitters") if isinstance(record, dict) else None
        ids = [
            str(s.get(":sid") or s.get(":email") or s.get(":name") or "").strip()
            for s in (submitters or [])
            if isinstance(s, dict)
        ]
        ids = [i for i in ids if i]
        if not ids:
            notes.append(f"{entry.name}: no submitter in {GRADESCOPE_METADATA}; id kept")
            ids = [entry.name]
        groups[student_id("+".join(ids))] = [entry]
    return groups


def stage_file(path: Path, target: Path, notes: list[str]) -> None:
    """A student's single file: a zip is unpacked (safely), anything else copied."""
    if path.suffix.lower() == ZIP_SUFFIX:
        folder = target.with_suffix("")
        try:
            notes.extend(extract_zip(path, folder, STUDENT_ZIP_LIMITS))
        except ExportError as error:
            notes.append(f"{error}; its files were not graded")
        return
    shutil.copyfile(path, target)


def stage_student(paths: list[Path], target: Path, notes: list[str]) -> None:
    """Merge a student's folders (Moodle gives one per submission plugin) into target, then
    lift the work out of a wrapping folder or a lone zip."""
    target.mkdir(parents=True)
    for path in paths:
        if path.is_dir():
            copy_work(path, target)
        elif path.is_file():
            moodle = MOODLE_FILE.match(path.name)
            stage_file(
                path, target / student_id(moodle["original"] if moodle else path.name), notes
            )
    lift(target, notes)


def lift(target: Path, notes: list[str]) -> None:
    """Unpack a lone zip and move the work out of wrapping folders, in place."""
    if lone_zip(target):
        [archive] = [p for p in visible(target) if p.is_file() and p.suffix.lower() == ZIP_SUFFIX]
        stage_file(archive, archive, notes)
        archive.unlink()
    inner = unwrap(target)
    if inner != target:
        holder = target.with_name(target.name + ".lifting")
        inner.rename(holder)
        shutil.rmtree(target)
        holder.rename(target)


def find_layout(
    root: Path, skip: Callable[[Path], bool], notes: list[str]
) -> tuple[str, Path, dict[str, list[Path]] | None]:
    """Which LMS wrote this folder, looking through wrapping folders (`assignment_1_export/`);
    the folder it is in (for a plain folder, the innermost wrapper)."""
    folder = root
    for _ in range(3):
        entries = visible(folder, skip)
        for name, groups in (
            ("gradescope", gradescope_groups(folder, entries, notes)),
            ("moodle", moodle_groups(entries)),
            ("canvas", canvas_groups(entries)),
        ):
            if groups is not None:
                return name, folder, groups
        if not (len(entries) == 1 and entries[0].is_dir() and not entries[0].is_symlink()):
            break
        folder = entries[0]
    return "folder", folder, None


def lone_zip(folder: Path) -> bool:
    """The folder holds one zip and no code (the student zipped their work)."""
    entries = visible(folder)
    zips = [p for p in entries if p.is_file() and p.suffix.lower() == ZIP_SUFFIX]
    return len(zips) == 1 and not any(is_code(p) for p in entries)


def needs_staging(entry: Path) -> bool:
    """A plain folder's entry is graded in place unless it is a zip or wraps its work."""
    if entry.is_symlink():
        return False
    if entry.is_file():
        return entry.suffix.lower() == ZIP_SUFFIX
    return entry.is_dir() and (unwrap(entry) != entry or lone_zip(entry))


def source_signature(source: Path) -> str:
    """What the staging was made from; a changed export is staged again."""
    info = source.stat()
    return f"{source.resolve()}\n{info.st_size}\n{info.st_mtime_ns}\n"


def stage_export(
    source: Path,
    staging: Path,
    skip: Callable[[Path], bool] = lambda path: False,
    limits: ZipLimits = ZipLimits(),
) -> StagedExport:
    """One entry per student from an export (a zip or a folder). Plain entries that need no
    change are returned as they are; everything else is copied or unpacked into staging."""
    notes: list[str] = []
    staging.mkdir(parents=True, exist_ok=True)
    marker = staging / STAGED_MARKER
    if source.is_file():
        # A zip does not change under us: staged once, it is reused (batch, then --resume).
        done = earlier_staging(marker, source_signature(source))
        if done is not None:
            return done
        marker.unlink(missing_ok=True)
        unpacked = staging / "unpacked"
        shutil.rmtree(unpacked, ignore_errors=True)
        notes.extend(extract_zip(source, unpacked, limits))
        root = unpacked
    else:
        root = source
    layout, folder, groups = find_layout(root, skip, notes)
    if groups is None and not source.is_file():
        folder = root  # a folder given is the class itself (a zip's wrapping folders are not)
    students = staging / "students"
    shutil.rmtree(students, ignore_errors=True)
    students.mkdir()
    entries: list[Path] = []
    if groups is None:
        for entry in visible(folder, skip):
            if not needs_staging(entry):
                entries.append(entry)
                continue
            name = entry.stem if entry.is_file() else entry.name
            target = students / student_id(name)
            if entry.is_file():
                target.mkdir()
                stage_file(entry, target / entry.name, notes)
                (target / entry.name).unlink(missing_ok=True)
                lift(target, notes)
            else:
                stage_student([entry], target, notes)
            entries.append(target)
    else:
        ids = unique([student_id(id) for id in groups])
        for id, paths in zip(ids, groups.values()):
            target = students / id
            if layout == "canvas":
                stage_canvas(paths, target, notes)
                lift(target, notes)
            else:
                stage_student(paths, target, notes)
            entries.append(target)
    result = StagedExport(tuple(sorted(entries, key=lambda p: p.name)), layout, tuple(notes))
    if source.is_file():
        record = {
            "source": source_signature(source),
            "layout": layout,
            "entries": [str(e) for e in result.entries],
            "notes": list(result.notes),
        }
        marker.write_text(json.dumps(record))
    return result


def earlier_staging(marker: Path, signature: str) -> StagedExport | None:
    """The staging made from this very zip before, if it is all still there."""
    try:
        record = json.loads(marker.read_text())
        entries = tuple(Path(e) for e in record["entries"])
        if record["source"] != signature or not all(e.exists() for e in entries):
            return None
        return StagedExport(entries, record["layout"], tuple(record["notes"]))
    except (OSError, ValueError, KeyError, TypeError):
        return None


def warn(notes: tuple[str, ...], stream=sys.stderr) -> None:
    for note in notes:
        print(f"grader: {note}", file=stream)
