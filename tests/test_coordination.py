"""The coordination layer without a Redis server: the local coordinator, header reading, key
names, URL redaction, the local stand-in bucket, and a `RedisCoordinator` whose Redis cannot be
reached (the real-server tests are in `test_coordination_redis.py`).
"""

from __future__ import annotations

import logging
import subprocess
import sys
import tomllib
from datetime import UTC, datetime
from email.utils import formatdate
from pathlib import Path

import anyio
import anyio.lowlevel
import pytest

from tests._redis_server import free_port, unavailable
from tests.conftest import FakeClock
from twelvelabs_async import ConfigurationError
from twelvelabs_async._priority import PrioritySlots
from twelvelabs_async.coordination import (
    Coordinator,
    Keys,
    LocalCoordinator,
    RedisCoordinator,
    SharedEvent,
    SharedEventData,
)
from twelvelabs_async.coordination._limits import Report, read_report, shared_rate
from twelvelabs_async.coordination._local import LocalBucket
from twelvelabs_async.coordination._redis import INSTALL_HINT, shown_url
from twelvelabs_async.webhooks import WebhookEvent, WebhookTaskData

# --- what a response says --------------------------------------------------------------------


def test_rate_limit_headers_are_read_strictly() -> None:
    """Plain numbers are read, in any header case; anything else counts as missing."""
    report = read_report(
        200,
        {"x-ratelimit-limit": "3000", "X-RateLimit-Remaining": " 12 ", "X-Ratelimit-Reset": "17.5"},
    )
    assert report == Report(200, limit=3000, remaining=12, reset=17.5)
    odd_headers = {"X-Ratelimit-Limit": "1e3", "X-Ratelimit-Remaining": "-1", "Retry-After": "nan"}
    odd = read_report(429, odd_headers)
    assert odd == Report(429)
    assert read_report(200, {"X-Ratelimit-Limit": "0"}).limit is None


def test_retry_after_in_seconds_milliseconds_or_a_date() -> None:
    """`Retry-After` seconds are relative, an HTTP date is absolute, `retry-after-ms` counts."""
    assert read_report(429, {"Retry-After": "2"}).retry_after == 2.0
    assert read_report(429, {"retry-after-ms": "1500"}).retry_after == 1.5
    dated = read_report(429, {"Retry-After": formatdate(1_800_000_000, usegmt=True)})
    assert dated.retry_at == 1_800_000_000
    assert dated.retry_after is None


def test_the_shared_rate_is_95_percent_of_the_lower_limit() -> None:
    """`rpm` and a stated limit are per minute; the lower one wins, less a 5 % reserve."""
    assert shared_rate(3000, None) == pytest.approx(47.5)
    assert shared_rate(3000, 600) == pytest.approx(9.5)
    assert shared_rate(None, None) is None


# --- names and secrets -----------------------------------------------------------------------


def test_every_key_is_under_the_namespace_prefix() -> None:
    """Each key and channel starts with `twelvelabs:{<namespace>}:` (one cluster slot)."""
    keys = Keys("prod-eu")
    names = [keys.bucket, keys.pause, keys.lease("task"), keys.members, keys.ids("task", "m1")]
    names += [keys.status_channel("m1"), keys.event_channel]
    assert keys.prefix == "twelvelabs:{prod-eu}:"
    assert all(name.startswith(keys.prefix) for name in names)
    assert len(set(names)) == len(names)


@pytest.mark.parametrize("namespace", ["", "a b", "x" * 65, "a:b", "a{b}", 7])
def test_a_bad_namespace_is_refused(namespace: object) -> None:
    """A namespace that is not 1-64 of `A-Z a-z 0-9 _ . -` is a `ConfigurationError`."""
    with pytest.raises(ConfigurationError, match="namespace must be"):
        RedisCoordinator.from_url("redis://localhost", namespace=namespace)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("url", "shown"),
    [
        ("redis://:hunter2@cache:6379/0", "redis://:***@cache:6379/0"),
        ("rediss://app:hunter2@cache.example:6380/2", "rediss://app:***@cache.example:6380/2"),
        ("redis://cache/0?password=hunter2", "redis://cache/0"),
        ("unix:///run/redis.sock", "unix:///run/redis.sock"),
    ],
)
def test_urls_are_shown_without_their_password(url: str, shown: str) -> None:
    """The password (in the authority or the query) never appears in a shown URL."""
    assert shown_url(url) == shown


