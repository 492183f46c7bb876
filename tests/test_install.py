"""Installs that never drift: the lock agrees with pyproject.toml, the environment is the lock, a wheel carries the
lab's content and works from any directory, Gymnasium finds the worlds with nothing imported, and every command is
offline by itself."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import sysconfig
import tomllib
from importlib import metadata
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name
from packaging.version import Version

from lab.content import CONTENT_KINDS, curriculum_file, packaged, search_path, shipped_curricula
from lab.offline import OFFLINE_ENVIRONMENT, stay_offline

ROOT = Path(__file__).resolve().parents[1]
LOCK = ROOT / "requirements.lock"
PIN = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)==(\S+)")
OFFLINE_VARIABLES = (*OFFLINE_ENVIRONMENT, "MUJOCO_GL")


def _pins() -> dict[str, Version]:
    pins = {}
    for line in LOCK.read_text().splitlines():
        match = PIN.match(line)
        if match:
            pins[canonicalize_name(match[1])] = Version(match[2])
    return pins


def _locked_extras() -> list[str]:
    makefile = (ROOT / "Makefile").read_text()
    return re.findall(r"--extra (\S+)", re.search(r"^LOCK_EXTRAS := (.*)$", makefile, re.M)[1])  # type: ignore[index]


def _project() -> dict:
    return tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]


def test_the_lock_pins_every_requirement_of_the_project_and_its_extras() -> None:
    pins, project = _pins(), _project()
    requirements = [Requirement(r) for r in project["dependencies"]]
    for extra in _locked_extras():
        requirements += [Requirement(r) for r in project["optional-dependencies"][extra]]
    for requirement in requirements:
        name = canonicalize_name(requirement.name)
        assert name in pins, f"{requirement} is in pyproject.toml but not in the lock: run `make lock`"
        assert requirement.specifier.contains(pins[name], prereleases=True), \
            f"the lock pins {name}=={pins[name]}, which pyproject.toml's {requirement} refuses: run `make lock`"


def test_every_extra_is_locked_and_every_pin_carries_its_hash() -> None:
    extras = set(_project()["optional-dependencies"])
    assert extras <= set(_locked_extras()), f"extras without a lock: {extras - set(_locked_extras())}"
    entries = re.split(r"\n(?=[A-Za-z0-9])", LOCK.read_text())
    pinned = [entry for entry in entries if PIN.match(entry)]
    assert len(pinned) == len(_pins()) > 50
    for entry in pinned:
        assert "--hash=sha256:" in entry, f"no hash for {entry.splitlines()[0]}"


def test_torch_is_held_to_the_cpu_build() -> None:
    assert _pins()["torch"] == Version("2.13.0+cpu")
    assert "torch==2.13.0" in (ROOT / "constraints.txt").read_text().split()
    assert not [name for name in _pins() if name.startswith(("nvidia-", "triton"))], "CUDA packages in the lock"


def test_this_environment_is_the_lock() -> None:
    if Path(sys.prefix).resolve() != (ROOT / ".venv").resolve():
        pytest.skip("running outside the checkout's .venv (made by `make test` from the lock)")
    site = [sysconfig.get_path("purelib"), sysconfig.get_path("platlib")]
    installed = {canonicalize_name(d.metadata["Name"]): Version(d.version)
                 for d in metadata.distributions(path=site)}
    installed.pop("embodied-lab", None)
    installed.pop("pip", None)  # the venv's own installer, not a dependency
    pins = _pins()
    assert {n: str(v) for n, v in installed.items() if pins.get(n) != v} == {}, "installed but not as locked"
    assert set(pins) - set(installed) == set(), "locked but not installed"


def test_content_is_found_in_the_checkout_and_a_users_own_comes_first(tmp_path: Path, monkeypatch) -> None:
    for kind in CONTENT_KINDS:
        assert packaged(kind) == ROOT / kind
    assert {"playground", "halfcheetah"} <= set(shipped_curricula())
    assert curriculum_file("playground") == ROOT / "curricula" / "playground.yaml"
    assert curriculum_file("playground.yaml") == ROOT / "curricula" / "playground.yaml"
    assert curriculum_file("no_such_curriculum") is None
    own = tmp_path / "rewards"
    (own / "reacher" / "reach").mkdir(parents=True)
    (own / "reacher" / "reach" / "human.py").write_text("def compute_reward(state, action):\n    return 0, {}\n")
    (tmp_path / "curricula").mkdir()
    (tmp_path / "curricula" / "playground.yaml").write_text("world: playground\n")
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("LAB_ENVS_PATH", str(elsewhere))
    assert search_path("rewards", "LAB_REWARDS_PATH") == [own.resolve(), ROOT / "rewards"]
    assert search_path("envs", "LAB_ENVS_PATH") == [elsewhere.resolve(), ROOT / "envs"]
    assert curriculum_file("playground") == (tmp_path / "curricula" / "playground.yaml").resolve()
    from lab.rewards.program import baseline_path

    assert baseline_path("reacher", "reach", "human") == own.resolve() / "reacher" / "reach" / "human.py"


def test_the_offline_variables_are_set_in_code_and_a_users_own_value_wins(monkeypatch) -> None:
    for name in OFFLINE_ENVIRONMENT:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("HF_HUB_OFFLINE", "0")
    stay_offline()
    assert os.environ["LITELLM_LOCAL_MODEL_COST_MAP"] == "True"
    assert os.environ["HF_HUB_OFFLINE"] == "0"


def _bare_environment() -> dict[str, str]:
    """The environment of a plain shell: none of the variables the Makefile or the tests might have set."""
    return {k: v for k, v in os.environ.items() if k not in OFFLINE_VARIABLES}


def test_a_command_from_a_plain_shell_never_reaches_for_the_network(tmp_path: Path) -> None:
    done = subprocess.run([str(Path(sys.executable).with_name("lab")), "llm", "check", "--model", "nosuchprovider/x"],
                          capture_output=True, text=True, cwd=tmp_path, env=_bare_environment(), timeout=120)
    output = done.stdout + done.stderr
    assert done.returncode == 2, output
    assert "cost map" not in output and "raw.githubusercontent" not in output, output
    assert "Provider List" not in output, "litellm's banner printed over the lab's error"
    assert done.stderr.startswith("error: ") and len(done.stderr.strip().splitlines()) == 2, done.stderr
    assert list(tmp_path.iterdir()) == []


GYM_MAKE = """
import gymnasium as gym
env = gym.make("lab/playground-v1", task="place(cube_green, zone_red)", seed=0)
observation, _ = env.reset()
print(observation.shape, env.unwrapped.spec.id if env.unwrapped.spec else "")
"""


def test_gymnasium_makes_a_lab_world_with_nothing_of_the_lab_imported(tmp_path: Path) -> None:
    done = subprocess.run([sys.executable, "-c", GYM_MAKE], capture_output=True, text=True, cwd=tmp_path,
                          env=_bare_environment(), timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("(71,)"), done.stdout
    stable_baselines_first = "import stable_baselines3\n" + GYM_MAKE
    done = subprocess.run([sys.executable, "-c", stable_baselines_first], capture_output=True, text=True,
                          cwd=tmp_path, env=_bare_environment(), timeout=120)
    assert done.returncode == 0, done.stderr


def _copy_of_the_checkout(target: Path) -> Path:
    skipped = shutil.ignore_patterns(".git", ".venv*", "runs", "build", "*.egg-info", "__pycache__", "*_cache",
                                     "sessions", "artefacts", "*.db*")
    return Path(shutil.copytree(ROOT, target, ignore=skipped))


@pytest.mark.slow
def test_a_wheel_installed_elsewhere_carries_its_content_and_runs_from_any_directory(tmp_path: Path) -> None:
    """The wheel is built from a copy of the checkout and installed into a new venv that sees the locked packages
    through a path entry (so nothing is downloaded); every command then runs in a directory with no checkout."""
    source = _copy_of_the_checkout(tmp_path / "source")
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "--no-build-isolation",
                    "--wheel-dir", str(tmp_path / "dist"), str(source)], check=True, capture_output=True)
    wheel = next((tmp_path / "dist").glob("embodied_lab-*.whl"))
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    subprocess.run([sys.executable, "-m", "pip", "--python", str(venv / "bin" / "python"), "install", "--quiet",
                    "--no-deps", "--no-index", str(wheel)], check=True, capture_output=True)
    site = Path(subprocess.run([str(venv / "bin" / "python"), "-c", "import sysconfig; print(sysconfig.get_path("
                                "'purelib'))"], check=True, capture_output=True, text=True).stdout.strip())
    (site / "locked_packages.pth").write_text(sysconfig.get_path("purelib") + "\n")
    shutil.rmtree(source)
    user = tmp_path / "user"
    user.mkdir()

    def lab(*args: str) -> subprocess.CompletedProcess:
        done = subprocess.run([str(venv / "bin" / "lab"), *args], capture_output=True, text=True, cwd=user,
                              env=_bare_environment(), timeout=400)
        assert done.returncode == 0, f"lab {' '.join(args)}\n{done.stdout[-2000:]}\n{done.stderr[-2000:]}"
        return done

    where = subprocess.run([str(venv / "bin" / "python"), "-c", "import lab.content as c; print(c.packaged('envs'))"],
                           capture_output=True, text=True, cwd=user, check=True).stdout.strip()
    assert where == str(site / "lab" / "_content" / "envs")
    assert "checks passed" in lab("worlds", "check", "--all").stdout
    lab("train", "reacher", "reach", "--reward", "human", "--steps", "4000", "--out", "runs/reach")
    assert (user / "runs" / "reach" / "policy.npz").is_file()
    lab("skills", "init", "--seed", "--library", "library")
    assert "library: 6 skill(s)" in lab("skills", "list", "--library", "library").stdout
    lab("curriculum", "playground", "--budget", "1", "--library", "session", "--out", "runs/session")
    assert (user / "runs" / "session" / "events.jsonl").is_file()
    done = subprocess.run([str(venv / "bin" / "python"), "-c", GYM_MAKE], capture_output=True, text=True, cwd=user,
                          env=_bare_environment(), timeout=120)
    assert done.returncode == 0 and done.stdout.startswith("(71,)"), done.stderr
