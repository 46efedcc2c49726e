"""The options every tracker of many ids takes, and their one check.

Each refused value raises `InvalidInputError` (so catching `TwelveLabsError` is enough) saying
what was wrong; NaN is refused wherever a number is expected.
"""

from __future__ import annotations

import math
from typing import Literal

from .._validate import check_number, shown
from ..errors import InvalidInputError

Strategy = Literal["auto", "per_task", "sweep"]
"""How finished objects are found: sweeps when they save requests, polls only, sweeps only."""
OnError = Literal["raise", "collect"]
"""A permanent error about one object: stop and raise it, or record it and go on."""
OnExit = Literal["leave", "cancel_remote"]
"""Leaving the block early: leave the pending objects running, or cancel them on the server."""


def check_options(
    on_error: str,
    strategy: str,
    on_exit: str,
    timeout: float | None,
    cancel_timeout: float,
    buffer: int,
    keep_open: object = False,
) -> None:
    """Raise `InvalidInputError` for the first option out of its range."""
    for name, value, allowed in (
        ("on_error", on_error, ("raise", "collect")),
        ("strategy", strategy, ("auto", "per_task", "sweep")),
        ("on_exit", on_exit, ("leave", "cancel_remote")),
    ):
        if value not in allowed:
            choices = " or ".join(repr(a) for a in allowed)
            raise InvalidInputError(f"{name} must be {choices}, got {value!r}")
    check_engine_options(timeout, buffer)
    check_number(cancel_timeout, "cancel_timeout", above=0, unit="seconds")
    if not isinstance(keep_open, bool):  # a truthy "no" would keep iteration waiting forever
        raise InvalidInputError(f"keep_open must be True or False, got {shown(keep_open)}")


def check_engine_options(timeout: float | None, buffer: int) -> None:
    """The options of every tracker: a deadline and an outbox size.

    The deadline is a finite number of seconds >= 0, or None (infinity means None too); the
    outbox holds at least one object.
    """
    if timeout is not None and timeout != math.inf:
        check_number(timeout, "timeout", low=0, unit="seconds", hint="pass None for no deadline")
    check_number(buffer, "buffer", low=1, integer=True)
