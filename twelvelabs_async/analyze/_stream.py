"""Streamed analysis: NDJSON lines into typed events, and the `AnalyzeStream` users iterate."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager
from types import TracebackType
from typing import Any

from .._convert import structure
from ..errors import DecodeError
from ..models import StreamEnd, StreamEvent, StreamStart, TextGeneration, UnknownEvent

_EVENT_TYPES: dict[str, type[StreamStart | TextGeneration | StreamEnd]] = {
    "stream_start": StreamStart,
    "text_generation": TextGeneration,
    "stream_end": StreamEnd,
}


def parse_event(line: bytes) -> StreamEvent | None:
    """Turn one NDJSON line into an event; None for a blank line.

    An `event_type` this version does not know becomes `UnknownEvent` (never dropped). A line
    that is not a JSON object with an `event_type` raises `DecodeError`.
    """
    text = line.strip()
    if not text:
        return None
    try:
        data: Any = json.loads(text)
    except ValueError:
        raise DecodeError(
            f"a streamed line is not JSON: {text[:80].decode('utf-8', 'replace')!r}"
        ) from None
    if not isinstance(data, dict) or not isinstance(data.get("event_type"), str):
        raise DecodeError("a streamed line has no event_type", path="$.event_type")
    kind = _EVENT_TYPES.get(data["event_type"])
    if kind is None:
        return UnknownEvent(event_type=data["event_type"], data=data)
    return structure(data, kind)


class AnalyzeStream:
    """The events of a streamed analysis, read as they arrive.

    Use it as `async with client.analyze.stream(...) as stream: async for event in stream:`
    (the response is released when the block ends, even on `break`), or call
    `await stream.text()` for the whole text. After the stream ends, `end` holds the
    `StreamEnd` event (finish reason, usage and any warning).
    """

    def __init__(
        self, opener: Callable[[], AbstractAsyncContextManager[AsyncIterator[bytes]]]
    ) -> None:
        self._opener = opener
        self._context: AbstractAsyncContextManager[AsyncIterator[bytes]] | None = None
        self._lines: AsyncIterator[bytes] | None = None
        self._started = False
        self.end: StreamEnd | None = None
        """The final event, once the stream has been read to its end."""

    async def __aenter__(self) -> AnalyzeStream:
        await self._open()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()

    async def _open(self) -> AsyncIterator[bytes]:
        if self._started:
            if self._lines is None:
                raise RuntimeError("this AnalyzeStream was closed; start a new stream")
            return self._lines
        self._started = True
        self._context = self._opener()
        self._lines = await self._context.__aenter__()
        return self._lines

    async def aclose(self) -> None:
        """Release the response; safe to call more than once."""
        context, self._context, self._lines = self._context, None, None
        if context is not None:
            await context.__aexit__(None, None, None)

    def __aiter__(self) -> AsyncIterator[StreamEvent]:
        return self._events()

    async def _events(self) -> AsyncIterator[StreamEvent]:
        lines = await self._open()
        try:
            async for line in lines:
                event = parse_event(line)
                if event is None:
                    continue
                if isinstance(event, StreamEnd):
                    self.end = event
                yield event
        finally:
            await self.aclose()

    async def text(self) -> str:
        """Read the stream to its end and return the generated text."""
        parts = [e.text async for e in self if isinstance(e, TextGeneration)]
        return "".join(parts)
