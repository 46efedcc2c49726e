"""What every command shares: the client from flags and environment, exit codes, errors.

Errors reach the user in the command line's words: flags rather than keyword arguments, what
went wrong with a connection rather than the name of a Python exception, and a hint when a
404 comes from a base URL without its version path.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import sys
from collections.abc import AsyncIterable, Awaitable, Callable
from typing import Any, TextIO, TypeVar
from urllib.parse import urlsplit

from .._client import API_KEY_ENV, BASE_URL_ENV, DEFAULT_BASE_URL, AsyncTwelveLabs
from .._convert import unstructure
from .._validate import check_base_url
from ..errors import (
    APIConnectionError,
    APIError,
    APITimeoutError,
    ConfigurationError,
    NotFoundError,
    TrackingTimeout,
    TwelveLabsError,
)
from ._flags import UsageError, in_flag_terms, number

T = TypeVar("T")

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
    """`--api-key` and `--base-url`, defaulting to the environment.

    They are added to the top-level parser and to each command's, all with a suppressed
    default, so that the flag is taken wherever it stands and the one nearest the end wins.
    """
    parser.add_argument(
        "--api-key",
        default=argparse.SUPPRESS,
        metavar="KEY",
        help=f"API key (default: ${API_KEY_ENV}; prefer the variable: flags show up in `ps`)",
    )
    parser.add_argument(
        "--base-url",
        default=argparse.SUPPRESS,
        metavar="URL",
        help=f"API root, with its version path (default: ${BASE_URL_ENV}, then {DEFAULT_BASE_URL})",
    )


def base_url_of(args: argparse.Namespace) -> str:
    """The API root the flags and environment name (unchecked; for messages)."""
    flag = getattr(args, "base_url", None)
    if flag is not None:
        return str(flag).rstrip("/")
    return (os.environ.get(BASE_URL_ENV) or DEFAULT_BASE_URL).rstrip("/")


def make_client(args: argparse.Namespace, **options: Any) -> AsyncTwelveLabs:
    """The client the flags and environment describe.

    Raises:
        UsageError: no key, or a base URL the client refuses, said in flags.
    """
    key = getattr(args, "api_key", None)
    if key is None:
        key = os.environ.get(API_KEY_ENV)
    if not key:
        raise UsageError(
            f"no API key: set the {API_KEY_ENV} environment variable, or pass --api-key KEY"
        )
    flag = getattr(args, "base_url", None)
    try:
        if flag is not None:
            url = check_base_url(flag, "--base-url")
        elif os.environ.get(BASE_URL_ENV):
            url = check_base_url(os.environ[BASE_URL_ENV], BASE_URL_ENV)
        else:
            url = DEFAULT_BASE_URL
        return AsyncTwelveLabs(key, base_url=url, **options)
    except ConfigurationError as exc:
        raise UsageError(in_flag_terms(str(exc))) from None


def add_list_options(parser: argparse.ArgumentParser, noun: str) -> None:
    """`--limit N` (stop after N `noun`) and `--json` (JSON Lines) of a list command."""
    parser.add_argument(
        "--limit",
        type=number("--limit", integer=True, low=1),
        default=None,
        metavar="N",
        help=f"stop after N {noun} (N >= 1)",
    )
    parser.add_argument("--json", action="store_true", help="print JSON Lines")


def page_limit(args: argparse.Namespace) -> int:
    """Items per page for a list command: the API's most (50), or fewer under `--limit`."""
    return min(50, args.limit) if args.limit is not None else 50


async def print_listed(
    items: AsyncIterable[T], args: argparse.Namespace, line: Callable[[T], str]
) -> int:
    """Print each item as it comes (`line(item)`, or JSON with `--json`), up to `--limit`."""
    count = 0
    async for item in items:
        print(to_json(item) if args.json else line(item), flush=True)
        count += 1
        if args.limit is not None and count >= args.limit:
            break
    return EXIT_OK


def to_json(value: Any) -> str:
    """One line of JSON for a model (enums as strings, datetimes as RFC 3339)."""
    return json.dumps(unstructure(value), default=str, separators=(",", ":"))


PROG = ["twelvelabs-async"]
"""The command being run (`twelvelabs-async tasks watch`), set once parsed: errors start so."""


def error(message: str, stream: TextIO | None = None) -> None:
    """Print an error line to stderr: `PROG: error: MESSAGE`."""
    print(f"{PROG[0]}: error: {message}", file=stream or sys.stderr)


