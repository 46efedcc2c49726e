"""What an embedding request sends: a media source and one typed input per kind of input.

Lists of choices are typed with their literal values (a type checker refuses a typo) and are
checked at run time as well; segmentation is described once (`DynamicSegments`,
`FixedSegments`) and shaped for the model by the library, so the wrong shape cannot be sent.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal

import attrs

VideoOption = Literal["visual", "audio", "transcription"]
"""What a video is embedded for (`transcription`: Marengo 3.0 only)."""
AudioOption = Literal["audio", "transcription"]
"""What an audio file is embedded for (`transcription`: Marengo 3.0 only)."""
DocumentOption = Literal["visual", "text"]
"""What a document is embedded for (`visual`: PDFs only)."""
MediaScope = Literal["clip", "local", "asset"]
"""What vectors a video or audio task makes: per clip (`clip`/`local`), for the whole file."""
DocumentScope = Literal["local", "asset"]
"""What vectors a document task makes: per page or chunk (`local`), for the whole file."""
EmbeddingType = Literal["separate_embedding", "fused_embedding"]
"""One vector per option (`separate_embedding`), or one combining them (`fused_embedding`)."""
SpatialStrategy = Literal["standard", "quadrants"]
"""How PDF pages are embedded: whole (`standard`), or whole and in four quarters."""


@attrs.frozen
class EmbedSource:
    """Where the media is: exactly one of `url`, `asset_id` or `base64_string`.

    The asset must be `ready`; base64 is the file itself, at most 36 MB decoded (32 MB for an
    image).
    """

    url: str | None = None
    asset_id: str | None = None
    base64_string: str | None = attrs.field(default=None, repr=False)


@attrs.frozen
class DynamicSegments:
    """Clips cut at scene changes, each at least `min_duration_sec` long (video; 3.5 audio).

    The default of the API is dynamic with 2 s (Marengo 3.5) or 4 s (3.0).
    """

    min_duration_sec: int


@attrs.frozen
class FixedSegments:
    """Clips of exactly `duration_sec` seconds (the last one may be shorter)."""

    duration_sec: int


Segmentation = DynamicSegments | FixedSegments
"""How video or audio is cut into clips."""


@attrs.frozen
class TimedText:
    """A text describing `start`-`end` seconds of the media (for `fused_embedding` on 3.5)."""

    start: float
    end: float
    text: str


@attrs.frozen
class VideoEmbedInput:
    """A video to embed (`input_type` `video`).

    Attributes:
        source: the video (`EmbedSource`, or a URL string).
        start_sec: embed from this second on.
        end_sec: embed up to this second.
        segmentation: how clips are cut (`DynamicSegments` or `FixedSegments`).
        embedding_option: `visual`, `audio`, `transcription` (3.0); default all the model has.
        embedding_scope: `clip`, `local`, `asset`; default `clip` and `asset`.
        embedding_type: `separate_embedding` (default) and/or `fused_embedding` (≥ 2 options).
        time_based_metadata: texts for a fused embedding (required with it on 3.5).
    """

    source: EmbedSource | str
    start_sec: float | None = None
    end_sec: float | None = None
    segmentation: Segmentation | None = None
    embedding_option: Sequence[VideoOption] | None = None
    embedding_scope: Sequence[MediaScope] | None = None
    embedding_type: Sequence[EmbeddingType] | None = None
    time_based_metadata: Sequence[TimedText] | None = None


@attrs.frozen
class AudioEmbedInput:
    """An audio file to embed (`input_type` `audio`); the fields of `VideoEmbedInput`.

    On Marengo 3.0 only `FixedSegments` exist (default 6 s); options are `audio` and
    `transcription` (3.0 only).
    """

    source: EmbedSource | str
    start_sec: float | None = None
    end_sec: float | None = None
    segmentation: Segmentation | None = None
    embedding_option: Sequence[AudioOption] | None = None
    embedding_scope: Sequence[MediaScope] | None = None
    embedding_type: Sequence[EmbeddingType] | None = None
    time_based_metadata: Sequence[TimedText] | None = None


@attrs.frozen
class ImageEmbedInput:
    """An image to embed (`input_type` `image`, Marengo 3.5; at most 32 MB).

    The API takes one value in each list (`visual`, `separate_embedding`, `asset`): leave them
    out, or pass those.
    """

    source: EmbedSource | str
    embedding_option: Sequence[Literal["visual"]] | None = None
    embedding_type: Sequence[Literal["separate_embedding"]] | None = None
    embedding_scope: Sequence[Literal["asset"]] | None = None


@attrs.frozen
class SentenceChunks:
    """Text cut into chunks of `max_sentences` sentences, `overlap_sentences` shared."""

    max_sentences: int
    overlap_sentences: int | None = None


@attrs.frozen
class DocumentEmbedInput:
    """A document to embed (`input_type` `document`, Marengo 3.5): pdf, txt or md.

    Attributes:
        source: the document (`EmbedSource`, or a URL string).
        embedding_option: `visual` (PDFs) and/or `text`.
        embedding_scope: `local` (per page or chunk) and/or `asset`.
        embedding_type: only `separate_embedding`.
        spatial: `standard` or `quadrants` (PDF pages).
        sequential: sentence chunks (required for txt and md with the `local` scope).
    """

    source: EmbedSource | str
    embedding_option: Sequence[DocumentOption] | None = None
    embedding_scope: Sequence[DocumentScope] | None = None
    embedding_type: Sequence[Literal["separate_embedding"]] | None = None
    spatial: SpatialStrategy | None = None
    sequential: SentenceChunks | None = None


EmbedInput = VideoEmbedInput | AudioEmbedInput | ImageEmbedInput | DocumentEmbedInput
"""Any of the four inputs of an embedding task."""