# --- the local coordinator -------------------------------------------------------------------


async def test_the_local_coordinator_delivers_in_process() -> None:
    """Statuses reach subscribers for registered ids only; events reach every subscriber until
    it cancels; leases are always held and `acquire` does not wait.
    """
    local: Coordinator = LocalCoordinator()
    statuses: list[tuple[str, str]] = []
    events: list[SharedEvent] = []
    local.subscribe_statuses("task", lambda i, s: statuses.append((i, s)))
    subscription = local.subscribe_events(events.append)
    await local.register("task", ["t1", "t2"])
    await local.unregister("task", ["t2"])
    await local.publish_statuses("task", {"t1": "ready", "t2": "ready", "t3": "failed"})
    assert statuses == [("t1", "ready")]
    assert await local.tracked("task") == {"t1"}
    created = datetime(2026, 1, 1, tzinfo=UTC)
    data = WebhookTaskData("t1", "ready", created)
    event = WebhookEvent("evt", "analyze.task.ready", created, data)
    await local.publish_event(event)
    subscription.cancel()
    subscription.cancel()
    await local.publish_event(event)
    assert events == [SharedEvent("evt", "analyze.task.ready", SharedEventData("t1", "ready"))]
    assert await local.take_lease("task")
    assert await local.renew_lease("task")
    await local.release_lease("task")
    with anyio.fail_after(1):
        await local.acquire(3)
    await local.report(429, {"Retry-After": "5"})
    assert await local.paused_for() == 0  # the tracker's own budget pauses, not this one
    assert not local.shared
    await local.aclose()


