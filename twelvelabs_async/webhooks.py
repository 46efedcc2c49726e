"""Verify TwelveLabs webhook deliveries and turn them into typed events.

TwelveLabs signs each delivery with a `TL-Signature: t=<unix seconds>,v1=<hex>` header: the
HMAC-SHA256, keyed by the webhook's signing secret, of `<t>.<raw body>`. `verify()` checks it
against the raw body bytes (never re-serialized JSON), in constant time, against one or more
secrets (for rotation), within a replay window, and returns a `WebhookEvent`:

```python
from twelvelabs_async import webhooks

event = webhooks.verify(body, headers.get("TL-Signature"), secret)
print(event.type, event.data.id, event.data.status)
```

Delivery is best effort and retried with the same event id: `DeliveryDeduplicator` recognises
repeats, and `webhook_handler()` puts it all behind an `aiohttp.web` route. Keep polling as a
safety net for deliveries that never arrive.
"""

from __future__ import annotations

import hashlib
import hmac
import inspect
import logging
import math
import re
import time
from collections.abc import Awaitable, Callable, Sequence
from datetime import datetime
from enum import StrEnum
from typing import TYPE_CHECKING, Any

import attrs

from ._clock import WallClock
from ._convert import structure
from ._dedupe import DeliveryDeduplicator
from ._models.common import always_sent
from ._untrusted import loads
from .errors import ConfigurationError, DecodeError, WebhookVerificationError
from .models import TaskError, TaskStatus, VideoSource

if TYPE_CHECKING:
    from aiohttp import web

    from .coordination import Coordinator

__all__ = [
    "DEFAULT_TOLERANCE",
    "DeliveryDeduplicator",
    "EventCallback",
    "SIGNATURE_HEADER",
    "WebhookEvent",
    "WebhookEventType",
    "WebhookTaskData",
    "WebhookVerificationError",
    "sign",
    "verify",
    "webhook_handler",
]

SIGNATURE_HEADER = "TL-Signature"
"""The request header that carries a delivery's signature."""

DEFAULT_TOLERANCE = 300.0
"""The replay window in seconds: deliveries signed further from now than this are refused."""

logger = logging.getLogger("twelvelabs_async")

_TIMESTAMP = re.compile(r"[0-9]{1,15}")
_DIGEST = re.compile(r"[0-9a-f]{64}")


class WebhookEventType(StrEnum):
    """What happened: an analysis task became `ready`, `failed` or `canceled`.

    Open like every enum here: a type TwelveLabs adds later is kept as its plain string.
    """

    TASK_READY = "analyze.task.ready"
    TASK_FAILED = "analyze.task.failed"
    TASK_CANCELED = "analyze.task.canceled"


@attrs.frozen
class WebhookTaskData:
    """The task a webhook event is about, as it was when the event was created.

    It has no `result`, `request_params` or `completed_at`: retrieve the task for those.

    Attributes:
        id: the task id (`AnalyzeTask.task_id`).
        status: the task's terminal status (`ready`, `failed` or `canceled`).
        created_at: when the task was created.
        custom_id: the `custom_id` it was created with, or None.
        video_source: the video it analyzed, when known.
        error: why it failed, or a partial-result warning on `ready`; match on nothing in
            its `message`.
    """

    id: str
    status: TaskStatus | str
    created_at: datetime
    custom_id: str | None = always_sent()
    video_source: VideoSource | None = None
    error: TaskError | None = None


@attrs.frozen
class WebhookEvent:
    """A verified webhook delivery.

    Attributes:
        id: the event id. Retries of the same delivery reuse it: deduplicate on it.
        type: what happened, e.g. `WebhookEventType.TASK_READY`.
        created_at: when TwelveLabs created the event.
        data: the task it is about; `data.id` and `data.status` are what a tracker needs.
    """

    id: str
    type: WebhookEventType | str
    created_at: datetime
    data: WebhookTaskData


def sign(body: bytes, secret: str, *, timestamp: float | None = None) -> str:
    """The `TL-Signature` header value TwelveLabs would send for `body`.

    For your tests (and the simulator): `verify(body, sign(body, secret), secret)` succeeds.

    Args:
        body: the exact request body bytes.
        secret: the signing secret.
        timestamp: the signing time in Unix seconds (truncated to whole seconds); now if None.
    """
    stamp = str(int(time.time() if timestamp is None else timestamp))
    return f"t={stamp},v1={_digest(secret, stamp, body)}"


