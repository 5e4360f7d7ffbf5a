import subprocess
import sys

import pytest
from conftest import ROOT, course_config, write

from grader.cases import public_case_counts
from grader.config import ConfigError, load_config, parse_config

KNOWN = public_case_counts()


def config_with(**overrides):
    data = {"exercises": {"corr2d": {"points": 10}}}
    data.update(overrides)
    return data


def test_the_course_config_loads_with_every_exercise():
    config = course_config()
    assert [e.name for e in config.exercises] == list(KNOWN)
    assert sum(e.points for e in config.exercises) == 100
    assert config.exercise("learn_kernel").tolerance.atol == 0.05
    assert config.exercise("corr2d_multi_in").uses == ("corr2d",)


def test_the_framework_and_the_gpu_tolerance_are_read():
    config = course_config()
    assert config.framework == "mxnet"
    pytorch = parse_config(config_with(framework="pytorch"), "c.yaml", KNOWN)
    assert pytorch.framework == "pytorch"
    corr2d, learn_kernel = config.exercise("corr2d"), config.exercise("learn_kernel")
    assert corr2d.tolerance_on("cpu") == corr2d.tolerance
    assert corr2d.tolerance_on("sim0") == corr2d.tolerance  # the simulated GPU is the CPU
    assert corr2d.tolerance_on("gpu0").rtol > corr2d.tolerance.rtol
    assert learn_kernel.tolerance_on("gpu0").atol == 0.05  # its own looser tolerance stays
    plain = parse_config(config_with(), "c.yaml", KNOWN).exercise("corr2d")
    assert plain.tolerance_on("gpu0") == plain.tolerance


def test_defaults_fill_what_is_not_written():
    config = parse_config(config_with(), "c.yaml", KNOWN)
    corr2d = config.exercise("corr2d")
    assert corr2d.public_cases == KNOWN["corr2d"]
    assert corr2d.time_limit_seconds == 10
    assert config.devices == ("cpu", "gpu") and config.gpu == "optional"


@pytest.mark.parametrize(
    "data, key, problem",
    [
        (config_with(seed="abc"), "seed", "expected an integer"),
        (config_with(color="red"), "color", "unknown key"),
        (config_with(gpu="sometimes"), "gpu", "expected one of optional, required"),
        (config_with(devices=["gpu"]), "devices", "cpu must be listed"),
        (config_with(devices=["tpu"]), "devices", "expected a list"),
        (config_with(framework="tensorflow"), "framework", "expected one of mxnet, pytorch"),
        (
            config_with(defaults={"gpu_tolerance": {"rtol": "x"}}),
            "defaults.gpu_tolerance.rtol",
            "expected a number",
        ),
        (config_with(limits={"load_seconds": -1}), "limits.load_seconds", "expected a number >= 1"),
        (config_with(limits={"wall": 3}), "limits.wall", "unknown key"),
        ({"exercises": {"corr2d": {"points": "ten"}}}, "exercises.corr2d.points", "got 'ten'"),
        ({"exercises": {"corr3d": {}}}, "exercises.corr3d", "not an exercise of this chapter"),
        (
            {"exercises": {"corr2d": {"public_cases": 9}}},
            "exercises.corr2d.public_cases",
            "only 3 public cases exist",
        ),
        (
            {"exercises": {"corr2d": {"hidden_cases": 1.5}}},
            "exercises.corr2d.hidden_cases",
            "expected an integer",
        ),
        (
            {"exercises": {"corr2d": {"tolerance": {"rtol": "x"}}}},
            "exercises.corr2d.tolerance.rtol",
            "expected a number",
        ),
        (
            {"exercises": {"corr2d": {"uses": ["Conv2D"]}}},
            "exercises.corr2d.uses",
            "configured exercises",
        ),
        ({"exercises": {}}, "exercises", "no exercises"),
        ([1, 2], "", "expected a mapping"),
    ],
)
def test_a_bad_config_is_refused_naming_the_key(data, key, problem):
    with pytest.raises(ConfigError) as error:
        parse_config(data, "course.yaml", KNOWN)
    message = str(error.value)
    assert message.startswith(f"course.yaml: {key}") and problem in message


def test_invalid_yaml_names_the_file(tmp_path):
    path = write(tmp_path, "config.yaml", "exercises: [unclosed\n")
    with pytest.raises(ConfigError, match="config.yaml: not valid YAML"):
        load_config(path, KNOWN)


def test_the_environment_seed_overrides_the_file(tmp_path, monkeypatch):
    path = write(tmp_path, "config.yaml", "seed: 5\nexercises: {corr2d: {}}\n")
    monkeypatch.setenv("GRADER_SEED", "123")
    assert load_config(path, KNOWN).seed == 123
    monkeypatch.setenv("GRADER_SEED", "soon")
    with pytest.raises(ConfigError, match="GRADER_SEED"):
        load_config(path, KNOWN)


def test_the_cli_refuses_a_bad_config_with_exit_code_2(tmp_path):
    path = write(tmp_path, "config.yaml", "exercises: {corr2d: {points: -3}}\n")
    result = subprocess.run(
        [sys.executable, "-m", "grader", "grade", str(ROOT / "solutions"), "--config", str(path)],
        capture_output=True,
        text=True,
        cwd=tmp_path,
    )
    assert result.returncode == 2
    assert "exercises.corr2d.points" in result.stderr and "Traceback" not in result.stderr
    assert result.stdout == ""
