"""Webhook verification, deduplication and the aiohttp handler (over a loopback server)."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer

from tests.conftest import FakeClock
from twelvelabs_async import (
    ConfigurationError,
    TaskError,
    TaskStatus,
    TwelveLabsError,
    VideoSource,
    VideoSystemMetadata,
    WebhookEvent,
    WebhookEventType,
    WebhookVerificationError,
)
from twelvelabs_async import webhooks as wh

SECRET = "whsec_current_0123456789abcdef"
OLD_SECRET = "whsec_previous_fedcba9876543210"
T = 1_767_225_600  # 2026-01-01T00:00:00Z


def event_json(**changes: Any) -> dict[str, Any]:
    """A documented `analyze.task.ready` envelope, with top-level keys replaced."""
    event: dict[str, Any] = {
        "id": "evt_0001",
        "created_at": "2026-01-01T00:00:00Z",
        "type": "analyze.task.ready",
        "data": {
            "id": "task_0001",
            "custom_id": "job-7",
            "created_at": "2025-12-31T23:59:00Z",
            "video_source": {
                "type": "url",
                "url": "https://videos.example.com/a.mp4",
                "system_metadata": {"duration": 12.5},
            },
            "status": "ready",
        },
    }
    event.update(changes)
    return event


def encode(event: Any) -> bytes:
    return json.dumps(event).encode()


def expected_digest(secret: str, stamp: int | str, body: bytes) -> str:
    """The digest computed independently, straight from REFERENCE §2.8a."""
    message = f"{stamp}.".encode() + body
    return hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()


BODY = encode(event_json())
HEADER = wh.sign(BODY, SECRET, timestamp=T)


def refused(
    body: bytes, header: str | None, secret: str | list[str] = SECRET, **kw: Any
) -> WebhookVerificationError:
    with pytest.raises(WebhookVerificationError) as info:
        wh.verify(body, header, secret, now=kw.pop("now", T), **kw)
    return info.value


# --- sign and verify: success --------------------------------------------------------------


def test_sign_builds_the_documented_header() -> None:
    """sign() gives `t=<seconds>,v1=<hmac-sha256 of "<t>.<body>">` in lowercase hex."""
    header = wh.sign(BODY, SECRET, timestamp=T + 0.9)
    assert header == f"t={T},v1={expected_digest(SECRET, T, BODY)}"


def test_verify_returns_a_typed_event() -> None:
    """A valid delivery becomes a frozen WebhookEvent with typed, timezone-aware fields."""
    event = wh.verify(BODY, HEADER, SECRET, now=T)
    assert event == WebhookEvent(
        id="evt_0001",
        type=WebhookEventType.TASK_READY,
        created_at=datetime(2026, 1, 1, tzinfo=UTC),
        data=wh.WebhookTaskData(
            id="task_0001",
            status=TaskStatus.READY,
            created_at=datetime(2025, 12, 31, 23, 59, tzinfo=UTC),
            custom_id="job-7",
            video_source=VideoSource(
                type="url",
                url="https://videos.example.com/a.mp4",
                system_metadata=VideoSystemMetadata(duration=12.5),
            ),
        ),
    )
    assert event.data.status == "ready"
    assert event.created_at.tzinfo is not None


def test_failed_event_carries_its_error_and_a_null_custom_id() -> None:
    """A failed event keeps `error.message`; a null custom_id and no video_source are fine."""
    data = {
        "id": "task_2",
        "custom_id": None,
        "created_at": "2026-01-01T00:00:00Z",
        "status": "failed",
        "error": {"message": "broken file"},
    }
    body = encode(event_json(type="analyze.task.failed", data=data))
    event = wh.verify(body, wh.sign(body, SECRET, timestamp=T), SECRET, now=T)
    assert event.type is WebhookEventType.TASK_FAILED
    assert event.data.error == TaskError(message="broken file")
    assert (event.data.custom_id, event.data.video_source) == (None, None)


def test_unknown_event_type_and_status_are_kept_as_strings() -> None:
    """Open enums: a type or status added later is kept as its plain string."""
    data = {**event_json()["data"], "status": "archived"}
    body = encode(event_json(type="analyze.task.archived", data=data))
    event = wh.verify(body, wh.sign(body, SECRET, timestamp=T), SECRET, now=T)
    assert (event.type, event.data.status) == ("analyze.task.archived", "archived")
    assert not isinstance(event.type, WebhookEventType)


def test_bytearray_and_memoryview_bodies_are_accepted() -> None:
    """Any bytes-like raw body verifies the same as bytes."""
    assert wh.verify(bytearray(BODY), HEADER, SECRET, now=T).id == "evt_0001"
    assert wh.verify(memoryview(BODY), HEADER, SECRET, now=T).id == "evt_0001"


@pytest.mark.parametrize(
    "header",
    [
        "v1={d},t={t}",
        "t={t}, v1={d}",
        " t={t} ,v1={d} ",
        "t={t},v0=abc,v1={d},v2=zz",
        "t={t},v1=" + "0" * 64 + ",v1={d}",
        "t={t},v1={d},v1=" + "f" * 64,
    ],
    ids=["order", "spaces", "padding", "unknown-schemes", "second-v1", "first-v1"],
)
def test_header_variants_are_accepted(header: str) -> None:
    """Entry order, spaces, unknown schemes and several v1 entries (any matching) are fine."""
    value = header.format(t=T, d=expected_digest(SECRET, T, BODY))
    assert wh.verify(BODY, value, SECRET, now=T).data.id == "task_0001"


# --- sign and verify: failures --------------------------------------------------------------


@pytest.mark.parametrize("header", [None, "", "   "])
def test_missing_header_is_refused(header: str | None) -> None:
    """No header, or an empty one: `missing_signature`."""
    exc = refused(BODY, header)
    assert exc.reason == "missing_signature"
    assert "missing TL-Signature" in str(exc)


DIGEST = expected_digest(SECRET, T, BODY)


@pytest.mark.parametrize(
    ("header", "problem"),
    [
        ("garbage", "entry 1 is not a key=value pair"),
        (f"t={T},,v1={DIGEST}", "entry 2 is not a key=value pair"),
        (f"=1,t={T},v1={DIGEST}", "entry 1 is not a key=value pair"),
        (f"v1={DIGEST}", "no t= timestamp"),
        (f"t={T}", "no v1= signature"),
        (f"t={T},v0={DIGEST}", "no v1= signature"),
        (f"t=abc,v1={DIGEST}", "t= is not a whole number"),
        (f"t=-5,v1={DIGEST}", "t= is not a whole number"),
        (f"t={T}.5,v1={DIGEST}", "t= is not a whole number"),
        (f"t={'9' * 16},v1={DIGEST}", "t= is not a whole number"),
        (f"t={T},t={T},v1={DIGEST}", "more than one t="),
        (f"t={T},v1={DIGEST.upper()}", "not 64 lowercase hex digits"),
        (f"t={T},v1={DIGEST[:-1]}", "not 64 lowercase hex digits"),
        (f"t={T},v1=", "not 64 lowercase hex digits"),
    ],
)
def test_garbled_header_is_refused_saying_what_is_wrong(header: str, problem: str) -> None:
    """A header that does not parse strictly: `malformed_signature`, naming the problem."""
    exc = refused(BODY, header)
    assert exc.reason == "malformed_signature"
    assert problem in str(exc)


def test_wrong_secret_is_a_signature_mismatch() -> None:
    """Signed with another secret: `signature_mismatch`."""
    exc = refused(BODY, wh.sign(BODY, "whsec_attacker", timestamp=T))
    assert exc.reason == "signature_mismatch"
    assert "signature mismatch" in str(exc)


def test_tampered_body_or_timestamp_is_a_signature_mismatch() -> None:
    """Changing one byte of the body, or the signed timestamp, breaks the signature."""
    tampered = BODY.replace(b"job-7", b"job-8")
    assert refused(tampered, HEADER).reason == "signature_mismatch"
    moved = HEADER.replace(f"t={T}", f"t={T + 1}")
    assert refused(BODY, moved).reason == "signature_mismatch"
    reserialized = json.dumps(json.loads(BODY), indent=1).encode()
    assert refused(reserialized, HEADER).reason == "signature_mismatch"


def test_secret_rotation_accepts_either_secret() -> None:
    """With [old, new], deliveries signed by either verify; dropping old refuses its signature."""
    old_header = wh.sign(BODY, OLD_SECRET, timestamp=T)
    assert wh.verify(BODY, old_header, [OLD_SECRET, SECRET], now=T).id == "evt_0001"
    assert wh.verify(BODY, HEADER, [OLD_SECRET, SECRET], now=T).id == "evt_0001"
    assert wh.verify(BODY, HEADER, (SECRET,), now=T).id == "evt_0001"
    assert refused(BODY, old_header, [SECRET]).reason == "signature_mismatch"


@pytest.mark.parametrize(
    ("offset", "tolerance", "accepted"),
    [
        (0, 300, True),
        (300, 300, True),
        (-300, 300, True),
        (300.001, 300, False),
        (-300.001, 300, False),
        (3600, 300, False),
        (10, 10, True),
        (11, 10, False),
        (0, 0, True),
        (1, 0, False),
    ],
)
def test_replay_window_edges(offset: float, tolerance: float, accepted: bool) -> None:
    """`t` may be up to `tolerance` seconds either side of now, inclusive, and no further."""
    if accepted:
        assert wh.verify(BODY, HEADER, SECRET, tolerance=tolerance, now=T + offset).id
        return
    exc = refused(BODY, HEADER, tolerance=tolerance, now=T + offset)
    assert exc.reason == "timestamp_out_of_tolerance"
    assert ("ago" if offset > 0 else "in the future") in str(exc)
    assert f"{tolerance:g} s replay window" in str(exc)


def test_default_window_is_five_minutes_of_the_system_clock() -> None:
    """Without `now`, the system clock is used and the default window is 300 s."""
    assert wh.DEFAULT_TOLERANCE == 300
    fresh = wh.sign(BODY, SECRET)
    assert wh.verify(BODY, fresh, SECRET).id == "evt_0001"
    with pytest.raises(WebhookVerificationError, match="replay window"):
        wh.verify(BODY, HEADER, SECRET)  # signed at 2026-01-01, long before or after now


def test_signature_is_checked_before_the_timestamp() -> None:
    """A forged and stale delivery reports the forgery, not the clock."""
    forged = wh.sign(BODY, "whsec_attacker", timestamp=T)
    assert refused(BODY, forged, now=T + 10_000).reason == "signature_mismatch"


def test_every_digest_is_compared_in_constant_time(monkeypatch: pytest.MonkeyPatch) -> None:
    """hmac.compare_digest is used for every (secret, v1) pair, with no early exit."""
    calls: list[tuple[str, str]] = []
    real = hmac.compare_digest

    def spy(a: str, b: str) -> bool:
        calls.append((a, b))
        return real(a, b)

    monkeypatch.setattr(hmac, "compare_digest", spy)
    header = f"{HEADER},v1={'0' * 64}"
    assert wh.verify(BODY, header, [SECRET, OLD_SECRET], now=T).id == "evt_0001"
    assert len(calls) == 4
    assert (DIGEST, DIGEST) in calls
    calls.clear()
    assert refused(BODY, f"t={T},v1={'1' * 64}", [SECRET, OLD_SECRET]).reason == (
        "signature_mismatch"
    )
    assert len(calls) == 2


@pytest.mark.parametrize(
    ("body", "message", "path"),
    [
        (b"not json", "not JSON", "$"),
        (b"\xff\xfe", "not JSON", "$"),
        (b"[1, 2]", "not a JSON object", "$"),
        (encode({**event_json(), "id": 5}), "expected str", "$.id"),
        (encode({k: v for k, v in event_json().items() if k != "data"}), "required", "$.data"),
        (encode(event_json(data={"id": "t", "created_at": "2026-01-01T00:00:00Z"})), "", "$.data"),
        (encode(event_json(created_at="yesterday")), "", "$.created_at"),
        (encode(event_json(id="")), "is empty", "$.id"),
        (encode(event_json(data={**event_json()["data"], "id": ""})), "is empty", "$.data.id"),
    ],
    ids=[
        "text", "not-utf8", "array", "id-type", "no-data", "no-status", "bad-date",
        "empty-id", "empty-task-id",
    ],
)  # fmt: skip
def test_authentic_but_malformed_body_is_refused_with_its_path(
    body: bytes, message: str, path: str
) -> None:
    """A correctly signed body that is not the documented envelope: `malformed_body` + path."""
    exc = refused(body, wh.sign(body, SECRET, timestamp=T))
    assert exc.reason == "malformed_body"
    assert message in str(exc)
    assert exc.path is not None
    assert exc.path.startswith(path)


def test_failure_messages_never_echo_secrets_or_digests() -> None:
    """No refusal's message contains a secret or the digest the signature should have had."""
    bad_body = b'{"id": 1}'
    cases = [
        refused(BODY, None),
        refused(BODY, "t=1"),
        refused(BODY, wh.sign(BODY, "whsec_attacker", timestamp=T), [SECRET, OLD_SECRET]),
        refused(BODY, f"t={T},v1={'a' * 64}"),
        refused(BODY, HEADER, now=T + 999),
        refused(bad_body, wh.sign(bad_body, SECRET, timestamp=T)),
    ]
    secret_digests = {expected_digest(s, T, BODY) for s in (SECRET, OLD_SECRET)}
    for exc in cases:
        text = f"{exc} {exc!r} {exc.args}"
        for forbidden in (SECRET, OLD_SECRET, *secret_digests):
            assert forbidden not in text


