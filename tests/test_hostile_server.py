"""Hostile servers: JSON nested too deeply, on every path that decodes it.

The answers come from `MockTransport`: no socket is needed to send 200 KB of brackets.
"""

from __future__ import annotations

import random
from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest

from tests._server import LoopbackServer
from tests.conftest import API_KEY, BASE_URL, FakeClock
from twelvelabs_async import (
    AsyncTwelveLabs,
    BadRequestError,
    DecodeError,
    Response,
    WebhookVerificationError,
    parse_json,
    webhooks,
)
from twelvelabs_async import _convert as convert
from twelvelabs_async.models import AnalyzeTask, Segment
from twelvelabs_async.testing import MockTransport

TASK = {"task_id": "t1", "status": "ready"}
VIDEO = "https://cdn.example/v.mp4"
DEEP = b"[" * 200_000
ANALYSIS = {
    "generation_id": "g",
    "data": "",
    "finish_reason": "stop",
    "usage": {"output_tokens": 1},
}
Factory = Callable[..., AsyncTwelveLabs]


@pytest.fixture
async def make(server: LoopbackServer, clock: FakeClock) -> AsyncIterator[Factory]:
    """Build clients of the loopback server (or of a MockTransport handler); closed at teardown."""
    made: list[AsyncTwelveLabs] = []

    def build(handler: Any = None, **kwargs: Any) -> AsyncTwelveLabs:
        if handler is None:
            kwargs.setdefault("base_url", server.base_url)
        else:
            kwargs.update(base_url=BASE_URL, transport=MockTransport(handler))
        made.append(AsyncTwelveLabs(API_KEY, clock=clock, rng=random.Random(7), **kwargs))
        return made[-1]

    yield build
    for c in made:
        await c.close()


# --- JSON nested too deeply -------------------------------------------------------------------


async def test_deep_reply_raises_decode_error(make: Factory) -> None:
    """A 200 of 200 KB of nested brackets raises DecodeError, not RecursionError."""
    client = make(lambda request: Response(200, body=DEEP), max_retries=0)
    with pytest.raises(DecodeError, match="nested too deeply") as info:
        await client.analyze.tasks.retrieve("t1")
    assert len(str(info.value)) < 500


async def test_deep_error_body_raises_the_status_error(make: Factory) -> None:
    """A 400 whose body is nested too deeply raises BadRequestError with the body as text."""
    client = make(lambda request: Response(400, body=DEEP))
    with pytest.raises(BadRequestError) as info:
        await client.analyze.tasks.retrieve("t1")
    assert info.value.body == DEEP.decode()
    assert info.value.code is None


async def test_deep_streamed_line_raises_decode_error(make: Factory) -> None:
    """A streamed analysis line nested too deeply raises DecodeError."""
    client = make(lambda request: Response(200, body=DEEP + b"\n"))
    with pytest.raises(DecodeError, match="not JSON"):
        await client.analyze.stream(video=VIDEO, prompt="Hi").text()


async def test_deep_batch_result_line_raises_decode_error(make: Factory) -> None:
    """A batch results line nested too deeply raises DecodeError."""
    client = make(lambda request: Response(200, body=DEEP + b"\n"))
    with pytest.raises(DecodeError, match="not JSON"):
        [i async for i in client.analyze.batches.results("b1")]


def test_deep_result_text_raises_decode_error() -> None:
    """parse_json of a result whose text is nested too deeply raises DecodeError."""
    task = convert.structure({**TASK, "result": {**ANALYSIS, "data": DEEP.decode()}}, AnalyzeTask)
    with pytest.raises(DecodeError, match="nested too deeply"):
        parse_json(task)


def test_signed_deep_webhook_body_is_malformed() -> None:
    """A correctly signed webhook body nested too deeply fails verification as malformed_body."""
    signature = webhooks.sign(DEEP, "whsec_test", timestamp=1_700_000_000)
    with pytest.raises(WebhookVerificationError) as info:
        webhooks.verify(DEEP, signature, "whsec_test", now=1_700_000_000)
    assert (info.value.reason, info.value.path, info.value.http_status) == (
        "malformed_body",
        "$",
        400,
    )


def test_failure_while_explaining_a_bad_body_is_still_a_decode_error(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """When cattrs fails while locating a problem (a RecursionError), DecodeError is raised."""

    def fail(*args: Any, **kwargs: Any) -> list[str]:
        raise RecursionError("maximum recursion depth exceeded")

    monkeypatch.setattr(convert.cattrs, "transform_error", fail)
    with pytest.raises(DecodeError) as info:
        convert.structure({"task_id": 5, "status": "ready"}, AnalyzeTask)
    assert info.value.path == "$"
    assert "RecursionError while locating the problem" in str(info.value)


def test_a_failure_outside_cattrs_validation_is_a_decode_error() -> None:
    """A hook's own TypeError (no array where one is due) surfaces as DecodeError at `$`."""
    with pytest.raises(DecodeError, match="TypeError: expected an array, got a string") as info:
        convert.structure("not a list", tuple[Segment, ...])
    assert info.value.path == "$"
