"""What every command shares: the client from flags and environment, exit codes, output."""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import os
import sys
from collections.abc import Awaitable, Callable
from typing import Any, TextIO

from .._client import API_KEY_ENV, BASE_URL_ENV, AsyncTwelveLabs
from .._convert import unstructure
from ..errors import (
    APIConnectionError,
    APIError,
    TrackingTimeout,
    TwelveLabsError,
)

EXIT_OK = 0
"""Every task is ready (or the command succeeded)."""
EXIT_SOME_FAILED = 1
"""Some task failed or was canceled (or did not finish within `--timeout`)."""
EXIT_USAGE = 2
"""The command line was wrong (argparse uses 2 as well)."""
EXIT_API = 3
"""The API (or the connection to it) failed, including authentication."""
EXIT_INTERRUPTED = 130
"""Interrupted with Ctrl-C."""


def add_client_options(parser: argparse.ArgumentParser) -> None:
    """`--api-key` and `--base-url`, defaulting to the environment."""
    parser.add_argument(
        "--api-key",
        default=None,
        help=f"API key (default: ${API_KEY_ENV}; prefer the variable: flags show up in `ps`)",
    )
    parser.add_argument("--base-url", default=None, help=f"API root (default: ${BASE_URL_ENV})")


def finite(text: str) -> float:
    """An argparse `type`: a finite number (`nan` and `inf` are usage errors)."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
    if not math.isfinite(value):
        raise argparse.ArgumentTypeError(f"{text!r} is not a finite number")
    return value


def make_client(args: argparse.Namespace, **options: Any) -> AsyncTwelveLabs:
    """The client the flags and environment describe."""
    return AsyncTwelveLabs(args.api_key, base_url=args.base_url, **options)


def to_json(value: Any) -> str:
    """One line of JSON for a model (enums as strings, datetimes as RFC 3339)."""
    return json.dumps(unstructure(value), default=str, separators=(",", ":"))


def error(message: str, stream: TextIO | None = None) -> None:
    """Print an error line to stderr."""
    print(f"twelvelabs-async: error: {message}", file=stream or sys.stderr)


def run(command: Callable[[], Awaitable[int]]) -> int:
    """Run an async command; map our errors and Ctrl-C to exit codes."""
    try:
        return asyncio.run(_guarded(command))
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED
    except BrokenPipeError:
        # The reader of stdout went away (e.g. `| head`): stop quietly, as Python's docs advise.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return EXIT_SOME_FAILED


async def _guarded(command: Callable[[], Awaitable[int]]) -> int:
    try:
        return await command()
    except TwelveLabsError as exc:
        return _report(exc)
    except ExceptionGroup as group:  # from a task group, e.g. `demo` creating tasks at once
        first = _first(group)
        if isinstance(first, TwelveLabsError):
            return _report(first)
        raise


def _first(group: BaseExceptionGroup[Any]) -> BaseException:
    inner = group.exceptions[0]
    return _first(inner) if isinstance(inner, BaseExceptionGroup) else inner


def _report(exc: TwelveLabsError) -> int:
    error(str(exc))
    if isinstance(exc, TrackingTimeout):
        return EXIT_SOME_FAILED  # not every task finished, like a failed one
    if isinstance(exc, APIError | APIConnectionError):
        return EXIT_API
    return EXIT_USAGE if isinstance(exc, ValueError) else EXIT_API  # ConfigurationError too
