"""Shared pieces: the sink process, percentiles, a results table."""

from __future__ import annotations

import json
import statistics
import urllib.request
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field

from tests.fakes.processes import start_sink


@contextmanager
def sink(delay_ms: float = 0.0) -> Iterator[str]:
    proc, url = start_sink(delay_ms)
    try:
        yield url
    finally:
        proc.kill()
        proc.wait()


def sink_stats(url: str) -> dict[str, object]:
    with urllib.request.urlopen(f"{url}/stats", timeout=30) as response:
        stats: dict[str, object] = json.load(response)
        return stats


def sink_reset(url: str) -> None:
    request = urllib.request.Request(f"{url}/reset", method="POST", data=b"")
    urllib.request.urlopen(request, timeout=10).close()


def percentile(values: Sequence[float], p: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    k = min(len(ordered) - 1, max(0, round(p / 100 * (len(ordered) - 1))))
    return ordered[k]


@dataclass
class Row:
    name: str
    figures: dict[str, str] = field(default_factory=dict)
    note: str = ""


@dataclass
class Report:
    rows: list[Row] = field(default_factory=list)

    def add(self, name: str, note: str = "", **figures: object) -> None:
        row = Row(name, {k: _fmt(v) for k, v in figures.items()}, note)
        self.rows.append(row)
        print(
            f"  {name}: "
            + ", ".join(f"{k}={v}" for k, v in row.figures.items())
            + (f"  ({note})" if note else ""),
            flush=True,
        )

    def markdown(self) -> str:
        lines = ["| run | figures | note |", "|---|---|---|"]
        for row in self.rows:
            figures = ", ".join(f"{k} {v}" for k, v in row.figures.items())
            lines.append(f"| {row.name} | {figures} | {row.note} |")
        return "\n".join(lines)


def _fmt(value: object) -> str:
    if isinstance(value, float):
        return f"{value:,.0f}" if value >= 100 else f"{value:.2f}"
    if isinstance(value, int):
        return f"{value:,}"
    return str(value)


def mean(values: Sequence[float]) -> float:
    return statistics.fmean(values) if values else float("nan")
