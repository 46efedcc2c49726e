"""Helpers for the simulator tests: one clock shared by simulator and client, raw requests."""

from __future__ import annotations

import asyncio
import json
import random
import re
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from typing import Any

import aiohttp
from multidict import CIMultiDictProxy

from twelvelabs_async import AsyncTwelveLabs
from twelvelabs_async.testing import ManualClock, Simulator, simulate

URL = "https://videos.example.com/clip.mp4"
_HMS = re.compile(r"(?P<h>\d\d):(?P<m>[0-5]\d):(?P<s>[0-5]\d)(?P<f>)")
_HMS_FFF = re.compile(r"(?P<h>\d\d):(?P<m>[0-5]\d):(?P<s>[0-5]\d)\.(?P<f>\d{3})")


class SimClock(ManualClock):
    """The simulator's `ManualClock`, usable as the client's `Clock` too.

    A client sleep (retry backoff, polling) advances simulated time instead of waiting, so the
    simulator and the client always agree on "now" and nothing waits on the wall clock.
    """

    def __init__(self, start: float = 1_767_225_600.0) -> None:
        super().__init__(start)
        self.sleeps: list[float] = []

    def monotonic(self) -> float:
        """The same reading as `time()`."""
        return self.now

    async def sleep(self, seconds: float) -> None:
        """Record the delay, jump time forward by it and let other tasks run."""
        self.sleeps.append(seconds)
        self.advance(max(0.0, seconds))
        await asyncio.sleep(0)


@asynccontextmanager
async def sim_and_client(
    *, clock: SimClock | None = None, max_retries: int = 0, **settings: Any
) -> AsyncIterator[tuple[Simulator, AsyncTwelveLabs, SimClock]]:
    """A running simulator on a `SimClock` and a client sharing that clock."""
    clock = clock or SimClock()
    async with (
        simulate(clock=clock, **settings) as sim,
        AsyncTwelveLabs(
            sim.api_key,
            base_url=sim.base_url,
            clock=clock,
            rng=random.Random(3),
            max_retries=max_retries,
        ) as client,
    ):
        yield sim, client, clock


class Raw:
    """A raw HTTP answer: status, headers and body bytes."""

    def __init__(self, status: int, headers: CIMultiDictProxy[str], body: bytes) -> None:
        self.status = status
        self.headers = headers
        self.body = body

    def json(self) -> Any:
        """The body decoded as JSON."""
        return json.loads(self.body)

    def lines(self) -> list[Any]:
        """An NDJSON body decoded line by line."""
        return [json.loads(line) for line in self.body.splitlines() if line.strip()]


async def raw(
    sim: Simulator,
    method: str,
    path: str,
    *,
    json_body: Any = None,
    data: bytes | None = None,
    params: Mapping[str, str] | list[tuple[str, str]] | None = None,
    headers: Mapping[str, str] | None = None,
    api_key: str | None = None,
) -> Raw:
    """Send one request straight to the simulator (no client, no retries)."""
    sent = {"x-api-key": api_key if api_key is not None else sim.api_key, **(headers or {})}
    async with (
        aiohttp.ClientSession() as session,
        session.request(
            method,
            f"{sim.base_url}/{path}",
            json=json_body,
            data=data,
            params=params,
            headers=sent,
        ) as resp,
    ):
        return Raw(resp.status, resp.headers, await resp.read())


def general_body(prompt: str = "Summarize this video.", **extra: Any) -> dict[str, Any]:
    """A valid `POST /analyze/tasks` body for a general analysis."""
    return {"video": {"type": "url", "url": URL}, "prompt": prompt, **extra}


def seconds_of(value: float | str, fmt: str | None) -> float:
    """A segment time in seconds, checking it has the shape `fmt` promises."""
    if fmt in (None, "seconds"):
        assert type(value) in (int, float), value
        return float(value)
    pattern = _HMS_FFF if fmt == "hh:mm:ss.fff" else _HMS
    assert isinstance(value, str), value
    match = pattern.fullmatch(value)
    assert match is not None, f"{value!r} is not {fmt}"
    hours, minutes, secs, millis = match.group("h", "m", "s", "f")
    return int(hours) * 3600 + int(minutes) * 60 + int(secs) + int(millis or 0) / 1000


async def task_count(sim: Simulator) -> int:
    """How many tasks the simulator holds, as `GET /analyze/tasks` reports it."""
    resp = await raw(sim, "GET", "analyze/tasks", params={"page_limit": "1"})
    assert resp.status == 200
    total: int = resp.json()["page_info"]["total_results"]
    return total
