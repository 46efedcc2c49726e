"""client.analyze.tasks against aioresponses: bodies, headers, pagination, errors, and wait()."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime
from typing import Any

import aiohttp
import pytest
from aioresponses import aioresponses

from tests._payloads import calls, page, pages_requested, task
from tests.conftest import API_KEY, BASE_URL, FakeClock
from twelvelabs_async import (
    AnalyzeTask,
    APIError,
    AsyncTwelveLabs,
    AuthenticationError,
    BadRequestError,
    ConflictError,
    DecodeError,
    FinishReason,
    InvalidInputError,
    NotFoundError,
    PermissionDeniedError,
    RateLimitError,
    ServerError,
    TaskStatus,
    TrackingTimeout,
)
from twelvelabs_async._wire import json_as, listed_as

Client = AsyncTwelveLabs
Mock = aioresponses
TASKS = f"{BASE_URL}/analyze/tasks"
T1 = f"{TASKS}/t1"
LIST_URL = re.compile(rf"^{re.escape(TASKS)}\?.*$")
VIDEO = "https://cdn.example/v.mp4"


# --- create ----------------------------------------------------------------------------------


async def test_create_sends_exact_body_and_stable_idempotency_key(
    client: Client, mock_api: Mock, clock: FakeClock
) -> None:
    """Create posts the exact JSON body; a 503 then 202 reuses one Idempotency-Key."""
    mock_api.post(TASKS, status=503)
    mock_api.post(TASKS, status=202, payload=task(status="queued"))
    ref = await client.analyze.tasks.create(
        video=VIDEO,
        prompt="Summarize",
        model_name="pegasus1.5",
        temperature=0.2,
        max_tokens=1024,
        custom_id="job-1",
    )
    assert (ref.task_id, ref.status) == ("t1", TaskStatus.QUEUED)
    sent = calls(mock_api, "POST", TASKS)
    assert len(sent) == 2
    assert len(clock.sleeps) == 1
    for call in sent:
        assert call.kwargs["json"] == {
            "model_name": "pegasus1.5",
            "video": {"type": "url", "url": VIDEO},
            "prompt": "Summarize",
            "temperature": 0.2,
            "max_tokens": 1024,
            "custom_id": "job-1",
        }
    keys = {call.kwargs["headers"]["Idempotency-Key"] for call in sent}
    assert len(keys) == 1
    assert re.fullmatch(r"[0-9a-f]{32}", keys.pop())


async def test_create_uses_given_idempotency_key(client: Client, mock_api: Mock) -> None:
    """An explicit idempotency_key is sent as the Idempotency-Key header."""
    mock_api.post(TASKS, status=202, payload=task(status="pending"))
    await client.analyze.tasks.create(video=VIDEO, prompt="Hi", idempotency_key="order-42")
    (call,) = calls(mock_api, "POST", TASKS)
    assert call.kwargs["headers"]["Idempotency-Key"] == "order-42"
    assert call.kwargs["headers"]["x-api-key"] == API_KEY


@pytest.mark.parametrize("key", ["", "x" * 256, "bad\nkey"])
async def test_create_refuses_bad_idempotency_key(client: Client, mock_api: Mock, key: str) -> None:
    """An empty, over-long or non-printable idempotency_key is refused; nothing is sent."""
    with pytest.raises(InvalidInputError, match="idempotency_key"):
        await client.analyze.tasks.create(video=VIDEO, prompt="Hi", idempotency_key=key)
    assert mock_api.requests == {}


# --- retrieve, cancel, delete ------------------------------------------------------------------


async def test_retrieve_returns_a_typed_task(client: Client, mock_api: Mock) -> None:
    """Retrieve GETs the task and decodes dates, enums and the result."""
    result = {"generation_id": "g1", "data": "A summary.", "finish_reason": "stop"}
    source = {"type": "url", "url": VIDEO, "system_metadata": {"duration": 12.5}}
    mock_api.get(
        T1,
        payload=task(
            created_at="2025-01-02T03:04:05Z",
            custom_id=None,
            video_source=source,
            result={**result, "usage": {"output_tokens": 7}},
        ),
    )
    got = await client.analyze.tasks.retrieve("t1")
    assert got.status == TaskStatus.READY
    assert got.is_terminal
    assert got.created_at == datetime(2025, 1, 2, 3, 4, 5, tzinfo=UTC)
    assert got.video_source.system_metadata.duration == 12.5  # type: ignore[union-attr]
    assert got.result.finish_reason == FinishReason.STOP  # type: ignore[union-attr]
    assert got.result.usage.output_tokens == 7  # type: ignore[union-attr]
    assert len(calls(mock_api, "GET", T1)) == 1


async def test_cancel_posts_to_the_cancel_path(client: Client, mock_api: Mock) -> None:
    """Cancel POSTs /analyze/tasks/{id}/cancel with no body and returns the TaskRef."""
    mock_api.post(f"{T1}/cancel", payload=task(status="canceled"))
    ref = await client.analyze.tasks.cancel("t1")
    assert (ref.task_id, ref.status) == ("t1", TaskStatus.CANCELED)
    (call,) = calls(mock_api, "POST", f"{T1}/cancel")
    assert call.kwargs["json"] is None


@pytest.mark.parametrize("status", [200, 204])
async def test_delete_accepts_an_empty_body(client: Client, mock_api: Mock, status: int) -> None:
    """Delete returns None on an empty 200 or 204."""
    mock_api.delete(T1, status=status, body=b"")
    assert await client.analyze.tasks.delete("t1") is None
    assert len(calls(mock_api, "DELETE", T1)) == 1


async def test_an_id_goes_on_the_wire_exactly_as_checked(client: Client, mock_api: Mock) -> None:
    """A valid id is the path segment as it is: nothing quoted, nothing for a URL parser to undo.

    Changed by design: this test sent `a?b#c` percent-quoted; such an id is now refused.
    """
    task_id = "6650f1a3e4b0c2d1a9f3e7b2"
    mock_api.get(f"{TASKS}/{task_id}", payload=task(task_id))
    await client.analyze.tasks.retrieve(task_id)
    ((method, url),) = mock_api.requests
    assert (method, url.raw_path) == ("GET", f"/v1.3/analyze/tasks/{task_id}")


BAD_IDS = ["", "a/b", "..", ".", "a b", "a\nb", "a\\b", "\u200bx", 42, None]
BAD_IDS += ["..;", "..;jsessionid=1", ".;x", "a?b#c", "%2e%2e", "x" * 10_000]


@pytest.mark.parametrize("bad", BAD_IDS)
@pytest.mark.parametrize("method", ["retrieve", "cancel", "delete", "wait"])
async def test_invalid_ids_are_refused_before_any_request(
    client: Client, mock_api: Mock, bad: Any, method: str
) -> None:
    """A non-string, empty, path-like or whitespace id raises InvalidInputError; nothing sent."""
    with pytest.raises(InvalidInputError, match="task_id"):
        await getattr(client.analyze.tasks, method)(bad)
    assert mock_api.requests == {}


# --- errors ----------------------------------------------------------------------------------


ERRORS = [
    # (method, call, status, body, class, code, message)
    ("GET", "retrieve", 401, {"code": "api_key_invalid", "message": "Bad key."},
     AuthenticationError, "api_key_invalid", "GET /analyze/tasks/t1: Bad key."),
    ("GET", "retrieve", 404, {"error": {"code": "resource_not_exist", "message": "No t1."}},
     NotFoundError, "resource_not_exist", "GET /analyze/tasks/t1: No t1."),
    ("DELETE", "delete", 409, {"error": {"code": "task_in_progress", "message": "Busy."}},
     ConflictError, "task_in_progress", "DELETE /analyze/tasks/t1: Busy."),
]  # fmt: skip


@pytest.mark.parametrize("case", ERRORS, ids=["flat-401", "nested-404", "nested-409-delete"])
async def test_error_bodies_map_to_classes(
    client: Client, mock_api: Mock, clock: FakeClock, case: tuple[Any, ...]
) -> None:
    """Flat 401, nested 404 and nested 409 map to their class with code and message, no retry."""
    method, call, status, body, cls, code, message = case
    mock_api.add(T1, method, status=status, payload=body, repeat=True)
    with pytest.raises(cls) as info:
        await getattr(client.analyze.tasks, call)("t1")
    err = info.value
    assert (type(err), err.status_code, err.code, err.message) == (cls, status, code, message)
    assert str(err) == f"{status} {code}: {message}"
    assert err.body == body
    assert len(calls(mock_api, method, T1)) == 1
    assert clock.sleeps == []


async def test_empty_429_maps_to_rate_limit_error(
    client: Client, mock_api: Mock, clock: FakeClock
) -> None:
    """An empty-body 429 is retried, then RateLimitError with no code and a default message."""
    mock_api.get(T1, status=429, body=b"", repeat=True)
    with pytest.raises(RateLimitError) as info:
        await client.analyze.tasks.retrieve("t1")
    err = info.value
    assert (err.code, err.body, err.retry_after) == (None, None, None)
    assert err.message == "GET /analyze/tasks/t1: rate limit exceeded; slow down and retry later"
    assert len(calls(mock_api, "GET", T1)) == 4
    assert len(clock.sleeps) == 3


@pytest.mark.parametrize(
    ("status", "cls"),
    [(400, BadRequestError), (403, PermissionDeniedError), (410, APIError), (500, ServerError)],
)
async def test_cancel_errors_map_to_classes(
    client: Client, mock_api: Mock, status: int, cls: type[APIError]
) -> None:
    """Cancel error statuses map to their class, carrying the body's code."""
    body = {"error": {"code": f"e{status}", "message": "no"}}
    mock_api.post(f"{T1}/cancel", status=status, payload=body, repeat=True)
    with pytest.raises(cls) as info:
        await client.analyze.tasks.cancel("t1")
    assert type(info.value) is cls
    assert (info.value.status_code, info.value.code) == (status, f"e{status}")


