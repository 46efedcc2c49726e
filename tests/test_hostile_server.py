"""Hostile servers: deep nesting, lines split across many chunks.

The answers come from `MockTransport`; the CPU that splitting a long line costs is measured in
a process of its own (`tests/_hostile.py`).
"""

from __future__ import annotations

import json
import random
import subprocess
import sys
from collections.abc import AsyncIterator, Callable
from pathlib import Path
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
from twelvelabs_async._http import _iter_lines
from twelvelabs_async.models import AnalyzeTask, Segment
from twelvelabs_async.testing import MockTransport

ROOT = Path(__file__).resolve().parent.parent
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


# --- splitting lines --------------------------------------------------------------------------

BODY = b'{"a": 1}\n\n{"b": "two"}\nlast line, no newline'
LINES = [b'{"a": 1}', b"", b'{"b": "two"}', b"last line, no newline"]


async def lines_of(chunks: list[bytes]) -> list[bytes]:
    """The lines `_iter_lines` makes of `chunks`."""

    async def source() -> AsyncIterator[bytes]:
        for chunk in chunks:
            yield chunk

    return [line async for line in _iter_lines(source(), "GET /x")]


@pytest.mark.parametrize("size", [1, 2, 3, 7, 11, len(BODY)])
async def test_lines_are_the_same_however_the_body_is_chunked(size: int) -> None:
    """Lines split across chunks of any size are reassembled; blank lines are kept as b""."""
    chunks = [BODY[i : i + size] for i in range(0, len(BODY), size)]
    assert await lines_of(chunks) == LINES
    assert await lines_of([b"", *chunks, b""]) == LINES
    assert await lines_of([BODY + b"\n"]) == LINES


# --- memory and CPU, each measured in a fresh process -------------------------------------------

PROCESSES = (("long-line-in-chunks",),)
"""The scenarios of `tests/_hostile.py`, by process."""


@pytest.fixture(scope="module")
def measured() -> dict[str, dict[str, Any]]:
    """The scenarios of `tests/_hostile.py` run in processes of their own, all at once."""
    procs = [
        (
            names,
            subprocess.Popen(
                [sys.executable, "-m", "tests._hostile", *names],
                cwd=ROOT,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
            ),
        )
        for names in PROCESSES
    ]
    results = {}
    for names, proc in procs:
        out, err = proc.communicate(timeout=120)
        assert proc.returncode == 0, err
        results.update(zip(names, map(json.loads, out.splitlines()), strict=True))
    return results


def test_splitting_a_long_line_takes_linear_time(measured: dict[str, dict[str, Any]]) -> None:
    """A 32 MiB line in 4 KiB chunks is split in < 1.5 s of CPU (searched from the start: ~6 s)."""
    result = measured["long-line-in-chunks"]
    assert result["error"] is None
    assert result["cpu"] < 1.5
