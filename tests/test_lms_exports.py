"""LMS exports as the LMSs write them, and zips crafted to escape, link out, or bomb."""

import json
import stat
import zipfile
from pathlib import Path

import pytest
import yaml

from grader.lms_exports import ExportError, ZipLimits, extract_zip, stage_export
from grader.submission import read_submission

CODE = "def corr2d(X, K):\n    return X\n"


def make_zip(path: Path, members: dict[str, str | bytes], links: dict[str, str] = ()) -> Path:
    """A zip with these members, and symbolic-link members pointing where `links` says."""
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in members.items():
            archive.writestr(name, data)
        for name, target in dict(links).items():
            info = zipfile.ZipInfo(name)
            info.external_attr = (stat.S_IFLNK | 0o777) << 16
            archive.writestr(info, target)
    return path


def tree(folder: Path) -> set[str]:
    return {str(p.relative_to(folder)) for p in folder.rglob("*") if p.is_file()}


def staged(source: Path, tmp_path: Path, **options):
    return stage_export(source, tmp_path / "staging", **options)


def test_no_member_path_leaves_the_target(tmp_path):
    archive = make_zip(
        tmp_path / "evil.zip",
        {
            "../escaped.py": CODE,
            "a/../../escaped2.py": CODE,
            "/tmp/absolute_escape.py": CODE,
            "C:/windows.py": CODE,
            "..\\backslash.py": CODE,
            "alice/conv_layer.py": CODE,
        },
    )
    before = set((tmp_path).iterdir())
    notes = extract_zip(archive, tmp_path / "out")
    assert tree(tmp_path / "out") == {"alice/conv_layer.py"}
    assert set(tmp_path.iterdir()) - before == {tmp_path / "out"}
    assert not Path("/tmp/absolute_escape.py").exists()
    assert len(notes) == 5 and all("its path leaves" in note for note in notes)


def test_symbolic_links_are_dropped(tmp_path):
    secret = tmp_path / "secret.txt"
    secret.write_text("the seed")
    archive = make_zip(
        tmp_path / "links.zip",
        {"alice/conv_layer.py": CODE},
        links={"alice/channels.py": str(secret), "alice/up": ".."},
    )
    notes = extract_zip(archive, tmp_path / "out")
    assert tree(tmp_path / "out") == {"alice/conv_layer.py"}
    assert not any(p.is_symlink() for p in (tmp_path / "out").rglob("*"))
    assert sum("symbolic link" in note for note in notes) == 2


def test_too_many_members_is_refused(tmp_path):
    archive = make_zip(tmp_path / "many.zip", {f"f{i}.py": "" for i in range(6)})
    with pytest.raises(ExportError, match="6 members, more than the 5 allowed"):
        extract_zip(archive, tmp_path / "out", ZipLimits(max_members=5))
    assert not (tmp_path / "out").exists()


def test_a_zip_bomb_is_refused_before_it_fills_the_disk(tmp_path):
    archive = make_zip(tmp_path / "bomb.zip", {"zeros.py": b"\0" * 3 * 2**20})
    assert archive.stat().st_size < 20_000  # 3 MiB of zeros compress to almost nothing
    with pytest.raises(ExportError, match="a zip bomb"):
        extract_zip(archive, tmp_path / "out", ZipLimits(max_bytes=2**20))
    with pytest.raises(ExportError, match="per file"):
        extract_zip(archive, tmp_path / "out2", ZipLimits(max_member_bytes=2**20))


def test_a_member_that_lies_about_its_size_is_refused(tmp_path):
    archive = make_zip(tmp_path / "liar.zip", {"big.py": "x = 1\n" * 10_000})
    data = bytearray(archive.read_bytes())
    # Shrink the uncompressed size in the central directory entry (offset 24 of it).
    central = data.rfind(b"PK\x01\x02")
    data[central + 24 : central + 28] = (100).to_bytes(4, "little")
    archive.write_bytes(bytes(data))
    with pytest.raises(ExportError, match="cannot be unpacked"):
        extract_zip(archive, tmp_path / "out")
    assert not (tmp_path / "out" / "big.py").exists()


def test_not_a_zip_is_a_clear_error(tmp_path):
    fake = tmp_path / "class.zip"
    fake.write_text("not a zip")
    with pytest.raises(ExportError, match="class.zip: not a readable zip file"):
        stage_export(fake, tmp_path / "staging")


