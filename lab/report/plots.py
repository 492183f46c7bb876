"""Plots as inline SVG for HTML reports (matplotlib figures without pyplot: no display, no global backend)."""

from __future__ import annotations

import io
import math
from collections.abc import Mapping, Sequence

from matplotlib.axes import Axes
from matplotlib.figure import Figure

Series = Mapping[str, tuple[Sequence[float], Sequence[float | None]]]
MARKERS = ("o", "s", "^", "D")
LINE_STYLES = ("-", "--", ":", "-.")


def line_chart(title: str, series: Series, xlabel: str = "env steps", ylabel: str = "",
               width: float = 6.4, height: float = 3.4) -> str:
    """A line chart of named (x, y) series as an SVG string; None values leave gaps. Each series has its own line
    style and marker, so series that coincide stay visible."""
    figure = Figure(figsize=(width, height))
    axes = figure.add_subplot()
    for index, (name, (xs, ys)) in enumerate(series.items()):
        values = [math.nan if y is None else y for y in ys]
        axes.plot(list(xs), values, marker=MARKERS[index % len(MARKERS)], markersize=4 + 2 * (index == 0),
                  linestyle=LINE_STYLES[index % len(LINE_STYLES)], linewidth=1.5, label=name)
    return _svg(figure, axes, title, xlabel, ylabel, legend=len(series) > 1)


def scatter_chart(title: str, series: Series, xlabel: str = "iteration", ylabel: str = "",
                  width: float = 6.4, height: float = 3.4) -> str:
    """Named groups of (x, y) points as an SVG string, one marker colour per group."""
    figure = Figure(figsize=(width, height))
    axes = figure.add_subplot()
    for name, (xs, ys) in series.items():
        kept = [(x, y) for x, y in zip(xs, ys, strict=True) if y is not None and math.isfinite(y)]
        axes.scatter([x for x, _ in kept], [y for _, y in kept], s=22, label=name)
    return _svg(figure, axes, title, xlabel, ylabel, legend=len(series) > 1)


def interval_chart(title: str, rows: Sequence[tuple[str, float, tuple[float, float] | None]], xlabel: str = "",
                   reference: Sequence[float] = (), limits: tuple[float, float] | None = None,
                   width: float = 6.4) -> str:
    """Labelled values with their intervals as horizontal error bars (one row each), and dashed vertical lines
    at the `reference` values (e.g. 0 = sparse, 1 = human), as an SVG string. With `limits`, the axis stops there
    and a value or bound beyond it is drawn at the edge with its number written beside it, so one outlier does not
    squash every other row."""
    figure = Figure(figsize=(width, 0.9 + 0.32 * max(len(rows), 1)))
    axes = figure.add_subplot()
    for index, (_, value, bounds) in enumerate(rows):
        low, high = bounds if bounds is not None else (value, value)
        if limits is not None:
            shown = min(max(value, limits[0]), limits[1])
            low, high = max(min(low, shown), limits[0]), min(max(high, shown), limits[1])
            if shown != value:
                axes.annotate(f"{value:.3g}", (shown, index), textcoords="offset points", xytext=(-4, 5),
                              ha="right" if shown == limits[1] else "left", fontsize=7)
            value = shown
        axes.errorbar([value], [index], xerr=[[value - low], [high - value]], fmt="o", capsize=3, color="C0")
    if limits is not None:
        axes.set_xlim(limits[0] - 0.05 * (limits[1] - limits[0]), limits[1] + 0.05 * (limits[1] - limits[0]))
    for x in reference:
        axes.axvline(x, linestyle="--", color="grey", linewidth=1)
    axes.set_yticks(range(len(rows)), [label for label, _, _ in rows], fontsize=8)
    axes.invert_yaxis()
    return _svg(figure, axes, title, xlabel, "", legend=False)


def _svg(figure: Figure, axes: Axes, title: str, xlabel: str, ylabel: str, legend: bool) -> str:
    """Title, labels, grid and legend, then the figure as an SVG string."""
    axes.set_title(title, fontsize=11)
    axes.set_xlabel(xlabel)
    if ylabel:
        axes.set_ylabel(ylabel)
    axes.grid(alpha=0.3)
    if legend:
        axes.legend(fontsize=8, loc="best")
    figure.tight_layout()
    buffer = io.StringIO()
    figure.savefig(buffer, format="svg")
    svg = buffer.getvalue()
    return svg[svg.index("<svg"):]