# --- list ------------------------------------------------------------------------------------


async def test_list_sends_page_and_filters(client: Client, mock_api: Mock) -> None:
    """List sends page, page_limit and each filter given as query parameters."""
    mock_api.get(LIST_URL, payload=page(["a"], total_page=1))
    filters = {"video_url": VIDEO, "asset_id": "as_1", "analysis_mode": "time_based_metadata"}
    tasks = client.analyze.tasks.list(status=TaskStatus.READY, page_limit=10, **filters)
    got = await tasks.page(1)
    assert [t.task_id for t in got.data] == ["a"]
    ((method, url),) = mock_api.requests
    assert (method, url.path) == ("GET", "/v1.3/analyze/tasks")
    assert dict(url.query) == {"page": "1", "page_limit": "10", "status": "ready", **filters}


async def test_list_iterates_all_pages_and_stops_at_total_page(
    client: Client, mock_api: Mock
) -> None:
    """Iteration yields every task of pages 1..total_page and never requests page 3."""
    mock_api.get(f"{TASKS}?page=1&page_limit=2", payload=page(["a", "b"], page=1, total_page=2))
    mock_api.get(f"{TASKS}?page=2&page_limit=2", payload=page(["c", "d"], page=2, total_page=2))
    mock_api.get(f"{TASKS}?page=3&page_limit=2", payload=page([], page=3, total_page=2))
    ids = [t.task_id async for t in client.analyze.tasks.list(page_limit=2)]
    assert ids == ["a", "b", "c", "d"]
    assert pages_requested(mock_api) == [1, 2]


