"""What every benchmark module shares: a timer and the result table it hands to `run.py`.

A benchmark module is a `bench_<name>.py` file in this directory with a function
`run(*, quick: bool) -> list[Table]`; `run.py` finds, runs and reports it.
"""

from __future__ import annotations

import dataclasses
import timeit
from collections.abc import Callable
from typing import Any


@dataclasses.dataclass
class Table:
    """One result table: printed as markdown, written to `results/latest.json` as is."""

    title: str
    columns: list[str]
    rows: list[dict[str, Any]]
    notes: list[str] = dataclasses.field(default_factory=list)
    meta: dict[str, Any] = dataclasses.field(default_factory=dict)

    def markdown(self) -> str:
        lines = [f"### {self.title}", ""]
        lines.append("| " + " | ".join(self.columns) + " |")
        lines.append("|" + "|".join("---" for _ in self.columns) + "|")
        for row in self.rows:
            lines.append("| " + " | ".join(_cell(row.get(c)) for c in self.columns) + " |")
        lines.extend(["", *(f"- {note}" for note in self.notes)])
        return "\n".join(lines)


def _cell(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{value:,.2f}" if abs(value) < 100 else f"{value:,.0f}"
    return str(value)


def per_call_us(fn: Callable[[], object], *, quick: bool) -> float:
    """Best per-call time in microseconds, `timeit` style.

    Picks a loop count so one repeat lasts at least 0.2 s (0.05 s with `quick`), then keeps the
    best of 7 repeats (3 with `quick`): the minimum is the run least disturbed by the machine.
    """
    min_time, repeats = (0.05, 3) if quick else (0.2, 7)
    timer = timeit.Timer(fn)
    number = 1
    while (elapsed := timer.timeit(number)) < min_time:
        number = max(number * 2, int(number * min_time / max(elapsed, 1e-9) * 1.1))
    return min(timer.repeat(repeats, number)) / number * 1e6
