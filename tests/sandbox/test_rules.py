"""The static rules name the line and the rule of every violation."""

import pytest

from lab.sandbox import ProgramError, ProgramRules, check_program

RULES = ProgramRules("compute_reward", ("state", "action"), kind="reward program")


def violations(source: str) -> list[str]:
    with pytest.raises(ProgramError) as caught:
        check_program(source, RULES)
    return [str(v) for v in caught.value.violations] or [caught.value.message]


def test_a_clean_program_passes() -> None:
    source = "import numpy as np\nimport math\nSCALE = 2.0\n\ndef compute_reward(state, action):\n" \
             "    d = np.linalg.norm(state['a'], axis=-1)\n    return -SCALE * d, {'d': -d}\n"
    check_program(source, RULES)


def test_each_violation_names_line_and_rule() -> None:
    source = "import numpy as np\nimport os\n\ndef compute_reward(state, action):\n" \
             "    x = ().__class__\n    return eval('1'), {}\n"
    found = violations(source)
    assert "line 2: import: `import os` is not allowed" in found
    assert any(v.startswith("line 5: private attribute") for v in found)
    assert "line 6: forbidden name: `eval` is not allowed in a program" in found


@pytest.mark.parametrize("signature", ["def compute_reward(state):", "def compute_reward(state, action, extra):",
                                       "def compute_reward(*args):"])
def test_wrong_signature_is_refused(signature: str) -> None:
    found = violations(f"{signature}\n    return 0.0, {{}}\n")
    assert any("wrong signature" in v and "compute_reward(state, action)" in v for v in found)


def test_missing_function_and_syntax_errors_are_named() -> None:
    assert any("missing function" in v for v in violations("def reward(state, action):\n    return 0\n"))
    assert violations("def compute_reward(state, action)\n    return 0\n")[0].startswith("line 1: syntax error")


def test_size_limit() -> None:
    source = "def compute_reward(state, action):\n" + "    x = 1\n" * 5000 + "    return 0.0, {}\n"
    assert "over the limit" in violations(source)[0]


def test_top_level_code_is_refused() -> None:
    found = violations("for i in range(3):\n    pass\n\ndef compute_reward(state, action):\n    return 0.0, {}\n")
    assert any(v.startswith("line 1: top-level code") for v in found)
