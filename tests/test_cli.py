"""The `lab` command as a user meets it: help everywhere, clear one-line errors with exit code 2."""

import os
import subprocess
import sys

import pytest
from typer.testing import CliRunner

from lab.cli import app

runner = CliRunner()


def lab(*args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "COLUMNS": "200"}
    return subprocess.run([sys.executable, "-m", "lab.cli", *args], capture_output=True, text=True, env=env,
                          timeout=300)


@pytest.mark.parametrize("command", [[], ["worlds"], ["worlds", "list"], ["worlds", "show"], ["worlds", "check"],
                                     ["worlds", "demo"]])
def test_every_command_has_help(command):
    result = runner.invoke(app, [*command, "--help"])
    assert result.exit_code == 0, result.output
    assert "Usage" in result.output


def test_worlds_lists_every_world_with_its_tasks():
    result = lab("worlds")
    assert result.returncode == 0, result.stderr
    for name in ("ant", "humanoid", "pusher", "playground", "put_in_drawer", "stand_still"):
        assert name in result.stdout


def test_show_prints_fields_tasks_and_the_writers_text():
    result = lab("worlds", "show", "playground", "--task", "stack(cube_green, cube_blue)")
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert "cube_red_pos" in out and "drawer_opening" in out
    assert "put the cube_green on top of the cube_blue" in out
    assert "robot.move_to(point" in out and "def state(self)" in out
    assert "_stack_success" not in out  # success code is never shown to writers


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["worlds", "show", "hoper"], "unknown world: 'hoper'"),
        (["worlds", "show", "playground", "--task", "place(cube_pink)"], "cube_pink"),
        (["worlds", "show", "playground", "--task", "place("], "cannot read task"),
        (["worlds", "check"], "name one world or pass --all"),
        (["worlds", "show", "ant", "--role", "critic"], "unknown role"),
    ],
)
def test_user_mistakes_are_one_clear_line_and_exit_2(args, message):
    result = lab(*args)
    assert result.returncode == 2
    assert message in result.stderr
    assert "Traceback" not in result.stderr + result.stdout


def test_check_reports_every_check_on_a_healthy_world():
    result = lab("worlds", "check", "reacher")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "check_env" in result.stdout and "same seed" in result.stdout


def test_demo_runs_reference_solutions_and_writes_a_video(tmp_path):
    video = tmp_path / "demo.mp4"
    result = lab("worlds", "demo", "playground", "--task", "press_button", "--video", str(video))
    assert result.returncode == 0, result.stdout + result.stderr
    assert "press_button" in result.stdout and "yes" in result.stdout
    assert video.stat().st_size > 10_000