def test_refusals_are_twelvelabs_errors() -> None:
    """WebhookVerificationError sits under TwelveLabsError, carrying `reason` and `message`."""
    exc = refused(BODY, None)
    assert isinstance(exc, TwelveLabsError)
    assert exc.message == str(exc)
    assert exc.path is None


def test_http_status_is_400_for_malformed_and_401_for_unauthenticated() -> None:
    """`http_status` tells a receiver what to answer for each reason."""
    bad_body = b"[]"
    statuses = {
        exc.reason: exc.http_status
        for exc in (
            refused(BODY, None),
            refused(BODY, "t=1"),
            refused(BODY, wh.sign(BODY, "whsec_attacker", timestamp=T)),
            refused(BODY, HEADER, now=T + 999),
            refused(bad_body, wh.sign(bad_body, SECRET, timestamp=T)),
        )
    }
    assert statuses == {
        "missing_signature": 401,
        "malformed_signature": 400,
        "signature_mismatch": 401,
        "timestamp_out_of_tolerance": 401,
        "malformed_body": 400,
    }


def test_body_must_be_raw_bytes() -> None:
    """Passing decoded text instead of the raw body is a TypeError that says so."""
    with pytest.raises(TypeError, match="raw request bytes"):
        wh.verify(BODY.decode(), HEADER, SECRET, now=T)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("secret", "tolerance"),
    [([], 300), ("", 300), ([SECRET, ""], 300), (SECRET, -1), (SECRET, float("nan"))],
)
def test_bad_configuration_is_a_configuration_error(secret: Any, tolerance: float) -> None:
    """No secret, an empty secret or a negative tolerance is a ConfigurationError, not a refusal."""
    with pytest.raises(ConfigurationError):
        wh.verify(BODY, HEADER, secret, tolerance=tolerance, now=T)
    with pytest.raises(ConfigurationError):
        wh.webhook_handler(secret, lambda event: None, tolerance=tolerance)


