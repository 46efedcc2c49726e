"""`Admission`: the requests of a process waiting for shared tokens are asked for together.

A fake bucket stands in for Redis's `TAKE` script: it grants, most urgent first, while its
tokens last, and says when the next may ask. Time is the tests' `FakeClock`.
"""

from __future__ import annotations

from collections.abc import Sequence

import anyio
import anyio.lowlevel
import pytest

from tests.conftest import FakeClock
from twelvelabs_async.coordination._admission import BATCH, Admission


class FakeBucket:
    """Grants a prefix of each ask while tokens last; records every ask's priorities."""

    def __init__(self, tokens: int, *, refill_ms: int = 100, reachable: bool = True) -> None:
        self.tokens = tokens
        self.refill_ms = refill_ms
        self.reachable = reachable
        self.asks: list[list[int]] = []
        self.answered = anyio.Event()

    async def ask(self, priorities: Sequence[int]) -> tuple[int, int] | None:
        self.asks.append(list(priorities))
        await anyio.sleep(0.001)  # a round trip: others arrive meanwhile
        self.answered.set()
        if not self.reachable:
            return None
        granted = min(self.tokens, len(priorities))
        self.tokens -= granted
        return granted, 0 if granted == len(priorities) else self.refill_ms


async def test_waiting_requests_are_asked_for_together_most_urgent_first() -> None:
    """Fifty requests arriving at once take two asks, not fifty, listed most urgent first."""
    bucket = FakeBucket(tokens=100)
    admission = Admission(bucket.ask, FakeClock())
    granted: list[bool] = []

    async def request(priority: int) -> None:
        granted.append(await admission.admit(priority))

    async with anyio.create_task_group() as tg:
        for i in range(50):
            tg.start_soon(request, [2, 0, 3, 1][i % 4])
    assert granted == [True] * 50
    assert len(bucket.asks) == 2
    first, second = bucket.asks
    assert len(first) == 1
    assert len(second) == 49  # the rest arrived during the first ask
    assert second == sorted(second)
    assert admission.waiting == 0


async def test_when_tokens_run_short_the_most_urgent_get_them_and_the_rest_wait() -> None:
    """With 3 tokens for 5 requests the 3 most urgent go; the other 2 wait for more tokens."""
    bucket = FakeBucket(tokens=0)
    admission = Admission(bucket.ask, FakeClock())
    done: list[str] = []

    async def request(name: str, priority: int) -> None:
        await admission.admit(priority)
        done.append(name)

    async with anyio.create_task_group() as tg:
        tg.start_soon(request, "first poll", 2)  # asks alone: no token, waits for more
        await bucket.answered.wait()
        for name, priority in [("poll", 2), ("finish", 0), ("page", 1), ("safety", 3)]:
            tg.start_soon(request, name, priority)
        await anyio.lowlevel.checkpoint()
        bucket.tokens = 3
        with anyio.fail_after(5):
            while len(done) < 3:  # noqa: ASYNC110 (done is a plain list)
                await anyio.sleep(0.001)
        assert sorted(done) == ["finish", "first poll", "page"]
        assert admission.waiting == 2
        bucket.tokens = 2
    assert sorted(done[3:]) == ["poll", "safety"]
    assert bucket.asks[-1] == [2, 3]  # the last ask: the poll before the safety net


async def test_a_more_urgent_request_does_not_wait_out_a_less_urgent_ones_wait() -> None:
    """A finishing retrieve arriving while polls wait 30 s for tokens is asked for at once."""
    clock = FakeClock()
    bucket = FakeBucket(tokens=0, refill_ms=30_000)
    admission = Admission(bucket.ask, clock)
    start = clock.now
    finished_at: list[float] = []

    async def poll() -> None:
        await admission.admit(2)

    async def finish() -> None:
        await admission.admit(0)
        finished_at.append(clock.now)

    async with anyio.create_task_group() as tg:
        tg.start_soon(poll)
        await bucket.answered.wait()
        bucket.tokens = 1
        tg.start_soon(finish)
        await anyio.sleep(0.05)
        assert finished_at
        assert finished_at[0] - start < 0.1  # not after the poll's 30 s
        tg.cancel_scope.cancel()


async def test_an_unreachable_bucket_answers_false_to_every_waiting_request() -> None:
    """An unreachable bucket answers False to every waiting request (each uses the stand-in)."""
    bucket = FakeBucket(tokens=10, reachable=False)
    admission = Admission(bucket.ask, FakeClock())
    answers: list[bool] = []

    async def request() -> None:
        answers.append(await admission.admit(2))

    async with anyio.create_task_group() as tg:
        for _ in range(5):
            tg.start_soon(request)
    assert answers == [False] * 5
    assert admission.waiting == 0


async def test_a_cancelled_request_holds_no_one_up_and_takes_no_token() -> None:
    """A request cancelled while asking leaves the queue; the others go, no token spent on it."""
    clock = FakeClock()
    bucket = FakeBucket(tokens=0, refill_ms=1_000)
    admission = Admission(bucket.ask, clock)
    granted: list[str] = []

    async def request(name: str) -> None:
        await admission.admit(2)
        granted.append(name)

    with anyio.fail_after(5):  # a request left waiting would hang here
        async with anyio.create_task_group() as outer:
            with anyio.CancelScope() as doomed:
                async with anyio.create_task_group() as tg:
                    tg.start_soon(request, "asker")  # asks first, then waits for the refill
                    await bucket.answered.wait()
                    outer.start_soon(request, "other")
                    await anyio.lowlevel.checkpoint()
                    bucket.tokens = 1
                    doomed.cancel()
    assert granted == ["other"]
    assert bucket.tokens == 0
    assert admission.waiting == 0


async def test_one_ask_asks_for_at_most_a_batch() -> None:
    """More requests than a batch are asked for in several asks, none over `BATCH`."""
    bucket = FakeBucket(tokens=10 * BATCH)
    admission = Admission(bucket.ask, FakeClock())
    count = BATCH + 50

    async with anyio.create_task_group() as tg:
        for _ in range(count):
            tg.start_soon(admission.admit, 2)
    assert sum(len(a) for a in bucket.asks) == count
    assert max(len(a) for a in bucket.asks) == BATCH


@pytest.mark.parametrize("priority", [0, 3])
async def test_a_lone_request_asks_once(priority: int) -> None:
    """A request alone asks the bucket once, for itself."""
    bucket = FakeBucket(tokens=1)
    admission = Admission(bucket.ask, FakeClock())
    assert await admission.admit(priority) is True
    assert bucket.asks == [[priority]]
