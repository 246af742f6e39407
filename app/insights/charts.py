"""Bar charts as plain SVG geometry, drawn on the server: no script, nothing loaded
from elsewhere, scales to any width through the viewBox."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

WIDTH = 600
HEIGHT = 160
PAD_LEFT = 34  # room for the axis numbers
PAD_BOTTOM = 18
PAD_TOP = 8


@dataclass(frozen=True)
class Bar:
    x: float
    y: float
    width: float
    height: float
    label: str  # what the bar is ("Mon 3 Nov: 2 posts")
    value: float


@dataclass(frozen=True)
class Chart:
    bars: tuple[Bar, ...]
    top: float  # the value at the top of the plot
    target_y: float | None  # where the target line is drawn, if any
    ticks: tuple[tuple[float, str], ...]  # (y, text) of the axis numbers
    labels: tuple[tuple[float, str], ...]  # (x, text) under some bars
    width: int = WIDTH
    height: int = HEIGHT
    left: int = PAD_LEFT
    base: float = HEIGHT - PAD_BOTTOM


def _nice_top(value: float) -> float:
    """The smallest of 1, 2, 5, 10, 20, 50, ... at or above `value`."""
    magnitude = 1.0
    while True:
        for step in (1, 2, 5):
            if magnitude * step >= value:
                return magnitude * step
        magnitude *= 10


def bars(
    values: Sequence[float],
    names: Sequence[str],
    *,
    target: float | None = None,
    every: int = 1,
    short: Sequence[str] | None = None,
) -> Chart:
    """A chart of `values` (one bar each, `names` for their labels), with a target line
    at `target`; `short` labels shown under every `every`-th bar."""
    top = _nice_top(max([*values, target or 0, 1]))
    plot_height = HEIGHT - PAD_BOTTOM - PAD_TOP
    base = HEIGHT - PAD_BOTTOM
    slot = (WIDTH - PAD_LEFT) / max(len(values), 1)
    gap = min(2.0, slot * 0.2)
    drawn = []
    for index, (value, name) in enumerate(zip(values, names, strict=True)):
        height = plot_height * value / top
        drawn.append(
            Bar(
                x=round(PAD_LEFT + index * slot + gap / 2, 2),
                y=round(base - height, 2),
                width=round(slot - gap, 2),
                height=round(height, 2),
                label=name,
                value=value,
            )
        )
    target_y = round(base - plot_height * target / top, 2) if target else None
    ticks = tuple(
        (round(base - plot_height * fraction, 2), _number(top * fraction))
        for fraction in (0.0, 0.5, 1.0)
    )
    labels = tuple(
        (round(PAD_LEFT + index * slot + slot / 2, 2), text)
        for index, text in enumerate(short or ())
        if index % every == 0
    )
    return Chart(tuple(drawn), top, target_y, ticks, labels)


def _number(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else f"{value:.1f}"