# --- DeliveryDeduplicator ----------------------------------------------------------------------


def test_deduplicator_recognises_a_repeat() -> None:
    """The first sighting of an id is new; later ones are duplicates; ids are independent."""
    seen = wh.DeliveryDeduplicator()
    assert seen.is_duplicate("evt_a") is False
    assert seen.is_duplicate("evt_a") is True
    assert seen.is_duplicate("evt_b") is False
    assert ("evt_a" in seen, "evt_c" in seen, len(seen)) == (True, False, 2)


def test_deduplicator_memory_is_bounded_least_recently_seen_first() -> None:
    """Past max_events, the least recently seen id is forgotten; a repeat refreshes an id."""
    seen = wh.DeliveryDeduplicator(max_events=2)
    seen.is_duplicate("a")
    seen.is_duplicate("b")
    assert seen.is_duplicate("a") is True  # refreshes a
    seen.is_duplicate("c")  # evicts b
    assert len(seen) == 2
    assert "b" not in seen
    assert seen.is_duplicate("a") is True
    assert seen.is_duplicate("b") is False


def test_deduplicator_ttl_forgets_ids_not_seen_for_a_while(clock: FakeClock) -> None:
    """With ttl, an id not seen for longer than ttl seconds counts as new again."""
    seen = wh.DeliveryDeduplicator(ttl=60, clock=clock)
    seen.is_duplicate("a")
    clock.now += 30
    seen.is_duplicate("b")
    clock.now += 30
    assert "a" in seen  # exactly 60 s: still remembered
    clock.now += 1
    assert ("a" in seen, "b" in seen, len(seen)) == (False, True, 1)
    assert seen.is_duplicate("a") is False