def verify(
    body: bytes,
    signature: str | None,
    secret: str | Sequence[str],
    *,
    tolerance: float = 300.0,  # DEFAULT_TOLERANCE, written out for the reference
    now: float | None = None,
) -> WebhookEvent:
    """Check a delivery's signature and decode its body into a `WebhookEvent`.

    Nothing in the body is parsed until the signature has been verified.

    Args:
        body: the raw request body, exactly as received.
        signature: the `TL-Signature` header value (None when the header is missing). Several
            `v1=` entries may be present (any may match); other schemes are ignored.
        secret: the signing secret, or several during a rotation (any may match).
        tolerance: the replay window: how many seconds `t` may be from `now`, either way.
        now: the current Unix time (default: the system clock); for tests.

    Raises:
        WebhookVerificationError: the header is missing or malformed, no signature matches,
            the timestamp is outside the window, or the body is not the documented event.
            `reason` says which; the message says what was wrong.
        ConfigurationError: no secret, an empty secret, or a negative tolerance.
        TypeError: `body` is not bytes (pass the raw body, not decoded or re-encoded JSON).
    """
    secrets = _secrets(secret)
    _check_tolerance(tolerance)
    if not isinstance(body, bytes | bytearray | memoryview):
        raise TypeError(f"body must be the raw request bytes, got {type(body).__name__}")
    payload = bytes(body)
    stamp, candidates = _parse_header(signature)
    expected = [_digest(key, stamp, payload) for key in secrets]
    matched = False
    for digest in expected:  # every pair is compared: no early exit to time
        for candidate in candidates:
            matched |= hmac.compare_digest(digest, candidate)
    if not matched:
        raise WebhookVerificationError(
            f"signature mismatch: none of the {len(candidates)} v1 signature(s) matches the body "
            f"under any of the {len(secrets)} signing secret(s); check the secret and that the "
            "body is the raw bytes received",
            reason="signature_mismatch",
        )
    _check_timestamp(int(stamp), time.time() if now is None else now, tolerance)
    return _decode(payload)


def _secrets(secret: str | Sequence[str]) -> tuple[str, ...]:
    secrets = (secret,) if isinstance(secret, str) else tuple(secret)
    if not secrets:
        raise ConfigurationError("no webhook signing secret given")
    if not all(isinstance(s, str) and s for s in secrets):
        raise ConfigurationError("webhook signing secrets must be non-empty strings")
    return secrets


def _check_tolerance(tolerance: float) -> None:
    if not isinstance(tolerance, int | float) or math.isnan(tolerance) or tolerance < 0:
        raise ConfigurationError(f"tolerance must be a number of seconds >= 0, got {tolerance!r}")


def _digest(secret: str, stamp: str, body: bytes) -> str:
    message = stamp.encode("ascii") + b"." + body
    return hmac.new(secret.encode("utf-8"), message, hashlib.sha256).hexdigest()


def _malformed(problem: str) -> WebhookVerificationError:
    return WebhookVerificationError(
        f"malformed {SIGNATURE_HEADER} header: {problem}; expected t=<unix seconds>,v1=<hex>",
        reason="malformed_signature",
    )


def _parse_header(header: str | None) -> tuple[str, list[str]]:
    """`(t as sent, [v1 digests])` from a header value, strictly."""
    if header is None or not header.strip():
        raise WebhookVerificationError(
            f"missing {SIGNATURE_HEADER} header: the delivery is not signed",
            reason="missing_signature",
        )
    stamp: str | None = None
    candidates: list[str] = []
    for position, item in enumerate(header.split(","), start=1):
        key, sep, value = item.strip().partition("=")
        if not sep or not key:
            raise _malformed(f"entry {position} is not a key=value pair")
        if key == "t":
            if stamp is not None:
                raise _malformed("more than one t= timestamp")
            if not _TIMESTAMP.fullmatch(value):
                raise _malformed("t= is not a whole number of Unix seconds")
            stamp = value
        elif key == "v1":
            if not _DIGEST.fullmatch(value):
                raise _malformed("a v1= signature is not 64 lowercase hex digits")
            candidates.append(value)
        # Any other scheme (v0=, v2=, ...) is ignored: a later version may add one.
    if stamp is None:
        raise _malformed("no t= timestamp")
    if not candidates:
        raise _malformed("no v1= signature")
    return stamp, candidates


def _check_timestamp(signed_at: int, now: float, tolerance: float) -> None:
    skew = now - signed_at
    if abs(skew) <= tolerance:
        return
    seconds = f"{round(abs(skew), 1):g}"
    when = f"{seconds} s ago" if skew > 0 else f"{seconds} s in the future"
    raise WebhookVerificationError(
        f"timestamp outside the {tolerance:g} s replay window: the delivery was signed {when} "
        "(a replayed delivery, or a clock out of sync)",
        reason="timestamp_out_of_tolerance",
    )


def _decode(payload: bytes) -> WebhookEvent:
    try:
        data: Any = loads(payload)
    except ValueError:  # includes UnicodeDecodeError, and JSON nested too deeply
        raise WebhookVerificationError(
            "the body is not JSON", reason="malformed_body", path="$"
        ) from None
    if not isinstance(data, dict):
        raise WebhookVerificationError(
            "the body is not a JSON object", reason="malformed_body", path="$"
        )
    try:
        event = structure(data, WebhookEvent)
    except DecodeError as exc:
        detail = exc.message.split(": ", 1)[-1]
        raise WebhookVerificationError(
            f"the body is not a TwelveLabs webhook event: {detail}",
            reason="malformed_body",
            path=exc.path,
        ) from None
    for path, value in (("$.id", event.id), ("$.data.id", event.data.id)):
        if not value:
            raise WebhookVerificationError(
                f"the body is not a TwelveLabs webhook event: {path} is empty",
                reason="malformed_body",
                path=path,
            )
    return event