def test_canvas_flat_files_group_per_student_newest_upload_wins(tmp_path):
    archive = make_zip(
        tmp_path / "submissions.zip",
        {
            "smithjane_1201_9001_conv_layer.py": "old = 1\n",
            "smithjane_1201_9107_conv_layer-1.py": CODE,  # uploaded again: newer id, renamed
            "smithjane_1201_9002_channels.py": "c = 1\n",
            "lópezana_LATE_1202_9050_hw.ipynb": "{}",
            "doejohn_1203_9060_work.zip": make_zip_bytes({"hw3/conv_layer.py": CODE}),
        },
    )
    result = staged(archive, tmp_path)
    assert result.layout == "canvas"
    assert [e.name for e in result.entries] == ["1201", "1202", "1203"]
    jane = result.entries[0]
    assert tree(jane) == {"conv_layer.py", "channels.py"}
    assert (jane / "conv_layer.py").read_text() == CODE
    assert tree(result.entries[1]) == {"hw.ipynb"}
    assert tree(result.entries[2]) == {"conv_layer.py"}  # its zip unpacked, hw3/ lifted


def make_zip_bytes(members: dict[str, str]) -> bytes:
    import io

    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return buffer.getvalue()


def test_moodle_folders_merge_per_student(tmp_path):
    root = tmp_path / "export"
    for folder, name in (
        ("Ana López_1001_assignsubmission_file_", "conv_layer.py"),
        ("Ana López_1001_assignsubmission_onlinetext_", "onlinetext.html"),
        ("Bo Ek_1002_assignsubmission_file_", "hw/channels.py"),
    ):
        path = root / folder / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(CODE)
    result = staged(root, tmp_path)
    assert result.layout == "moodle"
    assert [e.name for e in result.entries] == ["Ana López_1001", "Bo Ek_1002"]
    assert tree(result.entries[0]) == {"conv_layer.py", "onlinetext.html"}
    assert tree(result.entries[1]) == {"channels.py"}


def test_gradescope_export_ids_are_the_submitters(tmp_path):
    metadata = {
        "submission_11": {":submitters": [{":name": "Ana", ":sid": "A1", ":email": "a@x.edu"}]},
        "submission_12": {
            ":submitters": [{":name": "Bo", ":sid": "B2"}, {":name": "Cy", ":email": "cy@x.edu"}]
        },
    }
    archive = make_zip(
        tmp_path / "export.zip",
        {
            "assignment_7_export/submission_metadata.yml": yaml.safe_dump(metadata),
            "assignment_7_export/submission_11/conv_layer.py": CODE,
            "assignment_7_export/submission_12/src/channels.py": CODE,
        },
    )
    result = staged(archive, tmp_path)
    assert result.layout == "gradescope"
    assert [e.name for e in result.entries] == ["A1", "B2+cy@x.edu"]
    assert tree(result.entries[1]) == {"channels.py"}


def test_a_plain_folder_keeps_its_entries_and_unwraps_what_needs_it(tmp_path):
    root = tmp_path / "class"
    (root / "alice" / "hw3").mkdir(parents=True)
    (root / "alice" / "hw3" / "conv_layer.py").write_text(CODE)
    (root / "alice" / "notes.txt").write_text("my notes")
    (root / "bob").mkdir()
    (root / "bob" / "conv_layer.py").write_text(CODE)
    (root / "carol.py").write_text(CODE)
    (root / "dave.zip").write_bytes(make_zip_bytes({"dave/hw/conv_layer.py": CODE}))
    (root / "grades.csv").write_text("id\n")
    result = staged(root, tmp_path, skip=lambda p: p.name == "grades.csv")
    assert result.layout == "folder"
    names = [e.name for e in result.entries]
    assert names == ["alice", "bob", "carol.py", "dave"]
    by_name = dict(zip(names, result.entries))
    assert by_name["bob"] == root / "bob" and by_name["carol.py"] == root / "carol.py"
    assert tree(by_name["alice"]) == {"conv_layer.py"}
    assert tree(by_name["dave"]) == {"conv_layer.py"}
    assert read_submission(by_name["alice"]).problems == ()