@pytest.mark.parametrize(("last", "expected"), [(["c"], "abc"), ([], "ab")])
async def test_list_stops_on_short_or_empty_page_without_total_page(
    client: Client, mock_api: Mock, last: list[str], expected: str
) -> None:
    """Without total_page, a page shorter than page_limit (or empty) is the last one."""
    mock_api.get(f"{TASKS}?page=1&page_limit=2", payload={"data": [task("a"), task("b")]})
    mock_api.get(f"{TASKS}?page=2&page_limit=2", payload=page(last, page=2))
    mock_api.get(f"{TASKS}?page=3&page_limit=2", payload=page(["x"], page=3))
    ids = [t.task_id async for t in client.analyze.tasks.list(page_limit=2)]
    assert ids == list(expected)
    assert pages_requested(mock_api) == [1, 2]


async def test_list_pages_yields_whole_pages(client: Client, mock_api: Mock) -> None:
    """.pages() yields each TaskPage with its page_info; .pages(start=2) starts at page 2."""
    for n in (1, 2, 3):
        mock_api.get(
            f"{TASKS}?page={n}&page_limit=1",
            payload=page([f"t{n}"], page=n, total_page=3, total_results=3),
            repeat=True,
        )
    tasks = client.analyze.tasks.list(page_limit=1)
    pages = [p async for p in tasks.pages()]
    assert [p.page_info.page for p in pages] == [1, 2, 3]
    assert [p.data[0].task_id for p in pages] == ["t1", "t2", "t3"]
    assert pages[0].page_info.total_results == 3
    later = [p.page_info.page async for p in tasks.pages(start=2)]
    assert later == [2, 3]


