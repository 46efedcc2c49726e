"""`RedisCoordinator`: one budget, one sweep and webhook wake-ups shared through Redis.

The only module of the package that imports `redis` (redis-py's asyncio client, the
`twelvelabs-async[redis]` extra), and only when a coordinator is made: the core install never
needs it. Every key is under `twelvelabs:{<namespace>}:` (`_keys.py`); the atomic parts are
Lua scripts timed by the Redis server's clock (`_redis_scripts.py`).

Redis failing is never the caller's failure: a call that cannot reach Redis (refused, timed
out, restarted) falls back to local behaviour (a local bucket, this process's own sweeps, its
own subscribers), logs a WARNING once, and Redis is tried again after `PROBE_INTERVAL`; once it
answers, the registered ids are written back and the coordinator rejoins.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import math
import os
import secrets
from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
from types import TracebackType
from typing import Any, Final, TypeVar
from urllib.parse import urlsplit

import anyio

from .._clock import Clock
from ..errors import ConfigurationError
from . import _redis_scripts as scripts
from ._admission import Admission
from ._keys import Keys, check_kind, check_namespace
from ._limits import (
    BURST,
    CAPACITY,
    MAX_PAUSE,
    MIN_RESERVE,
    RESERVE_SHARE,
    THROTTLE_PAUSE,
    priority_share,
    read_report,
    shared_rate,
)
from ._local import Fanout, LocalBucket, default_clock, shared_event
from ._protocol import (
    Event,
    EventCallback,
    SharedEvent,
    SharedEventData,
    StatusCallback,
    Subscription,
)

logger = logging.getLogger("twelvelabs_async")

T = TypeVar("T")

INSTALL_HINT = "pip install 'twelvelabs-async[redis]'"
"""What to install for `RedisCoordinator` (redis-py's asyncio client)."""
PROBE_INTERVAL = 1.0
"""Seconds between attempts to reach Redis again after it failed."""
BUCKET_TTL_MS = 3_600_000
"""The shared bucket is forgotten after an hour without requests."""
MAX_LEASE_TTL = 5.0
"""The longest sweep lease, in seconds: a dead holder's lease runs out within this."""
MAX_CONNECTIONS = 32
"""Connections a coordinator opens to Redis at most (its calls wait for a free one)."""
CHUNK = 1000
"""Ids per Redis command when registering or publishing many."""


CLAMP_ROUNDS = 2
"""Reports a request sends at most for the remaining allowances merged while it sent one; what
is left is sent by the next."""


def _newest_lowest(kept: list[float] | None, new: list[float]) -> list[float]:
    """Of two `REPORT` argument lists stating a remaining allowance, the one to send.

    The later window's (by reset time), then the lower.
    """
    if kept is None:
        return new
    return min(kept, new, key=lambda a: (-a[4], a[2]))


class _Down:
    """The result of a call that could not reach Redis."""


DOWN: Final = _Down()


def _import_redis() -> Any:
    try:
        import redis.asyncio as redis_asyncio
    except ImportError:
        raise ConfigurationError(
            "RedisCoordinator needs redis-py (its asyncio client), which is not installed: "
            f"{INSTALL_HINT}"
        ) from None
    return redis_asyncio


def shown_url(url: str) -> str:
    """The URL as it may be logged or shown: never its password.

    Scheme, user, host, port and path; the password is replaced by `***`, and the query string
    (which may carry one too) is left out.
    """
    try:
        parts = urlsplit(url)
        host = parts.hostname or ""
        port = f":{parts.port}" if parts.port else ""
    except ValueError:
        return "<unparsable URL>"
    user = parts.username or ""
    auth = ""
    if parts.password is not None:
        auth = f"{user}:***@"
    elif user:
        auth = f"{user}@"
    host = f"[{host}]" if ":" in host else host
    return f"{parts.scheme}://{auth}{host}{port}{parts.path}"


class RedisCoordinator:
    """The processes of one deployment share a budget, a sweep and webhook wake-ups in Redis.

    Make it with `RedisCoordinator.from_url(url, namespace=...)`, and use it as
    `async with coordinator:` to run its heartbeats and its subscriptions (the calls work
    without, but statuses and events published by other processes only arrive inside it).

    Redis failing is not the caller's failure: no method raises because of Redis. While it is
    unreachable, the coordinator behaves as a local one (a local bucket at the rate it knows,
    its own sweeps, its own subscribers), logs a WARNING once, and rejoins when Redis answers
    again (writing its registered ids back: a restarted Redis has lost them).

    The password of the URL is never logged nor shown (`repr` shows `***`); the API key is
    never given to the coordinator, so never stored in Redis.
    """

    def __init__(
        self,
        client: Any,
        *,
        namespace: str,
        url: str,
        rpm: float | None,
        lease_ttl: float,
        registry_ttl: float,
        timeout: float,
        clock: Clock,
        errors: tuple[type[BaseException], ...],
    ) -> None:
        self._client = client
        self._keys = Keys(check_namespace(namespace))
        parts = urlsplit(url)
        self._secret = parts.password or ""
        self._url = shown_url(url)
        self._rpm = rpm
        self._lease_ttl = lease_ttl
        self._registry_ttl = registry_ttl
        self._timeout = timeout
        self._clock = clock
        self._errors = errors
        self.member = f"{os.getpid()}-{secrets.token_hex(6)}"
        """This coordinator's name among the members of the namespace."""
        self._up = True
        self._joined = False
        self._retry_at = float("-inf")
        self._resync = False
        self._limit: int | None = None
        self._sent_rate: float | None = None
        self._sending_rate: float | None = None
        self._clamp: list[float] | None = None
        self._reporting = False
        self._fanout = Fanout()
        self._local = LocalBucket(clock, rpm)
        self._admission = Admission(self._ask, clock)
        self._leases: set[str] = set()
        self._runner: asyncio.Task[None] | None = None
        self._stop: anyio.Event | None = None
        self._listening: anyio.Event | None = None
        self._take = client.register_script(scripts.TAKE)
        self._report = client.register_script(scripts.REPORT)
        self._paused = client.register_script(scripts.PAUSED)
        self._renew = client.register_script(scripts.RENEW)
        self._release = client.register_script(scripts.RELEASE)
        self._beat = client.register_script(scripts.HEARTBEAT)
        self._live = client.register_script(scripts.LIVE)

    @classmethod
    def from_url(
        cls,
        url: str,
        *,
        namespace: str,
        rpm: float | None = None,
        lease_ttl: float = 2.5,
        registry_ttl: float = 15.0,
        timeout: float = 1.0,
        clock: Clock | None = None,
    ) -> RedisCoordinator:
        """A coordinator on the Redis server at `url`; nothing is sent until it is used.

        Args:
            url: `redis://[user:password@]host:port/db`, `rediss://...` for TLS (certificates
                verified), or `unix:///path/to/socket`. The password is never logged.
            namespace: the deployment: processes sharing it share one budget, one sweep and
                their webhook events; 1-64 characters of `A-Z a-z 0-9 _ . -`. Every key is
                `twelvelabs:{<namespace>}:...`.
            rpm: the organization's requests-per-minute limit, if known: the shared bucket
                paces every process together at 95 % of it. Without it, the rate is learned
                from the `X-Ratelimit-Limit` any process reports. Give every process of a
                namespace the same value.
            lease_ttl: seconds a sweep lease lasts unless renewed (at most 5; its holder
                renews it every third of that): a holder that dies, even by SIGKILL, loses it
                within this, and another process sweeps at its next look (every sweep
                interval, 1 s by default).
            registry_ttl: seconds a process's tracked ids outlive its last heartbeat (they are
                renewed every third of it).
            timeout: seconds a Redis call may take before Redis counts as unreachable.
            clock: where local waits happen (tests); the system clock by default.

        Raises:
            ConfigurationError: redis-py is not installed, or an argument is wrong (the
                message shows the URL without its password).
        """
        check_namespace(namespace)
        for value, what, high in (
            (lease_ttl, "lease_ttl", MAX_LEASE_TTL),
            (registry_ttl, "registry_ttl", 3600.0),
            (timeout, "timeout", 60.0),
        ):
            if not isinstance(value, int | float) or not 0 < value <= high:
                raise ConfigurationError(f"{what} must be seconds in (0, {high:g}], got {value!r}")
        if rpm is not None and (not isinstance(rpm, int | float) or not 0 < rpm < math.inf):
            raise ConfigurationError(f"rpm must be a positive number or None, got {rpm!r}")
        redis_asyncio = _import_redis()
        from redis.asyncio.retry import Retry
        from redis.backoff import NoBackoff
        from redis.exceptions import RedisError

        try:
            # a blocking pool: a burst of calls waits for a connection (within `timeout`)
            # instead of failing with "Too many connections", which is not Redis being down
            pool = redis_asyncio.BlockingConnectionPool.from_url(
                url,
                max_connections=MAX_CONNECTIONS,
                timeout=timeout,
                decode_responses=True,
                socket_timeout=timeout,
                socket_connect_timeout=timeout,
                retry=Retry(NoBackoff(), 0),
            )
            client = redis_asyncio.Redis.from_pool(pool)
        except (ValueError, TypeError) as exc:
            message = str(exc).replace(urlsplit(url).password or "\0", "***")
            raise ConfigurationError(
                f"not a Redis URL: {shown_url(url)} ({message}); expected redis://, rediss:// "
                "or unix://"
            ) from None
        return cls(
            client,
            namespace=namespace,
            url=url,
            rpm=rpm,
            lease_ttl=float(lease_ttl),
            registry_ttl=float(registry_ttl),
            timeout=float(timeout),
            clock=clock or default_clock(),
            errors=(RedisError, OSError, TimeoutError),
        )

    def __repr__(self) -> str:
        return (
            f"RedisCoordinator(url={self._url!r}, namespace={self._keys.namespace!r}, "
            f"rpm={self._rpm!r}, shared={self._up})"
        )

    @property
    def namespace(self) -> str:
        """The deployment's namespace."""
        return self._keys.namespace

    @property
    def keys(self) -> Keys:
        """The names of every key and channel this coordinator uses."""
        return self._keys

    @property
    def shared(self) -> bool:
        """True while Redis answers; False while the coordinator behaves locally."""
        return self._up

    @property
    def lease_ttl(self) -> float:
        """Seconds a sweep lease lasts unless renewed: a dead holder's runs out within it."""
        return self._lease_ttl

    # --- the guard --------------------------------------------------------------------------

    def _scrub(self, text: str) -> str:
        return text.replace(self._secret, "***") if self._secret else text

    def _went_down(self, exc: BaseException) -> None:
        self._retry_at = self._clock.monotonic() + PROBE_INTERVAL
        if not self._up:
            return
        self._up = False
        logger.warning(
            "coordination: Redis at %s is unreachable (%s: %s); each process paces and sweeps "
            "on its own until it answers again",
            self._url,
            type(exc).__name__,
            self._scrub(str(exc)),
        )

    def _came_back(self) -> None:
        self._up = True
        self._resync = True  # a restarted Redis lost the ids and the learned rate: send again
        self._sent_rate = None
        logger.warning("coordination: Redis at %s answers again; rejoined", self._url)

    async def _run(self, call: Callable[[], Awaitable[T]]) -> T | _Down:
        """`call()` on Redis, or `DOWN` when Redis cannot be reached (never raises for it)."""
        if not self._up and self._clock.monotonic() < self._retry_at:
            return DOWN
        try:
            with anyio.fail_after(self._timeout * 2):
                result = await call()
        except self._errors as exc:
            self._went_down(exc)
            return DOWN
        except Exception as exc:  # redis-py in a state it did not expect (a restart, say)
            logger.error("coordination: a Redis call failed unexpectedly", exc_info=True)
            self._went_down(exc)
            return DOWN
        if not self._up:
            self._came_back()
        return result

    # --- the budget -------------------------------------------------------------------------

    def _rate_argument(self) -> float:
        return shared_rate(self._rpm, self._limit) or 0.0

    async def acquire(self, priority: int = 2) -> None:
        """Wait for one token of the shared bucket and the end of any shared pause.

        The requests of this process waiting for a token are asked for together, one ask in
        flight at a time, the most urgent first (`_admission.Admission`); a token is left for
        more urgent requests when the bucket runs low (finishing retrieves first, the safety
        net last). While Redis is unreachable, a local bucket at the rate this process knows
        stands in.
        """
        if not await self._admission.admit(priority):
            await self._local.acquire(priority)

    async def _ask(self, priorities: Sequence[int]) -> tuple[int, int] | None:
        """One call of the `TAKE` script for requests of `priorities` (see `Admission`)."""
        shares = [priority_share(p) for p in priorities]
        result = await self._run(
            lambda: self._take(
                keys=[self._keys.bucket, self._keys.pause],
                args=[self._rate_argument(), CAPACITY, BUCKET_TTL_MS, BURST, *shares],
            )
        )
        if isinstance(result, _Down):
            return None
        return int(result[0]), int(result[1])

    async def report(self, status: int, headers: Mapping[str, str]) -> None:
        """Share what a response says: a stated limit's rate, a pause after a 429.

        An exhausted allowance (`X-Ratelimit-Remaining: 0`) pauses every process until its reset.

        Only responses that change something reach Redis: a new `X-Ratelimit-Limit`, a 429, or
        an `X-Ratelimit-Remaining` (the shared bucket never holds more than it says remains).
        """
        report = read_report(status, headers)
        self._local.observe(report)
        if report.limit is not None:
            self._limit = report.limit
        rate = shared_rate(None, report.limit)
        reserve = MIN_RESERVE
        if report.limit is not None:
            reserve = max(MIN_RESERVE, math.ceil(RESERVE_SHARE * report.limit))
        if rate == self._sent_rate and status != 429 and report.remaining is None:
            return
        args: list[float] = [
            status,
            rate or 0,
            -1 if report.remaining is None else report.remaining,
            reserve,
            report.reset or 0,
            -1 if report.retry_after is None else report.retry_after,
            report.retry_at or 0,
            THROTTLE_PAUSE,
            MAX_PAUSE,
            BUCKET_TTL_MS,
        ]
        if status == 429 or rate not in (self._sent_rate, self._sending_rate):
            self._sending_rate = rate
            try:
                await self._send_report(args, rate)
            finally:
                self._sending_rate = None
            return
        # only a remaining allowance to clamp the bucket to: while one is being sent, those
        # arriving are merged into one (the newest window's lowest) that it sends next
        self._clamp = _newest_lowest(self._clamp, args)
        if self._reporting:
            return
        self._reporting = True
        try:
            for _ in range(CLAMP_ROUNDS):
                if self._clamp is None:
                    break
                args, self._clamp = self._clamp, None
                await self._send_report(args, rate)
        finally:
            self._reporting = False

    async def _send_report(self, args: list[float], rate: float | None) -> None:
        result = await self._run(
            lambda: self._report(keys=[self._keys.bucket, self._keys.pause], args=args)
        )
        if not isinstance(result, _Down):
            self._sent_rate = rate

    async def paused_for(self) -> float:
        """Seconds the shared pause still lasts (the local one's while Redis is unreachable)."""
        result = await self._run(lambda: self._paused(keys=[self._keys.pause]))
        if isinstance(result, _Down):
            return self._local.paused_for()
        return int(result) / 1000

    # --- the registry -----------------------------------------------------------------------

    async def register(self, kind: str, ids: Iterable[str]) -> None:
        """This process tracks `ids` of `kind`.

        They are swept for until unregistered, or until `registry_ttl` after this process's
        last heartbeat.
        """
        added = self._fanout.register(kind, ids)
        if added:
            await self._run(lambda: self._write_ids(kind, added))

    async def _write_ids(self, kind: str, ids: list[str]) -> None:
        key = self._keys.ids(kind, self.member)
        ttl = int(self._registry_ttl * 1000)
        async with self._client.pipeline(transaction=False) as pipe:
            for start in range(0, len(ids), CHUNK):
                pipe.sadd(key, *ids[start : start + CHUNK])
            pipe.pexpire(key, ttl)
            await pipe.execute()
        await self._beat(keys=[self._keys.members], args=[self.member, ttl])
        self._joined = True

    async def unregister(self, kind: str, ids: Iterable[str]) -> None:
        """This process no longer tracks `ids` of `kind`."""
        removed = self._fanout.unregister(kind, ids)
        if not removed:
            return
        key = self._keys.ids(kind, self.member)

        async def remove() -> None:
            async with self._client.pipeline(transaction=False) as pipe:
                for start in range(0, len(removed), CHUNK):
                    pipe.srem(key, *removed[start : start + CHUNK])
                await pipe.execute()

        await self._run(remove)

    async def heartbeat(self) -> None:
        """Keep this process and its ids alive; write them back if Redis lost them.

        `async with` runs it every third of `registry_ttl`.
        """
        await self._run(self._heartbeat)

    async def _heartbeat(self) -> None:
        ttl = int(self._registry_ttl * 1000)
        await self._beat(keys=[self._keys.members], args=[self.member, ttl])
        self._joined = True
        kinds = [kind for kind, ids in self._fanout.ids.items() if ids]
        async with self._client.pipeline(transaction=False) as pipe:
            for kind in kinds:
                pipe.pexpire(self._keys.ids(kind, self.member), ttl)
            alive = await pipe.execute()
        resync, self._resync = self._resync, False
        for kind, kept in zip(kinds, alive, strict=True):
            if resync or not kept:
                await self._write_ids(kind, sorted(self._fanout.ids[kind]))

    async def tracked(self, kind: str) -> frozenset[str]:
        """Every live member's ids of `kind` (this process's alone while Redis is unreachable)."""
        check_kind(kind)
        result = await self._run(lambda: self._tracked(kind))
        if isinstance(result, _Down):
            return frozenset(self._fanout.ids.get(kind, ()))
        return result

    async def _tracked(self, kind: str) -> frozenset[str]:
        members = [str(m) for m in await self._live(keys=[self._keys.members])]
        async with self._client.pipeline(transaction=False) as pipe:
            for member in members:
                pipe.smembers(self._keys.ids(kind, member))
            sets = await pipe.execute()
        found: set[str] = set(self._fanout.ids.get(kind, ()))
        for ids in sets:
            found.update(str(i) for i in ids)
        return frozenset(found)

    # --- the sweep lease --------------------------------------------------------------------

    async def take_lease(self, kind: str) -> bool:
        """Try to become the process that sweeps `kind`: True when this one holds the lease.

        Taken now, or already held and renewed. While Redis is unreachable, True: each process
        sweeps for itself.
        """
        return await self.renew_lease(kind)

    async def renew_lease(self, kind: str) -> bool:
        """Extend this process's lease of `kind`; False when another process holds it.

        A lease nobody holds (it ran out, or Redis restarted) is taken. False means: stop
        sweeping.
        """
        key = self._keys.lease(check_kind(kind))
        ttl = int(self._lease_ttl * 1000)
        result = await self._run(lambda: self._renew(keys=[key], args=[self.member, ttl]))
        held = True if isinstance(result, _Down) else bool(int(result))
        if held:
            self._leases.add(kind)
        else:
            self._leases.discard(kind)
        return held

    async def release_lease(self, kind: str) -> None:
        """Give the lease of `kind` up, if this process holds it (another may take it at once)."""
        key = self._keys.lease(check_kind(kind))
        self._leases.discard(kind)
        await self._run(lambda: self._release(keys=[key], args=[self.member]))

    # --- statuses and events ----------------------------------------------------------------

    async def publish_statuses(self, kind: str, statuses: Mapping[str, str]) -> None:
        """Statuses a sweep read, delivered to the processes tracking those ids.

        This process's subscribers get theirs at once, every other live member the ones of the
        ids it registered (on its own channel).
        """
        check_kind(kind)
        statuses = {str(k): str(v) for k, v in statuses.items()}
        self._fanout.deliver_statuses(kind, statuses)
        if statuses:
            await self._run(lambda: self._publish_statuses(kind, statuses))

    async def _publish_statuses(self, kind: str, statuses: dict[str, str]) -> None:
        members = [str(m) for m in await self._live(keys=[self._keys.members])]
        others = [m for m in members if m != self.member]
        ids = list(statuses)
        for member in others:
            key = self._keys.ids(kind, member)
            theirs: dict[str, str] = {}
            for start in range(0, len(ids), CHUNK):
                chunk = ids[start : start + CHUNK]
                flags = await self._client.smismember(key, chunk)
                found = zip(chunk, flags, strict=True)
                theirs.update((i, statuses[i]) for i, flag in found if flag)
            if theirs:
                message = json.dumps({"kind": kind, "statuses": theirs})
                await self._client.publish(self._keys.status_channel(member), message)

    def subscribe_statuses(self, kind: str, callback: StatusCallback) -> Subscription:
        """Call `callback(id, status)` for published statuses of this process's ids of `kind`.

        Those published by other processes arrive inside `async with`.
        """
        return self._fanout.subscribe_statuses(kind, callback)

    async def publish_event(self, event: Event) -> None:
        """A webhook event this process verified: wake every process's subscribers.

        Its own subscribers get it at once, every other member's through Redis. Only the
        event's id and type and the object's id and status are sent.
        """
        shared = shared_event(event)
        self._fanout.deliver_event(shared)
        message = json.dumps(
            {
                "origin": self.member,
                "id": shared.id,
                "type": shared.type,
                "object_id": shared.data.id,
                "status": shared.data.status,
            }
        )
        await self._run(lambda: self._client.publish(self._keys.event_channel, message))

    def subscribe_events(self, callback: EventCallback) -> Subscription:
        """Call `callback(event)` for every published event.

        Those published by other processes arrive inside `async with`.
        """
        return self._fanout.subscribe_events(callback)

    def _dispatch(self, channel: str, data: str) -> None:
        try:
            message = json.loads(data)
            if channel == self._keys.event_channel:
                if message.get("origin") == self.member:
                    return  # delivered locally when published
                event = SharedEvent(
                    id=str(message["id"]),
                    type=str(message.get("type", "")),
                    data=SharedEventData(str(message["object_id"]), str(message["status"])),
                )
                self._fanout.deliver_event(event)
            else:
                statuses = message["statuses"]
                kind = check_kind(message["kind"])
                self._fanout.deliver_statuses(kind, {str(k): str(v) for k, v in statuses.items()})
        except (ValueError, KeyError, TypeError, AttributeError, ConfigurationError):
            logger.warning("coordination: ignored a malformed message on %s", channel)

    # --- running ----------------------------------------------------------------------------

    async def __aenter__(self) -> RedisCoordinator:
        """Start its heartbeats and subscriptions (in a task of their own); return it.

        It may be closed (`aclose()`, or leaving `async with`) from any task, not only the
        one that entered it: a worker framework's startup and shutdown hooks often run in
        different tasks.
        """
        if self._runner is not None:
            raise RuntimeError("this RedisCoordinator is already running; enter it once")
        self._listening = listening = anyio.Event()
        self._stop = anyio.Event()
        self._runner = asyncio.get_running_loop().create_task(self._run_loops())
        with anyio.move_on_after(self._timeout * 2):
            await listening.wait()  # subscribed (or found Redis unreachable)
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()

    async def _run_loops(self) -> None:
        """The heartbeat and the subscription, until `aclose()` says stop."""
        assert self._stop is not None
        async with anyio.create_task_group() as task_group:
            task_group.start_soon(self._beat_loop)
            task_group.start_soon(self._listen_loop)
            await self._stop.wait()
            task_group.cancel_scope.cancel()

    async def _stop_loops(self) -> None:
        runner, self._runner = self._runner, None
        if runner is None:
            return
        assert self._stop is not None
        self._stop.set()
        with anyio.CancelScope(shield=True):
            await asyncio.wait([runner])  # its own loops end it; nothing of it is raised here
        if not runner.cancelled() and runner.exception() is not None:
            logger.error("coordination: the background loops failed", exc_info=runner.exception())

    def _subscribed(self) -> None:
        if self._listening is not None:
            self._listening.set()

    async def _beat_loop(self) -> None:
        while True:
            await self.heartbeat()
            await self._clock.sleep(self._registry_ttl / 3 if self._up else PROBE_INTERVAL)

    async def _listen_loop(self) -> None:
        channels = [self._keys.event_channel, self._keys.status_channel(self.member)]
        while True:
            if not self._up:
                await self._clock.sleep(PROBE_INTERVAL)
                await self._run(self._client.ping)
                continue
            pubsub = self._client.pubsub(ignore_subscribe_messages=True)
            try:
                await pubsub.subscribe(*channels)
                self._subscribed()
                while self._up:
                    message = await pubsub.get_message(timeout=1.0)
                    if message is not None and message.get("type") == "message":
                        self._dispatch(str(message["channel"]), str(message["data"]))
            except Exception as exc:  # whatever the connection did: this loop must not end
                if not isinstance(exc, self._errors):
                    logger.error(
                        "coordination: the subscription failed unexpectedly", exc_info=True
                    )
                self._went_down(exc)
                self._subscribed()
            finally:
                with anyio.CancelScope(shield=True):
                    await _close_quietly(pubsub)

    async def aclose(self) -> None:
        """Give up this process's leases, drop its registered ids, close the connection.

        Nothing raises because of Redis; calling it twice is harmless, and so is calling it
        from another task than the one that entered it.
        """
        await self._stop_loops()
        with anyio.CancelScope(shield=True):
            if self._up and (self._joined or self._leases):
                for kind in sorted(self._leases):
                    await self.release_lease(kind)
                kinds = list(self._fanout.ids)

                async def leave() -> None:
                    async with self._client.pipeline(transaction=False) as pipe:
                        pipe.zrem(self._keys.members, self.member)
                        for kind in kinds:
                            pipe.delete(self._keys.ids(kind, self.member))
                        await pipe.execute()

                await self._run(leave)
            self._up = False
            self._retry_at = float("inf")
            await _close_quietly(self._client)


async def _close_quietly(resource: Any) -> None:
    """Close a client or a subscription whose connection may be broken already."""
    close = getattr(resource, "aclose", None) or resource.close
    with contextlib.suppress(Exception):  # what closing a dead connection says is no news
        await close()
