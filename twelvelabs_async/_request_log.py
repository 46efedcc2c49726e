"""The DEBUG line of one request attempt, and its structured fields. Pure: no I/O.

`HTTPTransport` logs one line per attempt (a retried request is several attempts) on the
`twelvelabs_async` logger at DEBUG, after the attempt ends, whatever its outcome:

```text
GET /analyze/tasks/6601 -> 200 in 41.0 ms (attempt 1 of 4, request id 8c1f...)
GET /analyze/tasks/6601 -> 503 ServerError in 12.5 ms (attempt 1 of 4)
POST /analyze/tasks -> APIConnectionError in 3.1 ms (attempt 2 of 4)
```

What a line may hold, and what it never does:

- the method and the path relative to the base URL: ids the library has checked, nothing a
  server sent. Never the query string (a `video_url` filter may be a signed URL), never a
  header, never a body, so never the API key.
- the status and, for a failed attempt, the name of the error's class (its message, which may
  quote the server, is the retry INFO line's and the exception's).
- the server's request id, read from the first of `REQUEST_ID_HEADERS` it sends, through
  `_untrusted.shown`: cut to `REQUEST_ID_CHARS`, escaped, an echo of the key redacted.

The same values are set on the log record as attributes (`extra`), named in `FIELDS`.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import attrs

from ._untrusted import shown

REQUEST_ID_HEADERS = ("X-Request-Id", "Request-Id", "X-Amzn-RequestId", "X-Correlation-Id")
"""Response headers read for the server's request id, in this order; the first present wins."""

REQUEST_ID_CHARS = 128
"""The most characters of a request id shown: ids are UUIDs or shorter; a longer one is cut."""

FIELDS = (
    "method",
    "path",
    "status",
    "error",
    "elapsed_ms",
    "attempt",
    "max_attempts",
    "request_id",
)
"""The attributes each attempt's log record carries (see `Attempt.record`)."""


def request_id(headers: Mapping[str, str] | None, secret: str | None) -> str | None:
    """The server's request id from `headers` (case-insensitive), shown safely; else None."""
    if headers is None:
        return None
    for name in REQUEST_ID_HEADERS:
        value = headers.get(name)
        if value:
            return shown(value, secret, limit=REQUEST_ID_CHARS)
    return None


@attrs.define
class Attempt:
    """One attempt of a request, from its start to its outcome.

    Attributes:
        method: the HTTP method.
        path: the API path relative to the base URL, without a query string.
        number: which attempt this is, from 1.
        max_attempts: the most attempts the request may make (`max_retries + 1`).
        started: when it started, on the client clock's `monotonic()`.
        status: the response's status, once one arrived.
        headers: the response's headers, once a response arrived.
    """

    method: str
    path: str
    number: int
    max_attempts: int
    started: float
    status: int | None = None
    headers: Mapping[str, str] | None = None

    def received(self, status: int, headers: Mapping[str, str]) -> None:
        """A response arrived: keep its status and headers for the log line."""
        self.status = status
        self.headers = headers

    def record(
        self, ended: float, error: BaseException | None, secret: str | None
    ) -> tuple[str, tuple[object, ...], dict[str, Any]]:
        """The log call's message, its arguments, and its `extra` fields (`FIELDS`).

        Args:
            ended: when the attempt ended, on the same clock as `started`.
            error: what ended the attempt, or None when it succeeded.
            secret: the API key, redacted from the request id should the server echo it.
        """
        elapsed_ms = round(max(0.0, ended - self.started) * 1000, 1)
        error_name = None if error is None else type(error).__name__
        rid = request_id(self.headers, secret)
        outcome = " ".join(str(part) for part in (self.status, error_name) if part is not None)
        extra: dict[str, Any] = {
            "method": self.method,
            "path": f"/{self.path}",
            "status": self.status,
            "error": error_name,
            "elapsed_ms": elapsed_ms,
            "attempt": self.number,
            "max_attempts": self.max_attempts,
            "request_id": rid,
        }
        args: tuple[object, ...] = (
            self.method,
            extra["path"],
            outcome,
            elapsed_ms,
            self.number,
            self.max_attempts,
            "" if rid is None else f", request id {rid}",
        )
        return "%s %s -> %s in %.1f ms (attempt %d of %d%s)", args, extra
