"""A corpus of hostile reward programs: each is refused or stopped with a clear error, and nothing is written."""

from pathlib import Path

import pytest

from lab.rewards import RewardProgram, dry_run
from lab.sandbox import ProgramError, SandboxLimits
from lab.worlds import get_world

LIMITS = SandboxLimits(call_seconds=1.0, load_seconds=6.0, memory_mb=256)
CANARY = "{canary}"

HOSTILE: dict[str, tuple[str, str]] = {
    "dunder import": ("def compute_reward(state, action):\n    __import__('os').system('touch {canary}')\n"
                      "    return 0.0, {{}}\n", "dunder"),
    "mro walk": ("def compute_reward(state, action):\n    subs = ().__class__.__mro__[1].__subclasses__()\n"
                 "    return 0.0, {{}}\n", "private attribute"),
    "import os": ("import os\ndef compute_reward(state, action):\n    os.system('touch {canary}')\n"
                  "    return 0.0, {{}}\n", "`import os` is not allowed"),
    "from subprocess": ("from subprocess import run\ndef compute_reward(state, action):\n"
                        "    run(['touch', '{canary}'])\n    return 0.0, {{}}\n", "is not allowed"),
    "open for writing": ("def compute_reward(state, action):\n    open('{canary}', 'w').write('x')\n"
                         "    return 0.0, {{}}\n", "`open` is not allowed"),
    "eval": ("def compute_reward(state, action):\n    return eval('0.0'), {{}}\n", "`eval` is not allowed"),
    "exec": ("def compute_reward(state, action):\n    exec('import os')\n    return 0.0, {{}}\n",
             "`exec` is not allowed"),
    "compile": ("def compute_reward(state, action):\n    compile('1', 'f', 'eval')\n    return 0.0, {{}}\n",
                "`compile` is not allowed"),
    "getattr games": ("import numpy as np\ndef compute_reward(state, action):\n"
                      "    getattr(np, 'sa' + 've')('{canary}', np.zeros(3))\n    return 0.0, {{}}\n",
                      "`getattr` is not allowed"),
    "numpy save": ("import numpy as np\ndef compute_reward(state, action):\n    np.save('{canary}', action)\n"
                   "    return 0.0, {{}}\n", "`.save` is not allowed"),
    "array tofile": ("def compute_reward(state, action):\n    action.tofile('{canary}')\n    return 0.0, {{}}\n",
                     "`.tofile` is not allowed"),
    "env vars": ("import os\ndef compute_reward(state, action):\n    key = os.environ.get('OPENAI_API_KEY')\n"
                 "    return 0.0, {{}}\n", "`import os` is not allowed"),
    "sys modules": ("import sys\ndef compute_reward(state, action):\n    sys.modules['os'].system('id')\n"
                    "    return 0.0, {{}}\n", "`import sys` is not allowed"),
    "function globals": ("def compute_reward(state, action):\n    g = compute_reward.__globals__\n"
                         "    return 0.0, {{}}\n", "private attribute"),
    "generator frames": ("def gen():\n    yield 1\ndef compute_reward(state, action):\n"
                         "    f = gen().gi_frame.f_back\n    return 0.0, {{}}\n", "generators are not allowed"),
    "format string attributes": ("def compute_reward(state, action):\n    s = '{{0.__class__}}'.format(action)\n"
                                 "    return 0.0, {{}}\n", "`.format` is not allowed"),
    "class with metaclass": ("class Evil(type):\n    pass\ndef compute_reward(state, action):\n"
                             "    return 0.0, {{}}\n", "classes are not allowed"),
    "ctypes pointer": ("def compute_reward(state, action):\n    p = action.ctypes.data\n    return 0.0, {{}}\n",
                       "`.ctypes` is not allowed"),
    "star import": ("from math import *\ndef compute_reward(state, action):\n    return 0.0, {{}}\n",
                    r"`import \*` is not allowed"),
    "print to the channel": ("def compute_reward(state, action):\n    print('garbage')\n    return 0.0, {{}}\n",
                             "`print` is not allowed"),
    "global counter": ("calls = 0\ndef compute_reward(state, action):\n    global calls\n    calls += 1\n"
                       "    return 0.0, {{}}\n", "`global`/`nonlocal` are not allowed"),
    "infinite loop": ("def compute_reward(state, action):\n    while True:\n        pass\n",
                      "took longer than its limit"),
    "infinite loop swallowing exceptions": (
        "def compute_reward(state, action):\n    while True:\n        try:\n            pass\n"
        "        except Exception:\n            pass\n", "took longer than its limit"),
    "infinite loop at load": ("X = sum(1 for _ in range(10**15))\ndef compute_reward(state, action):\n"
                              "    return 0.0, {{}}\n", "took longer than its limit"),
    "huge allocation": ("import numpy as np\ndef compute_reward(state, action):\n"
                        "    big = np.ones((100000, 100000))\n    return 0.0, {{}}\n", "MemoryError"),
    "huge list at load": ("BIG = [0] * 10**10\ndef compute_reward(state, action):\n    return 0.0, {{}}\n",
                          "MemoryError"),
    "growing without end": ("def compute_reward(state, action):\n    hoard = []\n    while True:\n"
                            "        hoard.append([0] * 100000)\n", "MemoryError|longer than its limit"),
    "recursion bomb": ("def f(x):\n    return f(x)\ndef compute_reward(state, action):\n    return f(0), {{}}\n",
                       "RecursionError"),
    "raises": ("def compute_reward(state, action):\n    raise ValueError('boom')\n", "ValueError: boom"),
    "nan reward": ("import numpy as np\ndef compute_reward(state, action):\n"
                   "    return np.full(len(action), np.nan), {{}}\n", "not finite"),
    "wrong return": ("def compute_reward(state, action):\n    return 'lots'\n", r"must return \(reward, "),
}


@pytest.mark.parametrize("name", sorted(HOSTILE))
def test_hostile_program_is_refused_or_stopped(name: str, tmp_path: Path) -> None:
    template, expected = HOSTILE[name]
    canary = tmp_path / "canary"
    program = RewardProgram(template.format(canary=canary), name=name)
    world = get_world("reacher")
    with pytest.raises(ProgramError, match=expected) as caught:
        dry_run(program, world, world.task("reach"), limits=LIMITS)
    assert caught.value.feedback().strip()
    assert not canary.exists()
    assert list(tmp_path.iterdir()) == []


def test_corpus_is_large_enough() -> None:
    assert len(HOSTILE) >= 20