async def test_list_page_fetches_one_page(client: Client, mock_api: Mock) -> None:
    """.page(n) requests exactly page n once."""
    mock_api.get(f"{TASKS}?page=3&page_limit=50", payload=page(["z"], page=3, total_page=5))
    got = await client.analyze.tasks.list().page(3)
    assert got.page_info.total_page == 5
    assert [t.task_id for t in got.data] == ["z"]
    assert pages_requested(mock_api) == [3]


@pytest.mark.parametrize("limit", [0, 51, -1, True, "10", 2.0])
async def test_list_refuses_bad_page_limit(client: Client, mock_api: Mock, limit: Any) -> None:
    """page_limit outside 1-50 or not an int is refused before any request."""
    with pytest.raises(InvalidInputError, match="page_limit"):
        client.analyze.tasks.list(page_limit=limit)
    assert mock_api.requests == {}


# --- wait ------------------------------------------------------------------------------------


def assert_backoff(sleeps: list[float], first: float, cap: float) -> None:
    """Each sleep is within +-20 % of its interval, which grows 1.5x from `first` up to `cap`."""
    interval = first
    for delay in sleeps:
        assert 0.8 * interval <= delay <= 1.2 * interval
        interval = min(cap, interval * 1.5)


async def test_wait_polls_until_ready_with_growing_backoff(
    poller: Client, mock_api: Mock, clock: FakeClock
) -> None:
    """Wait polls at once, then at growing jittered intervals, and returns the ready task."""
    for status in ["queued", "pending"] + ["processing"] * 8:
        mock_api.get(T1, payload=task(status=status))
    mock_api.get(T1, payload=task(status="ready"))
    got = await poller.analyze.tasks.wait("t1", poll_interval=1.0, max_poll_interval=8.0)
    assert got.status == TaskStatus.READY
    assert len(calls(mock_api, "GET", T1)) == 11
    assert len(clock.sleeps) == 10
    assert_backoff(clock.sleeps, 1.0, 8.0)
    assert clock.sleeps[5] > clock.sleeps[0] * 3  # 1.5**5 = 7.6x, jitter at most 1.5x
    assert max(clock.sleeps) <= 8.0 * 1.2


@pytest.mark.parametrize("status", ["failed", "canceled"])
async def test_wait_returns_failed_and_canceled_tasks(
    poller: Client, mock_api: Mock, status: str
) -> None:
    """A failed or canceled task is returned (with its error), not raised."""
    mock_api.get(T1, payload=task(status="processing"))
    mock_api.get(T1, payload=task(status=status, error={"code": "user_canceled", "message": "x"}))
    got = await poller.analyze.tasks.wait("t1")
    assert got.status == status
    assert got.error is not None
    assert got.error.code == "user_canceled"


