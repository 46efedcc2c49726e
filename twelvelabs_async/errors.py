"""Every exception this library raises, in one tree.

Catch `TwelveLabsError` to catch them all. aiohttp and cattrs exceptions never reach you
unwrapped: transport failures become `APIConnectionError`, bodies that are not what an
endpoint promises become `DecodeError`.

```text
TwelveLabsError
├── ConfigurationError        no API key, a misrouting base URL, a bad setting (also ValueError)
├── InvalidInputError         refused before any request, saying what to do (also ValueError)
│   ├── ResultNotReadyError   a result asked of a task, batch item or stream that has none yet
│   └── UploadMismatchError   a file and an upload session disagree (size, chunk size, chunks)
├── ClientClosedError         the client, or the session it borrowed, is closed
├── DecodeError               a 2xx body cut off or not the promised JSON; `.path`
│   └── ResponseTooLargeError a body, or a streamed line, over the size limit; `.limit`
├── TrackingTimeout           a wait passed its deadline; `.pending` (also TimeoutError)
├── WebhookVerificationError  a webhook delivery that is unsigned, forged, stale or malformed
├── UploadInterruptedError    a multipart upload stopped before completing; `.upload_id`, `.cause`
├── AssetFailedError          a file uploaded to be analyzed ended `failed`; `.asset_id`, `.reason`
├── APIConnectionError        no usable response: refused, reset, DNS, TLS
│   └── APITimeoutError       the per-request timeout expired (also TimeoutError)
└── APIError                  an error status: status_code, code, message, headers, body
    ├── BadRequestError           400
    ├── AuthenticationError       401
    ├── PermissionDeniedError     403
    ├── NotFoundError             404
    ├── ConflictError             409
    │   └── AssetInUseError       an asset indexed assets still use: delete(force=True)
    ├── UnprocessableEntityError  422
    ├── RateLimitError            429; `.retry_after` in seconds when the server said
    └── ServerError               500 and above
```

Any other error status (408, 410, 413, ...) is raised as a plain `APIError`. Errors carry the
response headers (including `X-Ratelimit-*`) but never the request headers, so the API key
cannot leak through them; and where a server echoes the key back (a proxy that repeats the
request in its error page), the echo is replaced by `[redacted]` in the message and the body.
Text from the server is shown in a message cut to a few hundred characters, with newlines and
other control characters escaped.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from ._untrusted import loads, redact_json, shown


class TwelveLabsError(Exception):
    """Base class of every error raised by `twelvelabs_async`."""


class ConfigurationError(TwelveLabsError, ValueError):
    """The client was configured wrongly (no API key, a base URL that is not http(s), ...)."""


class InvalidInputError(TwelveLabsError, ValueError):
    """An argument the API would reject, caught locally before any request was sent."""


class ResultNotReadyError(InvalidInputError):
    """A result was asked for where there is none: the task is not `ready`, or the stream unread.

    Raised by `AnalyzeTask.ready_result()`, `BatchResult.ready_result()`,
    `AnalyzeStream.end_event()`, and by `parse_json`/`parse_segments` given such a task. The
    message names the task, its status and, for a failed task, the error it failed with. An
    `InvalidInputError`, as a task that is not ready is the wrong thing to ask a result of.

    Attributes:
        task_id: the task (or batch item's task), or None for a stream.
        status: the task's or item's status as a string, or None for a stream.
    """

    def __init__(
        self, message: str, *, task_id: str | None = None, status: str | None = None
    ) -> None:
        super().__init__(message)
        self.task_id = task_id
        self.status = status


class UploadMismatchError(InvalidInputError):
    """A file and a multipart upload session disagree: they cannot make one asset.

    Raised when resuming a session with a file of another size, or when a session's
    `chunk_size` or `total_chunks` do not agree with the size that was sent. The message names
    both numbers.

    Attributes:
        upload_id: the session.
        field: what disagrees: `total_size`, `chunk_size` or `total_chunks`.
        expected: what the file (or the size sent) gives.
        actual: what the session says.
    """

    def __init__(
        self, message: str, *, upload_id: str | None, field: str, expected: int, actual: object
    ) -> None:
        super().__init__(message)
        self.upload_id = upload_id
        self.field = field
        self.expected = expected
        self.actual = actual


class UploadInterruptedError(TwelveLabsError):
    """A multipart upload stopped before the session completed; it can usually be resumed.

    A chunk failed for good (after its retries, each on a fresh presigned URL), the upload
    was cancelled, the session expired or failed, or it did not end `completed`. Chunks
    already reported stay done: `client.assets.upload(path, upload_id=exc.upload_id)` sends
    only the rest (an `expired` or `failed` session cannot be resumed: start a new one).

    Attributes:
        upload_id: the session to resume.
        asset_id: the asset the session reserved, when known.
        cause: what stopped it (also the exception's `__cause__`), or None.
        chunks_done: chunks reported when it stopped.
        total_chunks: chunks in all.
    """

    def __init__(
        self,
        message: str,
        *,
        upload_id: str,
        asset_id: str | None = None,
        cause: BaseException | None = None,
        chunks_done: int = 0,
        total_chunks: int = 0,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.upload_id = upload_id
        self.asset_id = asset_id
        self.cause = cause
        self.chunks_done = chunks_done
        self.total_chunks = total_chunks


class AssetFailedError(TwelveLabsError):
    """A local video uploaded to be analyzed ended `failed` instead of `ready`; nothing ran.

    Raised by `client.analyze.tasks.create(video=Path(...))` (and `generate`, `stream`) when
    the asset the file became cannot be analyzed, before any analysis is requested.

    Attributes:
        asset_id: the asset the file became.
        reason: the API's `error.message` for it, or None when it gave none.
    """

    def __init__(self, message: str, *, asset_id: str, reason: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.asset_id = asset_id
        self.reason = reason


class ClientClosedError(TwelveLabsError, RuntimeError):
    """The client was used after `close()`, or the aiohttp session it borrowed was closed."""


class DecodeError(TwelveLabsError):
    """A successful response whose body is cut off or not the JSON the endpoint promises.

    Attributes:
        path: where in the JSON document the problem is, e.g. `$.result.usage.output_tokens`
            (`$` when the body is not JSON at all).
        status_code: the HTTP status of the response, when there was one.
    """

    def __init__(self, message: str, *, path: str = "$", status_code: int | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.path = path
        self.status_code = status_code


class ResponseTooLargeError(DecodeError):
    """A response body, or one line of a streamed response, is larger than the client allows.

    The client stops reading there and closes the connection, so memory stays bounded. Raise
    the limits with `AsyncTwelveLabs(max_response_bytes=..., max_line_bytes=...)`. Like any
    malformed 2xx body, it is retried for requests safe to repeat.

    Attributes:
        limit: the limit that was passed, in bytes.
    """

    def __init__(
        self, message: str, *, limit: int, path: str = "$", status_code: int | None = None
    ) -> None:
        super().__init__(message, path=path, status_code=status_code)
        self.limit = limit


class TrackingTimeout(TwelveLabsError, TimeoutError):
    """Waiting for tasks passed its deadline.

    Attributes:
        pending: the task ids that had not reached a terminal status.
    """

    def __init__(self, message: str, *, pending: Iterable[str] = ()) -> None:
        super().__init__(message)
        self.pending: frozenset[str] = frozenset(pending)


class WebhookVerificationError(TwelveLabsError):
    """A webhook delivery failed verification (`twelvelabs_async.webhooks.verify`).

    The message says what was wrong; it never contains a signing secret or the digest the
    signature should have had.

    Attributes:
        reason: what failed, one of `missing_signature` (no `TL-Signature` header),
            `malformed_signature` (the header is not `t=<unix seconds>,v1=<hex>`),
            `signature_mismatch` (no `v1` digest matches the body under any secret),
            `timestamp_out_of_tolerance` (signed too long ago or in the future: a replay or
            a skewed clock) and `malformed_body` (authentic, but not the documented event).
        path: for `malformed_body`, where in the JSON the problem is (`$` for the whole body).
    """

    def __init__(self, message: str, *, reason: str, path: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.reason = reason
        self.path = path

    @property
    def http_status(self) -> int:
        """What a receiver should answer: 400 for a malformed delivery, 401 otherwise."""
        return 400 if self.reason in ("malformed_signature", "malformed_body") else 401


class APIConnectionError(TwelveLabsError):
    """The request got no usable response: connection refused or reset, DNS or TLS failure.

    Attributes:
        request_sent: False when the request certainly never reached the server (the
            connection could not be made), so that repeating it cannot do the work twice.
    """

    def __init__(self, message: str, *, request_sent: bool = True) -> None:
        super().__init__(message)
        self.request_sent = request_sent


class APITimeoutError(APIConnectionError, TimeoutError):
    """A single request ran past the client's per-request timeout."""


class APIError(TwelveLabsError):
    """The API answered with an error status.

    Attributes:
        status_code: the HTTP status.
        code: the API's error code (e.g. `resource_not_exist`), or None when the body had none.
        message: a human-readable message; never empty.
        headers: the response headers (including `X-Ratelimit-*`).
        body: the decoded JSON body, the raw text when it was not JSON, or None when empty.
    """

    def __init__(
        self,
        message: str,
        *,
        status_code: int,
        code: str | None = None,
        headers: Mapping[str, str] | None = None,
        body: Any = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.status_code = status_code
        self.code = code
        self.headers: Mapping[str, str] = headers if headers is not None else {}
        self.body = body
        self.task_id: str | None = None
        """The tracked task this error is about, when a tracker raised or collected it."""

    def __str__(self) -> str:
        code = f" {self.code}" if self.code else ""
        return f"{self.status_code}{code}: {self.message}"


class BadRequestError(APIError):
    """400: the API rejected the request's parameters."""


class AuthenticationError(APIError):
    """401: the API key is missing or invalid."""


class PermissionDeniedError(APIError):
    """403: the key may not do this (plan, region or permission)."""


class NotFoundError(APIError):
    """404: the resource does not exist (or is not visible to this key)."""


class ConflictError(APIError):
    """409: the resource is in a state that forbids this (e.g. deleting a task being processed)."""


class AssetInUseError(ConflictError):
    """409 on deleting an asset that indexed assets still reference.

    Its message says what to do: `client.assets.delete(asset_id, force=True)` deletes the asset
    anyway (the API then unlinks what referenced it).
    """


class UnprocessableEntityError(APIError):
    """422: the request is well-formed but unsupported (e.g. a JSON-schema keyword)."""


class RateLimitError(APIError):
    """429: a rate limit was exceeded.

    Attributes:
        retry_after: seconds the server asked us to wait (from `Retry-After` or
            `X-Ratelimit-Reset`), or None when it did not say.
    """

    def __init__(self, message: str, *, retry_after: float | None = None, **kwargs: Any) -> None:
        super().__init__(message, **kwargs)
        self.retry_after = retry_after


class ServerError(APIError):
    """500 and above: the API failed; usually transient and retried."""


_BY_STATUS: dict[int, type[APIError]] = {
    400: BadRequestError,
    401: AuthenticationError,
    403: PermissionDeniedError,
    404: NotFoundError,
    409: ConflictError,
    422: UnprocessableEntityError,
    429: RateLimitError,
}

_DEFAULT_MESSAGES: dict[int, str] = {
    400: "the request was rejected as invalid",
    401: "the API key is missing or invalid; set TWELVELABS_API_KEY or pass api_key=",
    403: "this API key is not allowed to do that",
    404: "not found",
    408: "the server timed out waiting for the request",
    409: "the resource is in a state that does not allow this",
    422: "the request could not be processed",
    429: "rate limit exceeded; slow down and retry later",
}


_CODE_CHARS = 100
"""The most characters of an error code shown: codes are short identifiers."""


def error_class_for(status: int) -> type[APIError]:
    """The `APIError` subclass for an HTTP status (plain `APIError` when none is specific)."""
    if status >= 500:
        return ServerError
    return _BY_STATUS.get(status, APIError)


def parse_error_body(
    body: bytes, *, secret: str | None = None
) -> tuple[Any, str | None, str | None]:
    """Decode an error body of either shape: `(decoded body, code, message)`.

    Handles the flat `{"code", "message"}` shape, the nested `{"error": {"code", "message"}}`
    shape, empty bodies (None, None, None) and bodies that are not JSON, or JSON that cannot be
    decoded (nested too deeply, say): the text, None, None. A code or message that is not a
    string or a number is not one (None). Pure: the code and message are as sent; only an echo
    of `secret` is replaced by `[redacted]`, anywhere in the decoded body or the text.

    Args:
        body: the raw body bytes.
        secret: the API key (never shown), or None.
    """
    text = body.decode("utf-8", errors="replace").strip()
    if not text:
        return None, None, None
    try:
        decoded: Any = loads(text)
    except ValueError:
        decoded = text
    decoded = redact_json(decoded, secret)
    source = decoded
    if isinstance(decoded, dict) and isinstance(decoded.get("error"), dict):
        source = decoded["error"]
    elif isinstance(decoded, dict) and isinstance(decoded.get("error"), str):
        return decoded, None, decoded["error"]
    if not isinstance(source, dict):
        return decoded, None, None
    return decoded, _scalar(source.get("code")), _scalar(source.get("message"))


def _scalar(value: Any) -> str | None:
    """A string, or a number as a string; None for anything else (an object, a list, null)."""
    if isinstance(value, str):
        return value
    if isinstance(value, int | float) and not isinstance(value, bool):
        return str(value)
    return None


def error_from_response(
    status: int,
    headers: Mapping[str, str],
    body: bytes,
    *,
    retry_after: float | None = None,
    context: str = "",
    secret: str | None = None,
) -> APIError:
    """Turn an error response into the matching exception. Pure: no I/O.

    The server's code and message are shown cut to a few hundred characters, with control
    characters and newlines escaped; an echo of `secret` is redacted in them and in `body`.

    Args:
        status: the HTTP status (>= 400).
        headers: the response headers.
        body: the raw body bytes (may be empty or not JSON).
        retry_after: the server's requested delay in seconds, for 429.
        context: what was being done, e.g. `GET /analyze/tasks/abc`, prefixed to the message.
        secret: the API key, which no part of the error may show; None when there is none.
    """
    decoded, code, message = parse_error_body(body, secret=secret)
    if not message and isinstance(decoded, str):
        message = decoded
    if message:
        message = shown(message)
    else:
        message = _DEFAULT_MESSAGES.get(status) or (
            "the server failed" if status >= 500 else f"HTTP {status}"
        )
    if code is not None:
        code = shown(code, limit=_CODE_CHARS)
    if context:
        message = f"{context}: {message}"
    cls = error_class_for(status)
    if cls is RateLimitError:
        return RateLimitError(
            message,
            retry_after=retry_after,
            status_code=status,
            code=code,
            headers=headers,
            body=decoded,
        )
    return cls(message, status_code=status, code=code, headers=headers, body=decoded)