def test_deduplicator_forget_lets_an_id_through_again() -> None:
    """forget() makes the next delivery of that id new (used after a failed callback)."""
    seen = wh.DeliveryDeduplicator()
    seen.is_duplicate("a")
    seen.forget("a")
    seen.forget("never-seen")
    assert seen.is_duplicate("a") is False


@pytest.mark.parametrize("kwargs", [{"max_events": 0}, {"ttl": 0}, {"ttl": -5}])
def test_deduplicator_rejects_bad_bounds(kwargs: dict[str, Any]) -> None:
    """A size below 1 or a non-positive ttl is a ConfigurationError."""
    with pytest.raises(ConfigurationError):
        wh.DeliveryDeduplicator(**kwargs)


# --- the aiohttp handler over loopback ---------------------------------------------------------


class FixedClock:
    """A wall clock frozen at T."""

    def time(self) -> float:
        return float(T)


@asynccontextmanager
async def serve(
    on_event: wh.EventCallback, **options: Any
) -> AsyncIterator[Callable[..., Awaitable[tuple[int, str]]]]:
    """A loopback server with the handler at /hook; yields `post(body, header)`."""
    options.setdefault("clock", FixedClock())
    app = web.Application()
    app.router.add_post("/hook", wh.webhook_handler(SECRET, on_event, **options))
    async with TestClient(TestServer(app)) as client:

        async def post(body: bytes, header: str | None) -> tuple[int, str]:
            headers = {"Content-Type": "application/json"}
            if header is not None:
                headers[wh.SIGNATURE_HEADER] = header
            async with client.post("/hook", data=body, headers=headers) as resp:
                return resp.status, await resp.text()

        yield post


