"""The options every tracker of many ids takes, and their one check.

Each refused value raises `InvalidInputError` (so catching `TwelveLabsError` is enough) saying
what was wrong; NaN is refused wherever a number is expected.
"""

from __future__ import annotations

from typing import Literal

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
    if not cancel_timeout >= 0:
        raise InvalidInputError(f"cancel_timeout must be >= 0 seconds, got {cancel_timeout!r}")


def check_engine_options(timeout: float | None, buffer: int) -> None:
    """The options of every tracker: a deadline (>= 0 s, or None) and an outbox size (>= 1)."""
    if timeout is not None and not timeout >= 0:
        raise InvalidInputError(f"timeout must be >= 0 seconds, got {timeout!r}")
    if isinstance(buffer, bool) or not isinstance(buffer, int) or buffer < 1:
        raise InvalidInputError(f"buffer must be an integer >= 1, got {buffer!r}")
