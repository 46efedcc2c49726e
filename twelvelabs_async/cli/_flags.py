"""Parsing the command line: the parser, the flag types, and library messages in flag terms.

Every flag is checked while the command line is parsed, before any request or server start:
a value a flag refuses is a usage error (exit code 2) on one line that names the flag, e.g.
`twelvelabs-async tasks watch: error: --timeout must be a number of seconds > 0, got -5`.
Number flags check their values with the library's own `check_number`, so the bounds and the
wording are the library's.
"""

from __future__ import annotations

import argparse
import math
import re
from collections.abc import Callable, Iterable
from typing import Any, NoReturn

from .._validate import check_number
from ..errors import TwelveLabsError


class UsageError(Exception):
    """A command line that is wrong in a way argparse cannot see (exit code 2)."""


class Parser(argparse.ArgumentParser):
    """argparse, with usage errors on one line (`PROG: error: MESSAGE`) and exit code 2.

    argparse prints the whole usage before the message; for a command with many flags that is
    a screenful in which the one line that matters is the last. `--help` still shows it all.
    """

    def error(self, message: str) -> NoReturn:
        """Print `PROG: error: MESSAGE` (a flag's own message without argparse's prefix)."""
        self.exit(2, f"{self.prog}: error: {_one_flag(message)}\n")


def _one_flag(message: str) -> str:
    """`argument --rpm: --rpm must be ...` -> `--rpm must be ...` (our types name the flag)."""
    found = re.match(r"argument ([^:]+): (.*)$", message, re.S)
    if found:
        flags, rest = found.group(1), found.group(2)
        if any(rest.startswith((f"{flag} ", f"{flag}:")) for flag in flags.split("/")):
            return rest
    return message


def finite(text: str) -> float:
    """An argparse `type`: a finite number (`nan` and `inf` are usage errors)."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
    if not math.isfinite(value):
        raise argparse.ArgumentTypeError(f"{text!r} is not a finite number")
    return value


def number(
    flag: str,
    *,
    integer: bool = False,
    low: float | None = None,
    above: float | None = None,
    high: float | None = None,
    unit: str = "",
) -> Callable[[str], Any]:
    """An argparse `type` for `flag`: a number within bounds, checked by `check_number`.

    The message names the flag and what it takes: `--limit must be an integer >= 1, got 0`.
    """

    def parse(text: str) -> float | int:
        value: float | int
        try:
            value = int(text) if integer else finite(text)
        except (ValueError, argparse.ArgumentTypeError):
            if integer:
                raise _refused(flag, text, integer, low, above, high, unit) from None
            raise
        # A whole number typed as one is shown as typed: `got -1`, not `got -1.0`.
        shown = int(value) if re.fullmatch(r"\s*[+-]?\d+\s*", text) else value
        try:
            check_number(shown, flag, low=low, above=above, high=high, integer=integer, unit=unit)
        except TwelveLabsError as exc:
            raise argparse.ArgumentTypeError(str(exc)) from None
        return value

    parse.__name__ = flag  # argparse names a type by it in some messages
    return parse


def _refused(
    flag: str,
    text: str,
    integer: bool,
    low: float | None,
    above: float | None,
    high: float | None,
    unit: str,
) -> argparse.ArgumentTypeError:
    """The message `check_number` gives for `text` that is no number at all."""
    try:
        check_number(text, flag, low=low, above=above, high=high, integer=integer, unit=unit)
    except TwelveLabsError as exc:
        return argparse.ArgumentTypeError(str(exc))
    return argparse.ArgumentTypeError(f"{flag}: {text!r} is not a number")  # pragma: no cover


SECONDS = number("--timeout", above=0, unit="seconds")
"""`--timeout`: a finite number of seconds above 0 (no flag means no deadline)."""


def choice(flag: str, values: Iterable[str]) -> Callable[[str], str]:
    """An argparse `type`: one of `values`, whatever its case (`READY` is `ready`)."""
    allowed = tuple(values)

    def parse(text: str) -> str:
        value = text.strip().lower()
        if value in allowed:
            return value
        raise argparse.ArgumentTypeError(
            f"{flag} must be one of {', '.join(allowed)}; got {text!r}"
        )

    parse.__name__ = flag
    return parse


def port(text: str) -> int:
    """`--port`: 0-65535 (0 picks a free port)."""
    value: int = number("--port", integer=True, low=0, high=65_535)(text)
    return value


# --- library messages in the command line's terms -----------------------------------------------

_FLAGS = {
    "video": "--video-url",
    "prompt": "--prompt",
    "analysis_mode": "--analysis-mode",
    "response_format": "--response-format",
    "model_name": "--model-name",
    "temperature": "--temperature",
    "max_tokens": "--max-tokens",
    "min_segment_duration": "--min-segment-duration",
    "max_segment_duration": "--max-segment-duration",
    "start_time": "--start-time",
    "end_time": "--end-time",
    "custom_id": "--custom-id",
    "api_key": "--api-key",
    "base_url": "--base-url",
}
_NAME = "|".join(sorted(_FLAGS, key=len, reverse=True))
_ASSIGNED = re.compile(rf"(?<![\w.\[-])({_NAME})=(?:'([^']*)'|(?=\W|$))")
_BARE = re.compile(rf"(?<![\w.\[-])({_NAME})(?![\w\[])")
_PHRASES = (
    ("=ResponseFormat.segments(...)", " FILE (segment definitions)"),
    ("(use ResponseFormat.segments(...))", "(a JSON list of segment definitions)"),
    ("ResponseFormat.segments(...)", "segment definitions"),
    ("ResponseFormat.schema(...)", "a JSON schema"),
    ("generate()", "analyze"),
)


def in_flag_terms(message: str) -> str:
    """A library message in flags: `analysis_mode='x'` becomes `--analysis-mode x`.

    Only words outside quotes change, so a value quoted back (`'start_time' is reserved`) stays.
    """
    for python, cli in _PHRASES:
        message = message.replace(python, cli)
    parts = re.split(r"('[^']*')", message)
    out: list[str] = []
    i = 0
    while i < len(parts):
        part = parts[i]
        # `name=` followed by a quoted value: the value is the next part.
        if i % 2 == 0 and i + 1 < len(parts) and re.search(rf"(?<![\w.\[-])({_NAME})=$", part):
            head = _BARE.sub(lambda m: _FLAGS[m.group(1)], part[:-1])
            out.append(f"{head} {parts[i + 1][1:-1]}")
            i += 2
            continue
        if i % 2 == 0:
            part = _ASSIGNED.sub(lambda m: _FLAGS[m.group(1)], part)
            part = _BARE.sub(lambda m: _FLAGS[m.group(1)], part)
        out.append(part)
        i += 1
    return "".join(out)
