"""What a request sends: videos, images, prompts and the output format."""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from typing import Any, Literal

import attrs

from .uploads import UploadProgress

TimeFormat = Literal["seconds", "hh:mm:ss", "hh:mm:ss.fff"]
"""How segment times are written: `ResponseFormat.segments(time_format=)`, a timestamp's format."""

SegmentFieldType = Literal[
    "string", "boolean", "number", "integer", "array", "timestamp", "time_array"
]
"""The types a `SegmentField` may have (`time_array` needs pegasus1.6)."""

SegmentItemType = Literal["string", "number", "boolean", "integer", "object"]
"""The element type of an `array` field (a scalar), or `object` for a `time_array` field."""


# What you write is typed closed, what the API sends back stays open: each field below is a
# `str` (decoding keeps any value), and the identity converter types the constructor's
# argument with the literal values, so that a type checker refuses a typo such as "strng".
def _field_type(value: SegmentFieldType) -> str:
    return value


def _item_type(value: SegmentItemType) -> str:
    return value


def _time_format(value: TimeFormat | None) -> str | None:
    return value


@attrs.frozen
class UrlVideo:
    """A video at a public URL that points straight at the media file."""

    url: str
    type: str = attrs.field(default="url", init=False)


@attrs.frozen
class AssetVideo:
    """A video uploaded as an asset (its status must be `ready`)."""

    asset_id: str
    type: str = attrs.field(default="asset_id", init=False)


@attrs.frozen
class Base64Video:
    """A video sent inline, base64-encoded (at most 30 MB)."""

    base64_string: str = attrs.field(repr=lambda s: f"<{len(s)} chars>")
    type: str = attrs.field(default="base64_string", init=False)


VideoInput = UrlVideo | AssetVideo | Base64Video
"""Any of the three video sources; a plain URL string is accepted wherever this is."""


@attrs.frozen
class LocalVideo:
    """A video file on this machine, to analyze: uploaded, waited for until `ready`, analyzed.

    `video=Path("clip.mp4")` means `video=LocalVideo(Path("clip.mp4"))`; this class adds
    options. `client.analyze.tasks.create`, `client.analyze.generate` and `.stream` take it
    (a batch does not: upload first with `client.assets.upload(..., wait=True)`).

    Attributes:
        path: the file (a plain `str` is a URL to the API, so pass a `Path` or this class).
        progress: called with an `UploadProgress` while the file goes up (a coroutine
            function is awaited), as `client.assets.upload(progress=...)` calls it.
        wait_timeout: the most seconds to wait for the uploaded asset to be `ready` (None
            waits as long as it takes); past it, `TrackingTimeout` names the asset.
        concurrency: chunks sent at once when the file is large enough for a multipart
            upload (1-64).
    """

    path: str | os.PathLike[str]
    progress: Callable[[UploadProgress], object] | None = attrs.field(default=None, kw_only=True)
    wait_timeout: float | None = attrs.field(default=None, kw_only=True)
    concurrency: int = attrs.field(default=4, kw_only=True)


@attrs.frozen
class ImageInput:
    """One image for `image=` (pegasus1.6): a unique `name` and exactly one source."""

    name: str
    url: str | None = None
    asset_id: str | None = None
    base64_string: str | None = attrs.field(default=None, repr=False)
    media_type: str | None = None


@attrs.frozen
class MediaSource(ImageInput):
    """A reference image used by `prompt_v2` or a segment definition: a name and one source.

    The same fields as `ImageInput`; `media_type` is always sent, `image` unless set.
    """

    media_type: str = "image"


@attrs.frozen
class PromptV2:
    """A prompt that may reference up to four images as `<@name>` placeholders."""

    input_text: str
    media_sources: tuple[MediaSource, ...] = ()


@attrs.frozen
class TimeRange:
    """A window of the video in seconds (`end_time` at least 2 s after `start_time`)."""

    start_time: float
    end_time: float


@attrs.frozen
class SegmentFieldItems:
    """The element type of an `array` field, or the event fields of a `time_array` field."""

    type: str = attrs.field(converter=_item_type)
    fields: tuple[SegmentField, ...] = ()


@attrs.frozen
class SegmentField:
    """One field extracted for every segment (`type` is e.g. `string`, `number`, `timestamp`)."""

    name: str
    type: str = attrs.field(converter=_field_type)
    description: str | None = None
    format: str | None = attrs.field(default=None, converter=_time_format)
    enum: tuple[str, ...] | None = None
    items: SegmentFieldItems | None = None


@attrs.frozen
class SegmentDefinition:
    """What a kind of segment is (`id`, `description`) and which `fields` to extract for it."""

    id: str
    description: str
    fields: tuple[SegmentField, ...] = ()
    media_sources: tuple[MediaSource, ...] = ()
    time_ranges: tuple[TimeRange, ...] = ()


@attrs.frozen
class ResponseFormat:
    """The output format: `json_schema` (with `json_schema`) or `segment_definitions`.

    Use the constructors `ResponseFormat.schema(...)` and `ResponseFormat.segments(...)`.
    """

    type: str
    json_schema: Mapping[str, Any] | None = None
    segment_definitions: tuple[SegmentDefinition, ...] | None = None
    segment_time_format: str | None = None

    @classmethod
    def schema(cls, json_schema: Mapping[str, Any]) -> ResponseFormat:
        """Structured JSON output that follows `json_schema` (JSON Schema draft 2020-12 subset)."""
        return cls(type="json_schema", json_schema=json_schema)

    @classmethod
    def segments(
        cls, *definitions: SegmentDefinition, time_format: TimeFormat | None = None
    ) -> ResponseFormat:
        """Segmentation output (`analysis_mode="time_based_metadata"`) with 1-20 definitions."""
        return cls(
            type="segment_definitions",
            segment_definitions=tuple(definitions),
            segment_time_format=time_format,
        )