async def test_wait_keeps_polling_through_transient_errors(
    poller: Client, mock_api: Mock, clock: FakeClock
) -> None:
    """5xx, a dropped connection, a bad body and 408 are polled through with jittered backoff."""
    mock_api.get(T1, status=503)
    mock_api.get(T1, status=500, payload={"error": {"code": "internal", "message": "x"}})
    mock_api.get(T1, exception=aiohttp.ServerDisconnectedError())
    mock_api.get(T1, body=b"<html>")
    mock_api.get(T1, status=408)
    mock_api.get(T1, payload=task(status="ready"))
    start = clock.monotonic()
    got = await poller.analyze.tasks.wait("t1", poll_interval=1.0, max_poll_interval=30.0)
    before_429 = clock.monotonic() - start
    # five failures back off with full jitter, each wait in [0.5, min(30, 2 ** (n - 1))] s
    assert 5 * 0.5 <= before_429 <= 1 + 2 + 4 + 8 + 16
    assert got.status == "ready"
    assert len(calls(mock_api, "GET", T1)) == 6


async def test_wait_honours_retry_after_on_429(
    poller: Client, mock_api: Mock, clock: FakeClock
) -> None:
    """A 429 with Retry-After: 40 holds the next poll for 40 s, then polling goes on."""
    mock_api.get(T1, status=429, headers={"Retry-After": "40"})
    mock_api.get(T1, payload=task(status="ready"))
    start = clock.monotonic()
    got = await poller.analyze.tasks.wait("t1", poll_interval=1.0, max_poll_interval=30.0)
    assert got.status == "ready"
    assert 40.0 <= clock.monotonic() - start <= 41.0
    assert len(calls(mock_api, "GET", T1)) == 2


@pytest.mark.parametrize(
    ("status", "cls"),
    [(404, NotFoundError), (401, AuthenticationError), (403, PermissionDeniedError)],
)
async def test_wait_raises_at_once_on_final_errors(
    poller: Client, mock_api: Mock, clock: FakeClock, status: int, cls: type[APIError]
) -> None:
    """404, 401 and 403 raise from wait after one poll and no sleep."""
    mock_api.get(T1, status=status, payload={"error": {"code": "c", "message": "m"}})
    mock_api.get(T1, payload=task(status="ready"))
    start = clock.monotonic()
    with pytest.raises(cls):
        await poller.analyze.tasks.wait("t1", timeout=60)
    assert len(calls(mock_api, "GET", T1)) == 1
    assert clock.monotonic() == start


async def test_wait_raises_tracking_timeout_at_the_deadline(
    poller: Client, mock_api: Mock, clock: FakeClock
) -> None:
    """A task still pending at the deadline raises TrackingTimeout naming it, exactly on time."""
    mock_api.get(T1, payload=task(status="processing"), repeat=True)
    start = clock.monotonic()
    with pytest.raises(TrackingTimeout) as info:
        await poller.analyze.tasks.wait("t1", timeout=10, poll_interval=1.0)
    assert info.value.pending == frozenset({"t1"})
    assert str(info.value) == "task t1 did not finish within 10s"
    assert isinstance(info.value, TimeoutError)
    assert clock.monotonic() - start == pytest.approx(10.0)
    # polls at 0, then after ~1, ~1.5, ~2.25, ~3.4 s (+-20 %): 4 to 6 polls fit in 10 s
    assert 4 <= len(calls(mock_api, "GET", T1)) <= 6


