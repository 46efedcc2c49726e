"""Waiting for one object: a tracker of one id, polled with a growing interval.

Every resource's `wait(id, timeout=, poll_interval=, max_poll_interval=)` is a tracker of that
one id; the interval bounds are checked, and the one object it yields returned, the same way.
"""

from __future__ import annotations

from typing import TypeVar

from .._validate import check_range
from ._policy import PollPolicy
from ._tracker import ObjectTracker

T = TypeVar("T")


def wait_policy(poll_interval: float, max_poll_interval: float) -> PollPolicy:
    """The polling of a `wait()`: from `poll_interval` up to `max_poll_interval` (both checked).

    Raises:
        InvalidInputError: an interval out of 0.01-3600 s, or the largest below the first.
    """
    check_range(poll_interval, "poll_interval", 0.01, 3600)
    check_range(max_poll_interval, "max_poll_interval", poll_interval, 3600)
    return PollPolicy(min_interval=poll_interval, max_interval=max_poll_interval)


async def first_of(tracker: ObjectTracker[T]) -> T:
    """Run a tracker of one id and return the object it yields (or raise what it raises)."""
    async with tracker:
        async for item in tracker:
            return item
    raise AssertionError("unreachable: a tracker of one id yields it or raises")
