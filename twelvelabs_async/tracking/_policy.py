"""Pure scheduling decisions of the tracker: poll intervals, and whether sweeps pay off.

How long until a task's next poll, and whether sweeping the task list is cheaper than polling
tasks one by one. No I/O, no event loop.
"""

from __future__ import annotations

import bisect
import math
import random
from collections.abc import Iterable

import attrs

from .._backoff import exponential, full_jitter, spread
from .._validate import is_number, shown
from ..errors import InvalidInputError

PAGE_LIMIT = 50
"""Tasks per list page (the API's maximum)."""


@attrs.frozen
class PollPolicy:
    """The bounds of the tracker's timing, in seconds.

    Attributes:
        min_interval: the shortest interval between two polls of one task.
        max_interval: the longest interval between two polls of one task; also the safety-net
            cadence of direct polls while sweeps are in use.
        growth: how much a task's interval grows per poll while nothing is known about
            durations (exponential backoff from `min_interval` to `max_interval`).
        jitter: every interval is multiplied by a uniform factor in [1 - jitter, 1 + jitter].
        sweep_interval: the time between two sweeps of the task list.
        unseen_grace: an id that no sweep has shown is retrieved directly within this time.
    """

    min_interval: float = 1.0
    max_interval: float = 30.0
    growth: float = 1.5
    jitter: float = 0.2
    sweep_interval: float = 1.0
    unseen_grace: float = 3.0

    def __attrs_post_init__(self) -> None:
        for field in attrs.fields(type(self)):
            value = getattr(self, field.name)
            if not is_number(value):
                kind = "factor" if field.name in ("growth", "jitter") else "number of seconds"
                raise InvalidInputError(
                    f"PollPolicy: need {field.name} to be a finite {kind}, got {shown(value)}"
                )
        if not 0 < self.min_interval <= self.max_interval:
            raise InvalidInputError(
                f"PollPolicy: need 0 < min_interval <= max_interval, got {self.min_interval!r} "
                f"and {self.max_interval!r}"
            )
        if self.growth < 1 or not 0 <= self.jitter < 1:
            raise InvalidInputError(
                f"PollPolicy: need growth >= 1 and 0 <= jitter < 1, got {self.growth!r} and "
                f"{self.jitter!r}"
            )
        if self.sweep_interval <= 0 or self.unseen_grace < 0:
            raise InvalidInputError(
                f"PollPolicy: need sweep_interval > 0 and unseen_grace >= 0, got "
                f"{self.sweep_interval!r} and {self.unseen_grace!r}"
            )


class DurationModel:
    """What the tracker has learned about how long tasks take (created_at to completed_at).

    Keeps a sorted sample of the most recent durations (bounded memory).
    """

    def __init__(self, capacity: int = 1024) -> None:
        self._capacity = capacity
        self._recent: list[float] = []
        self._sorted: list[float] = []

    def __len__(self) -> int:
        return len(self._sorted)

    def add(self, seconds: float) -> None:
        """Record one observed duration."""
        if seconds < 0 or math.isnan(seconds):
            return
        self._recent.append(seconds)
        bisect.insort(self._sorted, seconds)
        if len(self._recent) > self._capacity:
            oldest = self._recent.pop(0)
            del self._sorted[bisect.bisect_left(self._sorted, oldest)]

    def quantile(self, q: float) -> float:
        """The q-quantile of the observed durations (requires at least one)."""
        index = min(len(self._sorted) - 1, max(0, round(q * (len(self._sorted) - 1))))
        return self._sorted[index]


MIN_SAMPLES = 5
"""Durations needed before the duration model shapes poll intervals."""


def poll_interval(
    polls: int,
    age: float | None,
    durations: DurationModel,
    policy: PollPolicy,
    rng: random.Random,
) -> float:
    """The wait before the next direct poll of a task, jittered, within policy bounds.

    Args:
        polls: how many times this task has been polled (or observed) already.
        age: seconds since the task was created, when known.
        durations: what is known about how long tasks take.
        policy: the bounds.
        rng: the jitter source.

    Without duration knowledge the interval grows geometrically from `min_interval`. With it,
    a young task waits until about halfway to the earliest likely finish (the 10th percentile),
    a task inside the likely window (10th to 90th percentile) is polled at `min_interval`, and
    an overdue one waits a quarter of how late it is (a task 20 s past the 90th percentile is
    polled every 5 s), whatever its poll count.
    """
    base = exponential(polls, policy.min_interval, policy.max_interval, growth=policy.growth)
    if age is not None and len(durations) >= MIN_SAMPLES:
        early, late = durations.quantile(0.1), durations.quantile(0.9)
        if age < early:
            base = (early - age) / 2
        elif age <= late:
            base = policy.min_interval
        else:  # overdue: back off in proportion to how late it is, not to how often polled
            base = (age - late) / 4
    base = min(policy.max_interval, max(policy.min_interval, base))
    return spread(base, policy.jitter, rng)


HEALTHY_FAILURE_STEPS = 3
"""How far one task's failure backoff grows while the tracker's other requests succeed
(caps of 1, 2 and 4 `min_interval`s)."""


def failure_delay(
    failures: int, policy: PollPolicy, rng: random.Random, *, streak: int | None = None
) -> float:
    """Backoff before re-polling a task whose last poll failed transiently (full jitter).

    The cap doubles with each consecutive failure of the task, from `min_interval` up to
    `max_interval`. With `streak` (the tracker's consecutive failures, any task or list page,
    reset by any success), it grows past `HEALTHY_FAILURE_STEPS` steps only while that streak
    does too: a run of bad luck on one task of a healthy server costs seconds, not half a
    minute, while an outage, which fails everything, still backs every task off fully.
    """
    steps = max(0, failures - 1)
    if streak is not None:
        steps = min(steps, max(HEALTHY_FAILURE_STEPS - 1, streak - 1))
    cap = exponential(steps, policy.min_interval, policy.max_interval)
    return max(policy.min_interval / 2, full_jitter(cap, rng))


def pages_for(count: int, limit: int = PAGE_LIMIT) -> int:
    """List pages needed to read `count` objects, `limit` a page (at least one page)."""
    return max(1, -(-count // limit))


def sweep_cost(counts_by_status: dict[str, int], statuses: Iterable[str]) -> int:
    """Requests one sweep over `statuses` costs, given how many tasks each list holds."""
    return sum(pages_for(counts_by_status.get(s, 0)) for s in statuses)


def prefer_sweep(per_task_rate: float, sweep_requests: int, policy: PollPolicy) -> bool:
    """Sweep when it costs fewer requests per second than polling each task directly."""
    return sweep_requests / policy.sweep_interval < per_task_rate
