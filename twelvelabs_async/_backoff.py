"""The one family of backoff formulas: every delay the library computes is built from these.

A delay is an exponential *cap* (`exponential`) turned into a wait by a jitter rule
(`full_jitter`, `equal_jitter`, `spread`), or a wait the server asked for plus a little
jitter (`after_server_delay`). Pure functions: the randomness comes in as an argument, so
tests pass a seeded `random.Random` and get the same delays every run.

Who uses which:

- an HTTP retry: `full_jitter(exponential(retry, 0.5, 8))`;
- a wait the server asked for (`Retry-After`, `X-Ratelimit-Reset`): `after_server_delay`;
- a tracked object's poll after a transient failure: `full_jitter(exponential(...))`, at
  least half of `min_interval`;
- a tracker-wide pause after a 429 that named no delay: `exponential(streak, 0.5, ...)`;
- a list page tried again within a sweep: `full_jitter(exponential(attempt, ...))`;
- a batch tracker's retry: `equal_jitter(exponential(...))`;
- the next poll of a running object: `spread(exponential(polls, ..., growth=...))`.
"""

from __future__ import annotations

import random


def exponential(step: int, base: float, cap: float, *, growth: float = 2.0) -> float:
    """`base * growth**step`, at most `cap` (`step` 0 gives `base`)."""
    if step <= 0:
        return min(cap, base)
    try:
        value = base * growth**step
    except OverflowError:
        return cap
    return min(cap, value)


def full_jitter(cap: float, rng: random.Random) -> float:
    """Uniform in [0, cap]: spreads retries out the most (AWS's "full jitter")."""
    return rng.uniform(0.0, cap)


def equal_jitter(cap: float, rng: random.Random) -> float:
    """Uniform in [cap / 2, cap]: never much shorter than the cap."""
    return rng.uniform(cap / 2, cap)


def spread(value: float, fraction: float, rng: random.Random) -> float:
    """`value` times a uniform factor in [1 - fraction, 1 + fraction]."""
    return value * rng.uniform(1 - fraction, 1 + fraction)


def after_server_delay(delay: float, rng: random.Random) -> float:
    """A wait the server asked for, plus up to 10 % of it (at most 1 s).

    The jitter keeps many clients told the same reset time from returning at the same instant.
    """
    return delay + rng.uniform(0.0, min(1.0, 0.1 * delay))
