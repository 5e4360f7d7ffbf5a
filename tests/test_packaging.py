"""What `pip install .` installs: the pins each Python gets, the wheel, `d2l-grader --version`."""

from __future__ import annotations

import platform
import shutil
import subprocess
import sys
import zipfile
from importlib import metadata
from pathlib import Path

import pytest
from packaging.requirements import Requirement

import grader

ROOT = Path(__file__).resolve().parent.parent
SUPPORTED = ("3.10", "3.11", "3.12", "3.13")


def requirements(name: str) -> list[Requirement]:
    lines = (ROOT / name).read_text().splitlines()
    return [Requirement(line) for line in lines if line.strip() and not line.startswith("#")]


def pins_for(python: str, name: str = "requirements.txt") -> dict[str, str]:
    """{package: version} of the requirements whose markers select this Python version."""
    environment = {"python_version": python, "python_full_version": f"{python}.0"}
    chosen: dict[str, str] = {}
    for requirement in requirements(name):
        if requirement.marker is None or requirement.marker.evaluate(environment):
            assert requirement.name not in chosen, f"{requirement.name} twice for {python}"
            (specifier,) = requirement.specifier
            assert specifier.operator == "==", f"{requirement} is not pinned exactly"
            chosen[requirement.name] = specifier.version
    return chosen


@pytest.mark.parametrize("python", SUPPORTED)
def test_each_python_gets_one_pin_of_everything_and_mxnet_once(python):
    pins = pins_for(python)
    no_deps = pins_for(python, "requirements-mxnet.txt")
    assert {"numpy", "pandas", "matplotlib", "ipython", "PyYAML", "nbformat"} <= set(pins)
    assert ("mxnet" in pins) != ("mxnet" in no_deps), "mxnet from exactly one of the two files"
    numpy_2 = pins["numpy"].startswith("2.")
    assert ("mxnet" in no_deps) == numpy_2, "mxnet declares numpy<2: --no-deps only there"
    assert ("setuptools" in pins) == (python in ("3.12", "3.13")), "distutils, for mxnet"


def test_this_environment_has_the_pins_of_its_python():
    python = ".".join(platform.python_version_tuple()[:2])
    for package in ("numpy", "mxnet", "ipython", "pandas", "matplotlib"):
        pin = pins_for(python).get(package) or pins_for(python, "requirements-mxnet.txt")[package]
        assert metadata.version(package) == pin, package


def project_copy(folder: Path) -> Path:
    """What a wheel is built from, copied: building writes build/ and *.egg-info beside it."""
    folder.mkdir()
    for name in ("pyproject.toml", "README.md", "requirements.txt"):
        shutil.copy(ROOT / name, folder)
    shutil.copytree(ROOT / "grader", folder / "grader", ignore=shutil.ignore_patterns("__py*"))
    return folder


def test_the_wheel_has_the_command_the_version_and_the_markers(tmp_path):
    source = project_copy(tmp_path / "project")
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "-w", tmp_path, source],
        check=True,
        capture_output=True,
        timeout=300,
    )
    (wheel,) = tmp_path.glob("*.whl")
    with zipfile.ZipFile(wheel) as archive:
        info = next(n for n in archive.namelist() if n.endswith(".dist-info/METADATA"))
        meta = archive.read(info).decode()
        entry_points = archive.read(info.replace("METADATA", "entry_points.txt")).decode()
        assert "grader/frameworks/mxnet_compat.py" in archive.namelist()
    assert "d2l-grader = grader.cli:main" in entry_points
    assert f"Version: {grader.__version__}\n" in meta
    assert 'Requires-Dist: numpy==2.4.6; python_version >= "3.13"' in meta
    assert 'Requires-Dist: mxnet==1.9.1; python_version < "3.13"' in meta


def test_version_names_the_grader_python_numpy_and_the_frameworks():
    done = subprocess.run(
        [sys.executable, "-m", "grader", "--version"], capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr
    try:
        torch = metadata.version("torch")
    except metadata.PackageNotFoundError:
        torch = "not installed"
    assert done.stdout == (
        f"d2l-grader {grader.__version__} (Python {platform.python_version()}, "
        f"numpy {metadata.version('numpy')}, mxnet {metadata.version('mxnet')}, torch {torch})\n"
    )
