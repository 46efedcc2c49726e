"""Embeddings v2 (`/embed-v2`): tasks, their segments, and the compact vectors they hold.

A ready task can hold thousands of vectors of 512-1,024 numbers. Each vector is decoded into an
`EmbeddingVector`: one `array('d')` (8 bytes a number, exactly the float the JSON text names),
not a list of Python float objects (32 bytes a number: the 24-byte object and its 8-byte slot).
"""

from __future__ import annotations

from array import array
from collections.abc import Iterable, Iterator, Mapping, Sequence
from datetime import datetime
from enum import StrEnum
from typing import Any, Literal, overload

import attrs

from .common import PageInfo, always_sent, wire_name


class EmbeddingVector(Sequence[float]):
    """One embedding (or its uncertainty), read-only, stored compactly.

    A `Sequence[float]` over an `array('d')`: 8 bytes per number, each exactly the IEEE double
    the JSON text names (the decoding is lossless). Index, slice, iterate, compare it like a
    tuple of floats; `tolist()` gives a list, `memory` a read-only `memoryview` of the doubles
    (format `d`) for zero-copy use, e.g. `numpy.frombuffer(vector.memory)`.
    """

    __slots__ = ("_values",)
    _values: array[float]

    def __init__(self, values: Iterable[float] = ()) -> None:
        self._values = array("d", values)  # a copy: the caller's data stays theirs

    @classmethod
    def _adopt(cls, values: array[float]) -> EmbeddingVector:
        """Wrap an `array('d')` this library owns, without copying it."""
        vector = cls.__new__(cls)
        vector._values = values
        return vector

    def __len__(self) -> int:
        return len(self._values)

    @overload
    def __getitem__(self, index: int) -> float: ...

    @overload
    def __getitem__(self, index: slice) -> EmbeddingVector: ...

    def __getitem__(self, index: int | slice) -> float | EmbeddingVector:
        values = self._values
        if isinstance(index, slice):
            return EmbeddingVector._adopt(values[index])
        return values[index]

    def __iter__(self) -> Iterator[float]:
        return iter(self._values)

    def __eq__(self, other: object) -> bool:
        if isinstance(other, EmbeddingVector):
            return self._values == other._values
        if isinstance(other, list | tuple):
            return len(other) == len(self) and all(a == b for a, b in zip(self, other, strict=True))
        return NotImplemented

    def __hash__(self) -> int:
        return hash(tuple(self._values))

    def __repr__(self) -> str:
        values = self._values
        head = ", ".join(f"{v:.4g}" for v in values[:3])
        more = ", ..." if len(values) > 3 else ""
        return f"EmbeddingVector([{head}{more}], len={len(values)})"

    def tolist(self) -> list[float]:
        """The numbers as a new list of floats."""
        return self._values.tolist()

    @property
    def memory(self) -> memoryview:
        """A read-only view of the doubles (format `d`, native byte order), without a copy."""
        return memoryview(self._values).toreadonly()

    @property
    def nbytes(self) -> int:
        """Bytes the numbers take (8 each)."""
        return len(self) * 8


class EmbedTaskStatus(StrEnum):
    """The status of an embedding task: `processing`, then `ready` or `failed` (terminal)."""

    PROCESSING = "processing"
    READY = "ready"
    FAILED = "failed"


EmbedTaskStatusValue = Literal["processing", "ready", "failed"]
"""The values of `EmbedTaskStatus` as literal strings (what `list(status=)` takes)."""

EMBED_TERMINAL_STATUSES: frozenset[str] = frozenset({"ready", "failed"})
"""The statuses after which an embedding task never changes."""

EmbedModel = Literal["marengo3.0", "marengo3.5"]
"""The embedding models: `marengo3.5` (the newest; needed for images and documents)."""


class EmbeddingOption(StrEnum):
    """What a vector embeds: `visual`, `audio`, `transcription` (3.0), `text` or `fused`."""

    VISUAL = "visual"
    AUDIO = "audio"
    TRANSCRIPTION = "transcription"
    TEXT = "text"
    FUSED = "fused"


class EmbeddingScope(StrEnum):
    """What a vector covers: a `clip` (media), a `page` (PDF), a `chunk` (text) or the `asset`.

    A request's `local` scope comes back as `clip`, `page` or `chunk`.
    """

    CLIP = "clip"
    PAGE = "page"
    CHUNK = "chunk"
    ASSET = "asset"


class Quadrant(StrEnum):
    """The quarter of a PDF page a vector covers (`spatial="quadrants"`)."""

    TOP_LEFT = "top_left"
    TOP_RIGHT = "top_right"
    BOTTOM_LEFT = "bottom_left"
    BOTTOM_RIGHT = "bottom_right"


@attrs.frozen
class EmbeddingData:
    """One vector and the segment it covers.

    The array order of a task's data is not guaranteed: read `start_sec`,
    `start_page_number` or `chunk_index`, not the position.

    Attributes:
        embedding: the vector (`embedding_dimension` numbers; 512 by default).
        embedding_uncertainty: a per-number uncertainty, the same length (3.5, on request).
        embedding_option: `visual`, `audio`, `transcription`, `text`, `fused`; None for text
            embeddings and synchronous images.
        embedding_scope: `clip`, `page`, `chunk`, `asset`; None for text embeddings.
        start_sec: where the segment starts, in seconds (media only).
        end_sec: where it ends, in seconds (media only).
        start_page_number: the first PDF page it covers (1-based).
        end_page_number: the last PDF page it covers.
        quadrant: the quarter of the page, None for the whole page.
        chunk_index: the chunk's position in a text file (0-based).
    """

    embedding: EmbeddingVector
    embedding_uncertainty: EmbeddingVector | None = None
    embedding_option: EmbeddingOption | str | None = None
    embedding_scope: EmbeddingScope | str | None = None
    start_sec: float | None = None
    end_sec: float | None = None
    start_page_number: int | None = None
    end_page_number: int | None = None
    quadrant: Quadrant | str | None = None
    chunk_index: int | None = None