@pytest.mark.parametrize("headers", [{"Retry-After": "50"}, {}])
async def test_wait_deadline_bounds_retries_inside_a_poll(
    client: Client, mock_api: Mock, clock: FakeClock, headers: dict[str, str]
) -> None:
    """Request retries inside a poll never sleep past wait()'s deadline."""
    mock_api.get(T1, status=503, headers=headers, repeat=True)
    start = clock.monotonic()
    with pytest.raises(TrackingTimeout):
        await client.analyze.tasks.wait("t1", timeout=5)
    assert clock.monotonic() - start == pytest.approx(5.0)
    assert max(clock.sleeps) <= 5.0


@pytest.mark.parametrize(
    "kwargs",
    [{"poll_interval": 0}, {"poll_interval": 2, "max_poll_interval": 1}, {"timeout": -1}],
)
async def test_wait_refuses_bad_intervals(
    poller: Client, mock_api: Mock, kwargs: dict[str, float]
) -> None:
    """Out-of-range poll_interval, max_poll_interval or timeout is refused before polling."""
    with pytest.raises(InvalidInputError):
        await poller.analyze.tasks.wait("t1", **kwargs)
    assert mock_api.requests == {}


# --- list pages as a tracker's sweeps read them --------------------------------------------------


def listed_body(*items: Any) -> bytes:
    """A list page of `items` as the API writes it."""
    info = {"page": 1, "limit_per_page": 50, "total_page": 1, "total_results": len(items)}
    return json.dumps({"data": list(items), "page_info": info}).encode()


def test_a_listed_page_reads_ids_statuses_and_creation_times_and_decodes_the_rest_on_demand() -> (
    None
):
    """Each item's id, status and created_at are read at once; full() is the complete task."""
    decode = listed_as(AnalyzeTask, "task_id")
    result = {
        "generation_id": "g",
        "data": "x",
        "finish_reason": "stop",
        "usage": {"output_tokens": 1},
    }
    ready = task(created_at="2026-01-02T03:04:05Z", result=result)
    bare = {"task_id": "t2", "status": "a_new_status"}  # no created_at; a status not known yet
    got = decode(listed_body(ready, bare), 200)
    assert [(i.id, i.status) for i in got.data] == [("t1", "ready"), ("t2", "a_new_status")]
    assert got.data[0].created == datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC).timestamp()
    assert got.data[1].created is None
    assert got.page_info.total_results == 2
    full = got.data[0].full()
    assert full == json_as(AnalyzeTask)(json.dumps(ready).encode(), 200)
    assert full.result is not None
    assert full.result.data == "x"


def test_a_listed_item_malformed_beyond_what_a_sweep_reads_fails_only_when_decoded() -> None:
    """A bad field elsewhere in an item leaves the page readable; full() names its JSON path."""
    decode = listed_as(AnalyzeTask, "task_id")
    result = {
        "generation_id": "g",
        "data": "x",
        "finish_reason": "stop",
        "usage": {"output_tokens": "many"},
    }
    bad = task(result=result)
    got = decode(listed_body(task(task_id="t0"), bad), 200)
    assert [i.id for i in got.data] == ["t0", "t1"]
    with pytest.raises(DecodeError) as caught:
        got.data[1].full()
    assert caught.value.path == "$.data[1].result.usage.output_tokens"
    assert str(caught.value).endswith("@ $.data[1].result.usage.output_tokens")
    assert caught.value.status_code == 200


@pytest.mark.parametrize(
    ("body", "path"),
    [
        (b"[]", "$"),
        (b"{}", "$.data"),
        (listed_body({"task_id": 7, "status": "ready"}), "$.data[0].task_id"),
        (listed_body(task(), {"task_id": "t2"}), "$.data[1].status"),
        (
            listed_body({"task_id": "t", "status": "ready", "created_at": "soon"}),
            "$.data[0].created_at",
        ),
        (listed_body("t1"), "$.data[0]"),
    ],
)
def test_a_listed_page_without_what_a_sweep_reads_is_malformed(body: bytes, path: str) -> None:
    """A page whose ids, statuses or creation times are unreadable is a DecodeError at once."""
    with pytest.raises(DecodeError) as caught:
        listed_as(AnalyzeTask, "task_id")(body, 200)
    assert caught.value.path == path