async def test_a_failing_subscriber_does_not_stop_the_others(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """A subscriber that raises is logged with its traceback; the next one is still called."""
    local = LocalCoordinator()
    seen: list[str] = []

    def broken(event: SharedEvent) -> None:
        raise RuntimeError("subscriber bug")

    local.subscribe_events(broken)
    local.subscribe_events(lambda e: seen.append(e.id))
    await local.publish_event(SharedEvent("e1", "", SharedEventData("t", "ready")))
    assert seen == ["e1"]
    assert "subscriber bug" in caplog.text


def test_a_bad_kind_is_refused() -> None:
    """A kind that is not a short lowercase noun is a `ConfigurationError`."""
    with pytest.raises(ConfigurationError, match="kind must be"):
        LocalCoordinator().subscribe_statuses("Task:*", lambda i, s: None)


# --- the local stand-in bucket ---------------------------------------------------------------


async def test_the_local_bucket_paces_and_pauses(clock: FakeClock) -> None:
    """At rpm 60 (0.95 a second) tokens come that fast; a 429's `Retry-After` holds them."""
    bucket = LocalBucket(clock, rpm=60)
    start = clock.now
    for _ in range(3):
        await bucket.acquire(0)
    assert clock.now - start == pytest.approx(2 / 0.95, rel=1e-3)
    bucket.observe(read_report(429, {"Retry-After": "10"}))
    assert bucket.paused_for() == pytest.approx(10)
    before = clock.now
    await bucket.acquire(0)
    assert clock.now - before >= 10


async def test_a_lock_of_one_slot_serves_the_most_urgent_first() -> None:
    """Waiters get a one-slot `PrioritySlots` (the local bucket's turn) by priority, then FIFO."""
    lock = PrioritySlots(1)
    order: list[str] = []
    await lock.acquire(2)

    async def wait(name: str, priority: int) -> None:
        await lock.acquire(priority)
        order.append(name)
        lock.release()

    async with anyio.create_task_group() as tg:
        for name, priority in [("poll", 2), ("safety", 3), ("finish", 0), ("poll2", 2)]:
            tg.start_soon(wait, name, priority)
            await anyio.lowlevel.checkpoint()
        assert lock.used == 1  # held: all four wait
        lock.release()
    assert order == ["finish", "poll", "poll2", "safety"]


# --- RedisCoordinator without a server -------------------------------------------------------


def test_without_redis_py_the_error_names_the_install_command(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Made without redis-py installed, a `RedisCoordinator` says what to install."""
    monkeypatch.setitem(sys.modules, "redis.asyncio", None)
    with pytest.raises(ConfigurationError) as raised:
        RedisCoordinator.from_url("redis://localhost", namespace="x")
    assert INSTALL_HINT in str(raised.value)
    assert INSTALL_HINT == "pip install 'twelvelabs-async[redis]'"


def _needs_redis_py() -> None:
    try:
        import redis.asyncio  # noqa: F401
    except ImportError:
        unavailable("redis-py is not installed")


@pytest.mark.parametrize(
    ("option", "value"),
    [("lease_ttl", 6), ("lease_ttl", 0), ("registry_ttl", -1), ("timeout", 0), ("rpm", 0)],
)
def test_bad_options_are_refused(option: str, value: float) -> None:
    """A lease over 5 s, a non-positive time or rate is a `ConfigurationError`."""
    _needs_redis_py()
    with pytest.raises(ConfigurationError, match=option):
        RedisCoordinator.from_url("redis://localhost", namespace="x", **{option: value})


def test_a_url_that_is_not_redis_is_refused_without_its_password() -> None:
    """An unknown scheme is a `ConfigurationError` whose message hides the password."""
    _needs_redis_py()
    with pytest.raises(ConfigurationError) as raised:
        RedisCoordinator.from_url("http://user:hunter2@cache:6379", namespace="x")
    assert "hunter2" not in str(raised.value)
    assert "redis://, rediss://" in str(raised.value)


async def test_rediss_urls_use_tls_and_hide_the_password() -> None:
    """`rediss://` makes TLS connections with certificates verified; the repr shows `***`."""
    _needs_redis_py()
    coordinator = RedisCoordinator.from_url("rediss://:hunter2@cache:6380/1", namespace="x")
    pool = coordinator._client.connection_pool
    assert pool.connection_class.__name__ == "SSLConnection"
    assert pool.connection_kwargs.get("ssl_cert_reqs", "required") == "required"  # verified
    assert "hunter2" not in repr(coordinator)
    assert repr(coordinator).startswith("RedisCoordinator(url='rediss://:***@cache:6380/1'")
    await coordinator.aclose()


async def test_unreachable_redis_is_local_behaviour_logged_once(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """With nothing listening, every call returns as a local coordinator's would, no exception
    reaches the caller, and one WARNING (without the password) says so.
    """
    _needs_redis_py()
    caplog.set_level(logging.DEBUG)
    url = f"redis://:hunter2@127.0.0.1:{free_port()}/0"
    seen: list[tuple[str, str]] = []
    async with RedisCoordinator.from_url(url, namespace="down", rpm=6000) as coordinator:
        coordinator.subscribe_statuses("task", lambda i, s: seen.append((i, s)))
        for _ in range(3):
            await coordinator.acquire(1)
            await coordinator.report(429, {})
            await coordinator.register("task", ["t1"])
            assert await coordinator.take_lease("task")
            assert await coordinator.tracked("task") == {"t1"}
            await coordinator.publish_statuses("task", {"t1": "ready"})
            await coordinator.heartbeat()
        assert await coordinator.paused_for() > 0  # the local pause after the 429
        assert not coordinator.shared
    assert seen == [("t1", "ready")] * 3
    warnings = [r for r in caplog.records if r.levelno >= logging.WARNING]
    assert len(warnings) == 1
    assert "unreachable" in warnings[0].getMessage()
    assert "hunter2" not in caplog.text


def test_the_core_install_never_imports_redis() -> None:
    """Importing the package (coordination included) loads no redis module; `redis` is an extra
    of its own, and no core dependency.
    """
    code = (
        "import sys, twelvelabs_async.coordination; "
        "print(sorted(m for m in sys.modules if m.split('.')[0] == 'redis'))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
    project = tomllib.loads((Path(__file__).parent.parent / "pyproject.toml").read_text())[
        "project"
    ]
    assert project["optional-dependencies"]["redis"] == ["redis>=5.0.1"]
    assert not any(dep.startswith("redis") for dep in project["dependencies"])
