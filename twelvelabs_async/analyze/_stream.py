"""Streamed analysis: NDJSON lines into typed events, and the `AnalyzeStream` users iterate."""

from __future__ import annotations

from .._convert import structure
from ..errors import DecodeError, ResultNotReadyError
from ..models import StreamEnd, StreamEvent, StreamStart, TextGeneration, UnknownEvent
from ._lines import LineStream, Opener, json_line

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
    data = json_line(text, "a streamed line")
    if not isinstance(data, dict) or not isinstance(data.get("event_type"), str):
        raise DecodeError("a streamed line has no event_type", path="$.event_type")
    kind = _EVENT_TYPES.get(data["event_type"])
    if kind is None:
        return UnknownEvent(event_type=data["event_type"], data=data)
    return structure(data, kind)


class AnalyzeStream(LineStream[StreamEvent]):
    """The events of a streamed analysis, read as they arrive.

    Use it as `async with client.analyze.stream(...) as stream: async for event in stream:`
    (the response is released when the block ends, even on `break`), or call
    `await stream.text()` for the whole text. After the stream ends, `end` holds the
    `StreamEnd` event (finish reason, usage and any warning), and `end_event()` returns it
    typed, never None.
    """

    def __init__(self, opener: Opener) -> None:
        super().__init__(opener)
        self.end: StreamEnd | None = None
        """The final event, once the stream has been read to its end."""

    def _parse(self, line: bytes) -> StreamEvent | None:
        return parse_event(line)

    def _seen(self, item: StreamEvent) -> None:
        if isinstance(item, StreamEnd):
            self.end = item

    def end_event(self) -> StreamEnd:
        """The `StreamEnd` event (finish reason, `usage`, any warning), once the stream is read.

        Raises:
            ResultNotReadyError: the stream has not been read to its end yet (not iterated,
                or left early by a `break`): iterate it to the end, or `await text()`.
            DecodeError: the stream was read to its end, but the API sent no `stream_end`.
        """
        if self.end is not None:
            return self.end
        if self._read_to_end:
            raise DecodeError("the stream ended without a stream_end event", path="$.event_type")
        raise ResultNotReadyError(
            "the stream has not been read to its end: iterate it to the end (async for), or "
            "await stream.text(), before asking for its end event"
        )

    async def text(self) -> str:
        """Read the stream to its end and return the generated text."""
        parts = [e.text async for e in self if isinstance(e, TextGeneration)]
        return "".join(parts)