def run(args: argparse.Namespace, command: Callable[[], Awaitable[int]]) -> int:
    """Run an async command; map our errors and Ctrl-C to exit codes."""
    try:
        return asyncio.run(_guarded(args, command))
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED
    except BrokenPipeError:
        # The reader of stdout went away (e.g. `| head`): stop quietly, as Python's docs advise.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return EXIT_SOME_FAILED


async def _guarded(args: argparse.Namespace, command: Callable[[], Awaitable[int]]) -> int:
    try:
        return await command()
    except UsageError as exc:
        error(str(exc))
        return EXIT_USAGE
    except TwelveLabsError as exc:
        return report(exc, args)
    except ExceptionGroup as group:  # from a task group, e.g. `demo` creating tasks at once
        first = _first(group)
        if isinstance(first, UsageError):
            error(str(first))
            return EXIT_USAGE
        if isinstance(first, TwelveLabsError):
            return report(first, args)
        raise


def _first(group: BaseExceptionGroup[Any]) -> BaseException:
    inner = group.exceptions[0]
    return _first(inner) if isinstance(inner, BaseExceptionGroup) else inner


def report(exc: TwelveLabsError, args: argparse.Namespace) -> int:
    """Print `exc` in the command line's words; return its exit code."""
    error(describe(exc, base_url_of(args)))
    if isinstance(exc, TrackingTimeout):
        return EXIT_SOME_FAILED  # not every task finished, like a failed one
    if isinstance(exc, APIError | APIConnectionError):
        return EXIT_API
    return EXIT_USAGE if isinstance(exc, ValueError) else EXIT_API  # ConfigurationError too


def describe(exc: BaseException, base_url: str) -> str:
    """What went wrong, for a person at a shell: flags, not keyword arguments; no class names."""
    if isinstance(exc, APIConnectionError):
        return connection_problem(exc, base_url)
    text = str(exc)
    if isinstance(exc, NotFoundError) and not _VERSIONED.search(urlsplit(base_url).path):
        return (
            f"{text}; the base URL {base_url} has no version path: did it forget /v1.3? "
            f"(e.g. --base-url {base_url}/v1.3)"
        )
    if isinstance(exc, ValueError):  # InvalidInputError, ConfigurationError
        return in_flag_terms(text)
    return text


_VERSIONED = re.compile(r"/v\d+(\.\d+)*(/|$)")

_DNS = ("dnserror", "name or service not known", "nodename nor servname", "name resolution",
        "no address associated", "getaddrinfo")  # fmt: skip
_TLS = ("ssl", "certificate", "tls")
_REFUSED = ("connect call failed", "connection refused", "clientconnectorerror", "cannot connect")
_DROPPED = ("disconnected", "reset", "broken pipe", "stream broke", "payload", "closed")


def connection_problem(exc: APIConnectionError, base_url: str) -> str:
    """A failed connection in words a user can act on, never a Python class name.

    The library's message says what aiohttp said (class name included); the kind of failure
    is read from it, and the sentence is the command line's own.
    """
    parts = urlsplit(base_url)
    host = parts.netloc or base_url
    where = "--base-url (or TWELVELABS_BASE_URL)"
    # aiohttp writes `ssl:default` into every connector error, and the host may hold any word.
    text = re.sub(r"ssl:\S+", "", str(exc).replace(host, "")).lower()
    if isinstance(exc, APITimeoutError):
        detail = str(exc).split(": ", 1)[-1]
        return f"the API at {host} did not answer in time ({detail}); try again later"
    if any(word in text for word in _DNS):
        return f"cannot find the host {parts.hostname or host}: check the address in {where}"
    if any(word in text for word in _TLS):
        if "wrong version number" in text or "record layer" in text:
            return (
                f"the secure connection to {host} failed: it does not speak https there; "
                f"check the scheme in {where} (http:// for a local simulator)"
            )
        reason = "its certificate is not trusted" if "certificate" in text else "TLS failed"
        return f"the secure connection to {host} failed: {reason}; check the address in {where}"
    if any(word in text for word in _REFUSED):
        return (
            f"cannot connect to {host}: nothing answered; is the API (or the simulator) "
            f"running there, and is {where} right?"
        )
    if any(word in text for word in _DROPPED):
        return f"the connection to {host} was lost before the API answered; try again"
    return f"the connection to {host} failed; check the address in {where} and your network"
