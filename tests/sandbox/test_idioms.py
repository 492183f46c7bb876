"""Honest programs work: the numpy an LLM writes every day gives, in the sandbox, exactly what plain numpy gives."""

from __future__ import annotations

import numpy as np
import pytest

from lab.sandbox import ProgramRules, Sandbox, check_program

IDIOMS = [
    # ndarray methods (they import numpy's helpers from C, with the program's builtins)
    "x.sum()", "x.mean()", "x.max()", "x.min()", "x.std()", "x.var()", "x.any()", "x.all()", "x.prod()",
    "x.clip(0.2, 0.8)", "x.round(2)", "x.cumsum()", "x.argmax()", "x.argmin()", "x.reshape(2, 3).T.ravel()",
    "x.copy()", "x.astype(np.float32)", "x.tolist()", "x.dot(y)", "x.max() - x.min()",
    "x.flatten()", "x.squeeze()", "x.nonzero()[0]", "x.sort() or x",
    # reductions, order statistics, sets
    "np.sum(x)", "np.mean(x)", "np.median(x)", "np.percentile(x, 75)", "np.quantile(x, [0.1, 0.9])",
    "np.unique(np.round(x, 1))", "np.sort(y)", "np.argsort(y)", "np.nanmean(np.where(x > 0.5, np.nan, x))",
    "np.nanmax(x)", "np.average(x, weights=y)", "np.histogram(x, bins=3)[0]", "np.count_nonzero(x > 0.5)",
    "np.cumprod(1 + x)", "np.diff(x)", "np.gradient(x)", "np.ptp(x)",
    # elementwise
    "np.where(x > 0.5, x, -x)", "np.clip(x, 0, 0.5)", "np.exp(-x)", "np.log1p(x)", "np.tanh(x)",
    "np.sqrt(np.abs(x))", "np.arctan2(x, y)", "np.maximum(x, y)", "np.minimum(x, 0.3)", "np.sign(x - 0.5)",
    "np.isclose(x, y)", "np.allclose(x, x)", "np.isfinite(x)", "np.nan_to_num(np.array([np.nan, np.inf, 1.0]))",
    "np.digitize(x, [0.25, 0.5])", "np.searchsorted(np.sort(x), 0.5)", "np.interp(0.5, np.sort(x), y)",
    # shapes
    "np.stack([x, y])", "np.concatenate([x, y])", "np.tile(x, 2)", "np.pad(x, 1)", "np.zeros_like(x)",
    "np.ones(3)", "np.full(2, 0.5)", "np.linspace(0, 1, 4)", "np.arange(5) * 0.5", "x[None, :].repeat(2, 0)",
    "np.expand_dims(x, 0)", "x[::-1]", "x[x > 0.5]", "np.vstack([x, y]).sum(axis=0)",
    # linear algebra, einsum, geometry
    "np.linalg.norm(x)", "np.linalg.norm(np.stack([x, y]), axis=1)", "np.einsum('i,i->', x, y)",
    "np.einsum('ij,j->i', np.stack([x, y]), x)", "np.linalg.inv(np.eye(3) * 2)", "np.linalg.det(np.eye(2) * 3)",
    "np.linalg.solve(np.eye(2) * 2, x[:2])", "np.cross(x[:3], y[:3])", "np.dot(x, y)", "x @ y",
    "np.outer(x[:2], y[:2])", "np.trace(np.eye(3))", "np.linalg.eigvalsh(np.eye(2) * 2)",
    # printing, numbers, math
    "float(len(str(x)))", "float(len(repr(x)))", "float(len(f'{x[0]:.3f}'))", "float(len(np.array2string(x)))",
    "math.cos(float(x[0]))", "math.pi * x", "math.hypot(float(x[0]), float(y[0]))", "np.float64(x[0]).item()",
    "np.fft.rfft(x).real", "np.polyval([1.0, 2.0], x)", "np.polyfit(x, 2 * x + 1, 1)", "np.convolve(x, y)",
    "sorted(x.tolist(), key=lambda v: -v)", "max(x.tolist())", "sum(v * v for v in x.tolist())",
    "dict(zip('abc', x.tolist()))['b']", "[v for v in x if v > 0.5]",
]
RULES = ProgramRules("idiom", ("which", "x", "y"), kind="idiom program")


def _program() -> str:
    cases = ",\n    ".join(f"lambda x, y: {idiom}" for idiom in IDIOMS)
    return (f"import math\nimport numpy as np\n\nIDIOMS = [\n    {cases},\n]\n\n\n"
            "def idiom(which, x, y):\n    x, y = x.copy(), y.copy()\n"
            "    return np.asarray(IDIOMS[int(which[0])](x, y), dtype=float).ravel()\n")


def _plain(index: int, x: np.ndarray, y: np.ndarray) -> np.ndarray:
    import math

    function = eval(f"lambda x, y: {IDIOMS[index]}", {"np": np, "math": math})
    return np.asarray(function(x.copy(), y.copy()), dtype=float).ravel()


def test_the_corpus_is_large_and_passes_the_rules() -> None:
    assert len(IDIOMS) >= 60
    assert len(set(IDIOMS)) == len(IDIOMS)
    check_program(_program(), RULES)


@pytest.fixture(scope="module")
def sandbox():
    with Sandbox(_program(), RULES) as box:
        yield box


@pytest.mark.parametrize("index", range(len(IDIOMS)), ids=IDIOMS)
def test_an_idiom_gives_in_the_sandbox_what_plain_numpy_gives(sandbox: Sandbox, index: int) -> None:
    rng = np.random.default_rng(index)
    x, y = rng.random(6), rng.random(6)
    value, _ = sandbox.call(which=np.array([index], dtype=float), x=x, y=y)
    np.testing.assert_allclose(value, _plain(index, x, y), rtol=1e-12, equal_nan=True)