@attrs.frozen
class EmbeddingUsage:
    """Tokens an embedding used (Marengo 3.5 only).

    Attributes:
        input_tokens: tokens by kind of content (`video`, `audio`, `image`, `document`,
            `text`): read the keys present.
        truncated: whether the input was cut to fit the model's context.
        truncation_reason: why, e.g. `model_context_window`.
    """

    input_tokens: Mapping[str, int]
    truncated: bool
    truncation_reason: str | None = None


@attrs.frozen
class MediaEmbeddingMetadata:
    """What a video or audio task embedded (`metadata` with `input_type` `video` or `audio`).

    Attributes:
        input_type: `video` or `audio`.
        embedding_options: the options used.
        embedding_scopes: the scopes requested.
        duration: the media's duration in seconds.
        input_url: the URL embedded, when it was one.
        input_filename: the file's name.
        start_offset_sec: where embedding started.
        end_offset_sec: where it ended.
        embedding_dimension: the length of each vector.
        clip_length: the clip length in seconds (fixed segmentation, video).
    """

    input_type: str
    embedding_options: tuple[str, ...]
    embedding_scopes: tuple[str, ...]
    duration: float
    input_url: str | None = None
    input_filename: str | None = None
    start_offset_sec: float | None = None
    end_offset_sec: float | None = None
    embedding_dimension: int | None = None
    clip_length: float | None = None


@attrs.frozen
class FileEmbeddingMetadata:
    """What an image or document task embedded, or the metadata of a just-created task.

    Every key is optional; an `input_type` this library does not know decodes here too.
    """

    input_type: str | None = None
    input_url: str | None = None
    input_filename: str | None = None
    embedding_options: tuple[str, ...] | None = None
    embedding_scopes: tuple[str, ...] | None = None
    embedding_dimension: int | None = None


EmbeddingMetadata = MediaEmbeddingMetadata | FileEmbeddingMetadata
"""A task's `metadata`, chosen by its `input_type` (`video`/`audio`: media, else file)."""


@attrs.frozen
class EmbeddingTaskError:
    """Why an embedding task failed. The `message` text is not part of the API's contract."""

    message: str
    code: str | None = None


@attrs.frozen
class EmbeddingTask:
    """An embedding task (`GET /embed-v2/tasks/{id}`; `POST` returns the same shape).

    Attributes:
        task_id: the task's id (`_id` on the wire).
        status: `processing`, `ready` or `failed` (an unknown status is kept as a string).
        data: the vectors, once `ready`; None while `processing` and when `failed`.
        created_at: when the task was created.
        updated_at: when it last changed.
        metadata: what was embedded (`MediaEmbeddingMetadata` for video and audio).
        usage: tokens used (Marengo 3.5).
        error: why it failed, when `failed`.
    """

    status: EmbedTaskStatus | str  # required, so first: `task_id` is a field with metadata
    task_id: str = wire_name("_id")
    data: tuple[EmbeddingData, ...] | None = always_sent()
    created_at: datetime | None = None
    updated_at: datetime | None = None
    metadata: EmbeddingMetadata | None = None
    usage: EmbeddingUsage | None = None
    error: EmbeddingTaskError | None = None

    @property
    def is_terminal(self) -> bool:
        """True once the task is `ready` or `failed` (it will not change again)."""
        return str(self.status) in EMBED_TERMINAL_STATUSES


@attrs.frozen
class EmbeddingTaskSummary:
    """An embedding task as `GET /embed-v2/tasks` lists it: no vectors, v1-style metadata.

    Attributes:
        task_id: the task's id (`_id` on the wire).
        status: `processing`, `ready` or `failed`, a plain string.
        model_name: the model.
        created_at: when it was created.
        updated_at: when it last changed.
        video_embedding: `{"metadata": {...}}` for a video task, as sent.
        audio_embedding: the same for an audio task.
        image_embedding: the same for an image task.
        document_embedding: the same for a document task.
    """

    task_id: str = wire_name("_id")
    status: str | None = None
    model_name: str | None = None
    created_at: datetime | None = None
    updated_at: datetime | None = None
    video_embedding: Mapping[str, Any] | None = None
    audio_embedding: Mapping[str, Any] | None = None
    image_embedding: Mapping[str, Any] | None = None
    document_embedding: Mapping[str, Any] | None = None


@attrs.frozen
class EmbeddingTaskPage:
    """One page of `GET /embed-v2/tasks`."""

    data: tuple[EmbeddingTaskSummary, ...]
    page_info: PageInfo = attrs.field(factory=PageInfo)


@attrs.frozen
class TextEmbedding:
    """The answer of a synchronous `POST /embed-v2` (text): its vector(s), usage, metadata.

    Attributes:
        data: the vectors (one for a text).
        usage: tokens used (Marengo 3.5).
        metadata: `{"embedding_dimension": ...}` and the like, as sent.
    """

    data: tuple[EmbeddingData, ...]
    usage: EmbeddingUsage | None = None
    metadata: Mapping[str, Any] | None = None

    @property
    def embedding(self) -> EmbeddingVector:
        """The first (for a text, the only) vector."""
        return self.data[0].embedding