async def test_handler_answers_200_and_passes_the_event_on() -> None:
    """A valid delivery gets 200 and on_event is called once with the typed event."""
    got: list[WebhookEvent] = []
    async with serve(got.append) as post:
        assert await post(BODY, HEADER) == (200, "OK")
    assert [(e.id, e.data.id, e.data.status) for e in got] == [("evt_0001", "task_0001", "ready")]


async def test_handler_acknowledges_duplicates_without_calling_again() -> None:
    """A repeat delivery of the same event id (even re-signed) gets 200, on_event not called."""
    got: list[WebhookEvent] = []
    async with serve(got.append) as post:
        assert (await post(BODY, HEADER))[0] == 200
        assert await post(BODY, wh.sign(BODY, SECRET, timestamp=T - 60)) == (200, "OK")
        other = encode(event_json(id="evt_0002"))
        assert (await post(other, wh.sign(other, SECRET, timestamp=T)))[0] == 200
    assert [e.id for e in got] == ["evt_0001", "evt_0002"]


async def test_handler_refuses_without_saying_why(caplog: pytest.LogCaptureFixture) -> None:
    """Forged, unsigned and stale deliveries get 401, malformed ones 400: generic bodies only."""
    got: list[WebhookEvent] = []
    bad_body = b'{"id": 1}'
    cases = [
        (BODY, wh.sign(BODY, "whsec_attacker", timestamp=T), 401),
        (BODY, None, 401),
        (BODY, wh.sign(BODY, SECRET, timestamp=T - 301), 401),
        (BODY.replace(b"job-7", b"job-8"), HEADER, 401),
        (BODY, "t=oops", 400),
        (bad_body, wh.sign(bad_body, SECRET, timestamp=T), 400),
    ]
    caplog.set_level(logging.WARNING, logger="twelvelabs_async")
    async with serve(got.append) as post:
        answers = [(await post(body, header), status) for body, header, status in cases]
    for (status, text), expected in answers:
        assert status == expected
        assert text == {401: "Unauthorized", 400: "Bad Request"}[expected]
    assert got == []
    reasons = [r.getMessage() for r in caplog.records]
    assert any("signature_mismatch" in m for m in reasons)
    assert any("timestamp_out_of_tolerance" in m for m in reasons)
    assert all(SECRET not in m for m in reasons)