# --- aiohttp.web -----------------------------------------------------------------------------

EventCallback = Callable[[WebhookEvent], object]
"""What `webhook_handler` calls with each new event: a function, or one returning an awaitable
(a coroutine function), which is then awaited. Any other return value is ignored."""

_PLAIN = {200: "OK", 400: "Bad Request", 401: "Unauthorized", 500: "Internal Server Error"}


def webhook_handler(
    secret: str | Sequence[str],
    on_event: EventCallback | None = None,
    *,
    coordinator: Coordinator | None = None,
    tolerance: float = 300.0,  # DEFAULT_TOLERANCE, written out for the reference
    dedupe: DeliveryDeduplicator | bool = True,
    respond_first: bool = True,
    clock: WallClock | None = None,
) -> Callable[[web.Request], Awaitable[web.StreamResponse]]:
    """An `aiohttp.web` handler that verifies deliveries and passes new events to `on_event`.

    ```python
    app.router.add_post("/webhooks/twelvelabs", webhooks.webhook_handler(secret, on_event))
    ```

    With a `coordinator` (`client.coordinator`), each new verified event is also published
    to it: it wakes the trackers and `wait()`s of every client sharing that coordinator, in
    this process and, with a `RedisCoordinator`, in every process of the deployment:

    ```python
    handler = webhooks.webhook_handler(secret, coordinator=client.coordinator)
    ```

    It answers, always with a generic body that tells the sender nothing:

    - **200** for a verified new event, then publishes it and calls `on_event(event)`;
    - **200** for a repeat of an event already seen (`on_event` is not called again);
    - **400** when the signature header or the (authentic) body is malformed;
    - **401** when the header is missing, no signature matches, or the timestamp is outside
      the replay window.

    Why a delivery was refused is logged (at WARNING, on the `twelvelabs_async` logger).

    Args:
        secret: the signing secret, or several during a rotation.
        on_event: called once per new verified event; may be sync or async. A sync callback
            runs on the event loop, so keep it quick (hand work to a queue or a tracker).
            Optional with a `coordinator`.
        coordinator: where each new verified event is published before `on_event` is
            called (a coordinator never raises for its backend failing).
        tolerance: the replay window in seconds (see `verify`).
        dedupe: True for a private `DeliveryDeduplicator`, an instance to share one (between
            routes, or to size it), False to pass repeats to `on_event` as well.
        respond_first: True (the default) answers 200 *before* calling `on_event`, so a slow
            callback never delays the answer; it still runs inside the request's handler,
            so aiohttp waits for it on shutdown, and an exception it raises is logged. False
            awaits `on_event` first and answers 500 if it raises (forgetting the event id,
            so that TwelveLabs' retry is processed): at-least-once processing, at the cost of
            holding the sender until the callback is done.
        clock: where the replay window reads the time (anything with `time()` returning Unix
            seconds, such as the simulator's `ManualClock`); the system clock by default.

    Raises:
        ConfigurationError: no secret, an empty secret, a negative tolerance, or neither
            `on_event` nor `coordinator`.
    """
    from aiohttp import web  # here, so that importing this module does not load aiohttp.web

    if on_event is None and coordinator is None:
        raise ConfigurationError(
            "webhook_handler needs on_event=, coordinator= (client.coordinator), or both: "
            "otherwise a verified event would go nowhere"
        )
    secrets = _secrets(secret)
    _check_tolerance(tolerance)
    seen: DeliveryDeduplicator | None = None
    if isinstance(dedupe, DeliveryDeduplicator):
        seen = dedupe  # not `dedupe or ...`: an empty deduplicator is falsy
    elif dedupe:
        seen = DeliveryDeduplicator()

    def plain(status: int) -> web.Response:
        return web.Response(status=status, text=_PLAIN[status])

    async def handle(request: web.Request) -> web.StreamResponse:
        body = await request.read()
        header = ",".join(request.headers.getall(SIGNATURE_HEADER, ())) or None
        now = clock.time() if clock is not None else None
        try:
            event = verify(body, header, secrets, tolerance=tolerance, now=now)
        except WebhookVerificationError as exc:
            logger.warning("webhook delivery refused (%s): %s", exc.reason, exc.message)
            return plain(exc.http_status)
        if seen is not None and seen.is_duplicate(event.id):
            return plain(200)
        if not respond_first:
            try:
                await _call(on_event, event, coordinator)
            except Exception:
                logger.exception("webhook on_event raised for event %s; answering 500", event.id)
                if seen is not None:
                    seen.forget(event.id)
                return plain(500)
            return plain(200)
        response = plain(200)
        await response.prepare(request)
        await response.write_eof()  # the sender has its answer; now run the callback
        try:
            await _call(on_event, event, coordinator)
        except Exception:
            logger.exception("webhook on_event raised for event %s", event.id)
        return response

    return handle


async def _call(
    on_event: EventCallback | None, event: WebhookEvent, coordinator: Coordinator | None = None
) -> None:
    if coordinator is not None:
        await coordinator.publish_event(event)
    if on_event is None:
        return
    result = on_event(event)
    if inspect.isawaitable(result):
        await result
