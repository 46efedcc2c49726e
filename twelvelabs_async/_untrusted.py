"""What a server sends, made safe to decode, to keep and to show. Pure: no I/O.

A broken or hostile server (or a proxy in front of the API) controls every byte of a response.
These helpers are where the library stops trusting them:

- `loads` decodes JSON and raises `ValueError` for every failure, a document nested deeper
  than the interpreter's stack allows included (`json.loads` raises `RecursionError` there),
  so that each caller turns one exception into its own typed error.
- `redact` and `redact_json` replace an echo of the API key by `[redacted]`: the whole key, or
  a leading part of it of `MIN_ECHO` characters or more (a proxy that echoes a request may cut
  the header short).
- `shown` makes server text fit for an exception message or a log line: redacted, cut to
  `SHOWN_CHARS` characters (saying how many were cut), and with control characters, newlines
  and other unprintable characters written as escapes, so that a message never forges a log
  line nor fills a log.
"""

from __future__ import annotations

import json
from typing import Any

REDACTED = "[redacted]"
"""What stands in the place of an echoed API key."""

MIN_ECHO = 8
"""The shortest leading part of the API key that counts as an echo of it."""

SHOWN_CHARS = 300
"""The most characters of server text shown in one exception message or log line."""


def loads(data: bytes | str) -> Any:
    """`json.loads`, raising `ValueError` for every failure (too deep a nesting included).

    Raises:
        ValueError: the data is not JSON, not UTF-8, or nested too deeply to decode.
    """
    try:
        return json.loads(data)
    except RecursionError:
        raise ValueError("the JSON is nested too deeply to decode") from None


def redact(text: str, secret: str | None) -> str:
    """`text` with every echo of `secret` replaced by `[redacted]`.

    An echo is the whole secret, or a leading part of it at least `MIN_ECHO` characters long.
    A secret shorter than `MIN_ECHO` (a placeholder, never a real key) is not looked for.
    """
    if not secret or len(secret) < MIN_ECHO:
        return text
    start = secret[:MIN_ECHO]
    found = text.find(start)
    if found < 0:
        return text
    parts: list[str] = []
    done = 0
    while found >= 0:
        end = found + MIN_ECHO
        while end < len(text) and end - found < len(secret) and text[end] == secret[end - found]:
            end += 1
        parts.append(text[done:found])
        parts.append(REDACTED)
        done = end
        found = text.find(start, done)
    parts.append(text[done:])
    return "".join(parts)


def redact_json(data: Any, secret: str | None) -> Any:
    """Decoded JSON with every string in it (keys as well as values) passed through `redact`.

    Lists and objects are changed in place (decoded JSON is a fresh tree) and walked without
    recursion, so that a deeply nested document cannot exhaust the stack.
    """
    if not secret or len(secret) < MIN_ECHO:
        return data
    if isinstance(data, str):
        return redact(data, secret)
    stack = [data]
    while stack:
        node = stack.pop()
        if isinstance(node, list):
            for index, item in enumerate(node):
                if isinstance(item, str):
                    node[index] = redact(item, secret)
                elif isinstance(item, list | dict):
                    stack.append(item)
        elif isinstance(node, dict):
            items = list(node.items())
            node.clear()
            for key, value in items:
                if isinstance(value, str):
                    value = redact(value, secret)
                elif isinstance(value, list | dict):
                    stack.append(value)
                node[redact(key, secret) if isinstance(key, str) else key] = value
    return data


def shown(text: str, secret: str | None = None, *, limit: int = SHOWN_CHARS) -> str:
    r"""Server text as an exception message or a log line may show it.

    Redacted (`redact`), cut to `limit` characters with a note of how many more there were,
    and escaped: every character that is not printable (newlines, tabs, escape sequences,
    bidirectional overrides, ...) is written as its Python escape, such as `\n` or `\x1b`.
    """
    text = redact(text, secret)
    cut = len(text) - limit
    if cut > 0:
        text = text[:limit]
    if not text.isprintable():
        text = "".join(c if c.isprintable() else c.encode("unicode_escape").decode() for c in text)
    return f"{text}... [{cut:,} more characters]" if cut > 0 else text