async def test_handler_answers_before_a_slow_callback_finishes() -> None:
    """With respond_first (default) the sender has its 200 while on_event is still running."""
    release, finished = asyncio.Event(), asyncio.Event()

    async def slow(event: WebhookEvent) -> None:
        await release.wait()
        finished.set()

    async with serve(slow) as post:
        assert await asyncio.wait_for(post(BODY, HEADER), timeout=5) == (200, "OK")
        assert not finished.is_set()
        release.set()
        await asyncio.wait_for(finished.wait(), timeout=5)
    assert finished.is_set()


async def test_handler_logs_a_failing_callback_after_answering(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """An on_event error after the 200 is logged; the event still counts as seen."""
    calls: list[str] = []

    async def broken(event: WebhookEvent) -> None:
        calls.append(event.id)
        raise RuntimeError("database down")

    caplog.set_level(logging.ERROR, logger="twelvelabs_async")
    async with serve(broken) as post:
        assert (await post(BODY, HEADER))[0] == 200
        assert (await post(BODY, HEADER))[0] == 200
    assert calls == ["evt_0001"]
    assert any("on_event raised" in r.getMessage() for r in caplog.records)


async def test_respond_after_callback_answers_500_so_the_retry_is_processed(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """respond_first=False: a failing on_event gives 500 and the retried delivery is processed."""
    calls: list[str] = []

    async def flaky(event: WebhookEvent) -> None:
        calls.append(event.id)
        if len(calls) == 1:
            raise RuntimeError("try again")

    caplog.set_level(logging.CRITICAL, logger="twelvelabs_async")
    async with serve(flaky, respond_first=False) as post:
        assert await post(BODY, HEADER) == (500, "Internal Server Error")
        assert await post(BODY, HEADER) == (200, "OK")
        assert await post(BODY, HEADER) == (200, "OK")  # now a duplicate
    assert calls == ["evt_0001", "evt_0001"]


async def test_dedupe_can_be_off_or_shared() -> None:
    """dedupe=False passes repeats on; one deduplicator shared by two routes sees both."""
    got: list[str] = []
    async with serve(lambda e: got.append(e.id), dedupe=False) as post:
        await post(BODY, HEADER)
        await post(BODY, HEADER)
    assert got == ["evt_0001", "evt_0001"]

    shared = wh.DeliveryDeduplicator()
    got.clear()
    async with serve(lambda e: got.append(e.id), dedupe=shared) as first:
        assert (await first(BODY, HEADER))[0] == 200
    async with serve(lambda e: got.append(e.id), dedupe=shared) as second:
        assert (await second(BODY, HEADER))[0] == 200
    assert got == ["evt_0001"]
    assert "evt_0001" in shared


async def test_handler_tolerance_and_clock_apply() -> None:
    """The handler's replay window follows its `tolerance` and reads time from its `clock`."""
    got: list[WebhookEvent] = []
    stale = wh.sign(BODY, SECRET, timestamp=T - 20)
    async with serve(got.append, tolerance=10) as post:
        assert (await post(BODY, stale))[0] == 401
        assert (await post(BODY, HEADER))[0] == 200
    assert len(got) == 1


def test_webhooks_module_namespace_is_sorted_and_documented() -> None:
    """`twelvelabs_async.webhooks.__all__` is sorted, importable, documented, and shares types."""
    import twelvelabs_async

    assert wh.__all__ == sorted(wh.__all__)
    for name in wh.__all__:
        assert getattr(wh, name) is not None
    for name in ("WebhookEvent", "WebhookEventType", "WebhookTaskData", "WebhookVerificationError"):
        assert getattr(twelvelabs_async, name) is getattr(wh, name)
    for func in (wh.verify, wh.sign, wh.webhook_handler, wh.DeliveryDeduplicator):
        assert (func.__doc__ or "").strip()