def test_a_bad_student_zip_still_gives_the_student_an_entry(tmp_path):
    root = tmp_path / "class"
    root.mkdir()
    (root / "erin.zip").write_text("not really a zip")
    result = staged(root, tmp_path)
    assert [e.name for e in result.entries] == ["erin"]
    assert any("erin.zip: not a readable zip" in note for note in result.notes)


def test_an_nbformat_3_notebook_is_read(tmp_path):
    """IPython 1-2 notebooks: worksheets, `input` instead of `source`, a minor version that
    nbformat's converter does not know, no top-level metadata."""
    old = {
        "nbformat": 3,
        "nbformat_minor": 1,
        "worksheets": [
            {
                "cells": [
                    {"cell_type": "heading", "level": 1, "source": ["Conv"]},
                    {"cell_type": "code", "input": ["%matplotlib inline\n", CODE]},
                ]
            }
        ],
    }
    (tmp_path / "old.ipynb").write_text(json.dumps(old))
    submission = read_submission(tmp_path / "old.ipynb")
    assert submission.problems == ()
    [cell] = submission.sources[0].cells
    assert cell.label == "old.ipynb, cell 2" and "def corr2d(X, K):" in cell.text


def test_moodle_flat_files_group_per_student(tmp_path):
    """Moodle with "Download submissions in folders" off: the prefix on every file."""
    root = tmp_path / "export"
    root.mkdir()
    (root / "Ana López_1001_assignsubmission_file_conv_layer.py").write_text(CODE)
    (root / "Ana López_1001_assignsubmission_file_channels.py").write_text(CODE)
    (root / "Bo Ek_1002_assignsubmission_file_hw.zip").write_bytes(
        make_zip_bytes({"hw/conv_layer.py": CODE})
    )
    result = staged(root, tmp_path)
    assert result.layout == "moodle"
    assert [e.name for e in result.entries] == ["Ana López_1001", "Bo Ek_1002"]
    assert tree(result.entries[0]) == {"conv_layer.py", "channels.py"}
    assert tree(result.entries[1]) == {"conv_layer.py"}


def test_a_student_folder_holding_only_a_zip_is_unpacked(tmp_path):
    root = tmp_path / "class"
    (root / "erin").mkdir(parents=True)
    (root / "erin" / "handin.zip").write_bytes(make_zip_bytes({"a/b/conv_layer.py": CODE}))
    [entry] = staged(root, tmp_path).entries
    assert entry.name == "erin" and tree(entry) == {"conv_layer.py"}


def test_a_student_zip_has_caps_of_its_own(tmp_path):
    root = tmp_path / "class"
    root.mkdir()
    (root / "fay.zip").write_bytes(make_zip_bytes({f"f{i}.py": "" for i in range(2001)}))
    result = staged(root, tmp_path)
    assert [e.name for e in result.entries] == ["fay"] and tree(result.entries[0]) == set()
    assert any("2001 members, more than the 2000 allowed" in note for note in result.notes)


def test_a_class_zip_of_one_folder_is_looked_into(tmp_path):
    archive = make_zip(
        tmp_path / "class.zip",
        {"class/alice/conv_layer.py": CODE, "class/bob.py": CODE, "class/carol/hw/x.py": CODE},
    )
    result = staged(archive, tmp_path)
    assert result.layout == "folder"
    assert [e.name for e in result.entries] == ["alice", "bob.py", "carol"]
    assert tree(result.entries[2]) == {"x.py"}


def test_a_folder_of_one_student_stays_one_submission(tmp_path):
    root = tmp_path / "class"
    (root / "alice").mkdir(parents=True)
    (root / "alice" / "conv_layer.py").write_text(CODE)
    (root / "alice" / "channels.py").write_text(CODE)
    assert [e.name for e in staged(root, tmp_path).entries] == ["alice"]


def test_a_zip_is_staged_once_and_again_when_it_changes(tmp_path):
    archive = make_zip(tmp_path / "submissions.zip", {"smithjane_1201_9001_conv_layer.py": CODE})
    first = staged(archive, tmp_path)
    marker = first.entries[0] / "conv_layer.py"
    marker.write_text("# staged before\n")
    assert staged(archive, tmp_path).entries == first.entries
    assert marker.read_text() == "# staged before\n", "reused, not unpacked again"
    make_zip(archive, {"smithjane_1201_9002_conv_layer.py": "x = 2\n"})
    again = staged(archive, tmp_path)
    assert (again.entries[0] / "conv_layer.py").read_text() == "x = 2\n"
