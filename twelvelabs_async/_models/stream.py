"""The events of a streamed analysis (`POST /analyze` with `stream: true`)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import attrs

from .common import FinishReason, TaskError, TokenUsage


@attrs.frozen
class GenerationMetadata:
    """Identifies a generation and, at the end of a stream, its token usage."""

    generation_id: str | None = None
    usage: TokenUsage | None = None


@attrs.frozen
class StreamStart:
    """The first event of a streamed analysis."""

    metadata: GenerationMetadata | None = None
    event_type: str = attrs.field(default="stream_start", init=False)


@attrs.frozen
class TextGeneration:
    """A fragment of generated text (fragments may split words)."""

    text: str
    event_type: str = attrs.field(default="text_generation", init=False)


@attrs.frozen
class StreamEnd:
    """The last event of a streamed analysis: why it stopped, usage, and any warning."""

    finish_reason: FinishReason | str | None = None
    metadata: GenerationMetadata | None = None
    error: TaskError | None = None
    event_type: str = attrs.field(default="stream_end", init=False)

    @property
    def usage(self) -> TokenUsage | None:
        """The tokens the generation used (`metadata.usage`), or None when the API sent none."""
        return None if self.metadata is None else self.metadata.usage


@attrs.frozen
class UnknownEvent:
    """An event type this version of the library does not know, passed through as its JSON."""

    event_type: str
    data: Mapping[str, Any] = attrs.field(factory=dict)


StreamEvent = StreamStart | TextGeneration | StreamEnd | UnknownEvent
"""Any event of a streamed analysis."""
