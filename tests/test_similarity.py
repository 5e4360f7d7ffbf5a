"""Similar code across a class: planted copies among independent solutions are found, the
independent ones are not listed, and the stubs and the book's code never make a match."""

import csv
import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from classroom import PLANTED, make_class
from conftest import EXERCISES, ROOT, SOLUTIONS, small_config, small_config_data, write

from grader.batch import run_batch
from grader.cases import public_case_counts
from grader.config import ConfigError, load_config, only_exercises, parse_config
from grader.similarity import check_class, similarity_csv

THRESHOLD = small_config().similarity.threshold  # the course default


def stem(id: str) -> str:
    return id.partition(".")[0]


def listed(report) -> set[tuple[str, str]]:
    return {tuple(sorted((stem(p.first.id), stem(p.second.id)))) for p in report.pairs}


@pytest.fixture(scope="module")
def classroom(tmp_path_factory) -> Path:
    return make_class(tmp_path_factory.mktemp("similarity") / "class")


@pytest.fixture(scope="module")
def checked(classroom):
    return check_class(sorted(classroom.iterdir()), (EXERCISES, SOLUTIONS), THRESHOLD)


def test_every_planted_copy_is_found_and_no_independent_pair_is_listed(checked):
    assert listed(checked) == PLANTED
    assert checked.compared == 11, "every submission has code, the stubs' copy too"
    assert all(pair.similarity >= THRESHOLD for pair in checked.pairs)


def test_independent_solutions_stay_well_below_the_copies(classroom):
    everything = check_class(sorted(classroom.iterdir()), (EXERCISES, SOLUTIONS), 0.0)
    copies = [p.similarity for p in everything.pairs if listed_pair(p) in PLANTED]
    others = [p.similarity for p in everything.pairs if listed_pair(p) not in PLANTED]
    assert len(copies) == 4 and min(copies) > 0.7
    assert others and max(others) < 0.4, "a margin on both sides of the threshold"


def listed_pair(pair) -> tuple[str, str]:
    return tuple(sorted((stem(pair.first.id), stem(pair.second.id))))


def test_without_the_boilerplate_the_book_and_the_stubs_would_match(classroom):
    entries = [classroom / "kim", classroom / "lea.py", classroom / "eli"]
    assert not check_class(entries, (EXERCISES, SOLUTIONS), THRESHOLD).pairs
    bare = check_class(entries, (), THRESHOLD)
    assert ("kim", "lea") in listed(bare), "everyone's copy of the book looks alike"


def test_the_shared_parts_are_the_copied_code(checked):
    pair = next(p for p in checked.pairs if listed_pair(p) == ("ana", "fred"))
    fred = pair.second if stem(pair.second.id) == "fred" else pair.first
    marked = "".join(fred.code[a:b] for a, b in fred.matched)
    assert "kernel_h, kernel_w = K.shape" in marked, "the renamed corr2d"
    assert "flat_k = K.reshape(channels_out, channels_in)" in marked
    assert "Compute the 2-D cross-correlation" not in marked, "the book's docstring is no match"


def test_the_same_class_gives_the_same_numbers_in_any_process(classroom, checked):
    """Python salts its own str hash per process; the fingerprints must not depend on it."""
    script = (
        "import sys; from pathlib import Path; "
        "from grader.similarity import check_class, similarity_csv; "
        "entries = sorted(Path(sys.argv[1]).iterdir()); "
        f"print(similarity_csv(check_class(entries, (Path('exercises'), Path('solutions')), "
        f"{THRESHOLD})), end='')"
    )
    environment = {**os.environ, "PYTHONHASHSEED": "12345"}
    again = subprocess.run(
        [sys.executable, "-c", script, str(classroom)],
        cwd=ROOT,
        env=environment,
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    assert again.stdout == similarity_csv(checked)


def test_a_missing_boilerplate_path_is_a_note_and_unreadable_work_is_skipped(tmp_path):
    write(tmp_path, "broken.ipynb", "{")
    write(tmp_path, "binary.py", b"\x00\xff\xfe")
    report = check_class(sorted(tmp_path.iterdir()), (tmp_path / "nowhere",), THRESHOLD)
    assert report.pairs == () and report.compared == 0
    assert any("similarity.boilerplate:" in n and "does not exist" in n for n in report.notes)


def test_batch_writes_the_pairs_the_overview_and_a_page_per_pair(classroom, tmp_path):
    config = only_exercises(small_config(hidden_cases=1), ["conv_output_shape"])
    rows = run_batch(classroom, config, tmp_path / "grades.csv", tmp_path / "reports")
    assert len(rows) == 11
    with open(tmp_path / "reports" / "similarity.csv", newline="") as opened:
        table = list(csv.DictReader(opened))
    assert {tuple(sorted((stem(r["first"]), stem(r["second"])))) for r in table} == PLANTED
    assert list(table[0])[:3] == ["first", "second", "similarity"]
    assert all(THRESHOLD <= float(r["similarity"]) <= 1 for r in table)
    overview = (tmp_path / "reports" / "index.html").read_text()
    assert "<h2>Similar code</h2>" in overview and overview.count("<mark>") > 10
    for row in table:
        page = (tmp_path / "reports" / row["page"]).read_text()
        assert page.startswith("<!DOCTYPE html>") and "<mark>" in page
        assert f'href="{row["page"]}"'.replace(" ", "%20") in overview
    by_id = {row.id: row for row in rows}
    assert by_id["ana"].scores == by_id["fred"].scores, "a copy keeps the grade its code earns"


@pytest.mark.parametrize(
    "setting, message",
    [
        ({"threshold": 1.5}, "similarity.threshold: expected a number from 0 to 1, got 1.5"),
        ({"threshold": "high"}, "similarity.threshold: expected a number >= 0, got 'high'"),
        ({"boilerplate": 3}, "similarity.boilerplate: expected a list of paths, got 3"),
        ({"limit": 3}, "similarity.limit: unknown key (known keys: boilerplate, threshold)"),
    ],
)
def test_a_wrong_similarity_setting_is_refused_naming_the_key(setting, message):
    data = {**small_config_data(), "similarity": setting}
    with pytest.raises(ConfigError) as refused:
        parse_config(data, "course.yaml", public_case_counts())
    assert str(refused.value) == f"course.yaml: {message}"


def test_boilerplate_paths_are_read_from_the_config_files_folder(tmp_path):
    data = {**small_config_data(), "similarity": {"boilerplate": "starter"}}
    config_file = write(tmp_path, "course.yaml", yaml.safe_dump(data))
    config = load_config(config_file, public_case_counts())
    assert config.similarity.boilerplate == (tmp_path / "starter",)


def test_the_boilerplate_folders_hold_each_editions_stubs(tmp_path):
    """Two PyTorch students who kept the stubs' text and wrote their own code: the PyTorch
    stubs in exercises/pytorch/ are boilerplate too, so they are not a pair."""
    stubs = (EXERCISES / "pytorch" / "conv_layer.py").read_text()
    corpus = Path(__file__).parent / "corpus" / "pytorch"
    for name in ("stacked_windows.py", "shifted_slices.py"):
        write(tmp_path, name, stubs + "\n" + (corpus / name).read_text())
    entries = sorted(tmp_path.iterdir())
    assert check_class(entries, (EXERCISES, SOLUTIONS), THRESHOLD).pairs == ()
    with_editions = check_class(entries, (EXERCISES, SOLUTIONS), 0.0).pairs
    (top_level_only,) = check_class(entries, tuple(EXERCISES.glob("*.py")), 0.0).pairs
    assert top_level_only.similarity > max([p.similarity for p in with_editions], default=0)
