"""Indexes (`/indexes`) and indexed assets (`/indexes/{index_id}/indexed-assets`).

An index groups assets made searchable by a Marengo model; an *indexed asset* is one asset
in one index, with its own lifecycle (`validating` ... `ready` or `failed`). Timestamps are
RFC 3339 strings on the wire (the official SDK keeps them as `str`); here they are parsed
into timezone-aware datetimes, as for every other model of this library.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from enum import StrEnum
from typing import Any, Literal

import attrs

from .common import WIRE_NAME, PageInfo, wire_name

IndexModelName = Literal["marengo3.0"]
"""The models an index can be created with (the API's newest enum; others are sent as given)."""

IndexModelOption = Literal["visual", "audio"]
"""What a Marengo index analyzes: the `model_options` of an `IndexModel`."""

IndexAddon = Literal["thumbnail"]
"""The add-ons an index can enable (Marengo only)."""

ModelFamily = Literal["marengo", "pegasus"]
"""The `model_family` filter of `indexes.list`."""

SortBy = Literal["created_at", "updated_at"]
"""What a list of indexes or indexed assets is sorted by (`created_at` by default)."""

SortOption = Literal["desc", "asc"]
"""The order of a sorted list (`desc`, newest first, by default)."""

IndexEmbeddingOption = Literal["visual", "audio", "transcription", "visual-text"]
"""Which embeddings `indexed_assets.retrieve(..., embedding_option=...)` returns."""


class IndexedAssetStatus(StrEnum):
    """The status of an indexed asset: `ready` (searchable) and `failed` are terminal.

    Members are strings, so `indexed.status == "ready"` holds; a status the API adds later is
    kept as its plain string.
    """

    VALIDATING = "validating"
    PENDING = "pending"
    QUEUED = "queued"
    INDEXING = "indexing"
    READY = "ready"
    FAILED = "failed"


IndexedAssetStatusValue = Literal["validating", "pending", "queued", "indexing", "ready", "failed"]
"""The values of `IndexedAssetStatus` as literal strings (what `status=` filters take)."""

INDEXED_ASSET_TERMINAL_STATUSES: frozenset[str] = frozenset({"ready", "failed"})
"""The statuses after which an indexed asset never changes."""


@attrs.frozen
class IndexModel:
    """A model enabled on an index, and what it analyzes.

    `indexes.create(models=...)` takes these, or the shorter mapping
    `{"marengo3.0": ["visual", "audio"]}`.

    Attributes:
        model_name: e.g. `marengo3.0`. Models cannot be changed once the index exists.
        model_options: what the model analyzes: `visual`, `audio` or both.
    """

    model_name: str | None = None
    model_options: tuple[str, ...] | None = None


IndexModels = Mapping[IndexModelName, Sequence[IndexModelOption]] | Sequence[IndexModel]
"""What `indexes.create(models=...)` takes: `{"marengo3.0": ["visual", "audio"]}`, or
`IndexModel`s (for a model name this library does not list yet)."""


@attrs.frozen
class Index:
    """An index as `GET /indexes/{index_id}` and the list return it.

    Attributes:
        index_id: the index's id (`_id` on the wire).
        index_name: its name (unique in the account).
        models: the models enabled, with their options.
        addons: the add-ons enabled (e.g. `thumbnail`).
        video_count: how many videos it holds. The API sends a number that may carry a
            fraction (`3.0`): it is kept as the float it is.
        total_duration: the seconds of video it holds.
        created_at: when it was created.
        updated_at: when it was last changed.
        expires_at: when the API deletes it (Free plan: 90 days after creation); None when
            it does not expire.
    """

    index_id: str = wire_name("_id")
    index_name: str | None = None
    models: tuple[IndexModel, ...] | None = None
    addons: tuple[str, ...] | None = None
    video_count: float | None = None
    total_duration: float | None = None
    created_at: datetime | None = None
    updated_at: datetime | None = None
    expires_at: datetime | None = None


@attrs.frozen
class IndexRef:
    """What `POST /indexes` returns: the new index's id (`_id` on the wire)."""

    index_id: str = wire_name("_id")


@attrs.frozen
class IndexPage:
    """One page of `GET /indexes`."""

    data: tuple[Index, ...]
    page_info: PageInfo = attrs.field(factory=PageInfo)


@attrs.frozen
class IndexedAssetRef:
    """What `POST /indexes/{index_id}/indexed-assets` returns (202): the ids to follow.

    Attributes:
        indexed_asset_id: the new indexed asset (`_id` on the wire): `wait` or `track` it.
        asset_id: the asset it indexes.
    """

    indexed_asset_id: str = wire_name("_id")
    asset_id: str | None = None


@attrs.frozen
class IndexedAssetSystemMetadata:
    """What the API found in the indexed file.

    Attributes:
        filename: the file's name.
        duration: seconds.
        fps: frames per second.
        width: pixels.
        height: pixels.
        size: bytes (the API sends a number that may carry a fraction).
    """

    filename: str | None = None
    duration: float | None = None
    fps: float | None = None
    width: int | None = None
    height: int | None = None
    size: float | None = None


class IndexedAssetHlsStatus(StrEnum):
    """The status of an indexed asset's HLS stream (upper case on the wire)."""

    PROCESSING = "PROCESSING"
    COMPLETE = "COMPLETE"
    CANCELED = "CANCELED"
    ERROR = "ERROR"


@attrs.frozen
class IndexedAssetHls:
    """The indexed asset's HLS stream, present only when created with `enable_video_stream`.

    Attributes:
        video_url: the stream's URL.
        thumbnail_urls: thumbnails of the video.
        status: `PROCESSING`, `COMPLETE`, `CANCELED` or `ERROR`.
        updated_at: when the status last changed.
    """

    video_url: str | None = None
    thumbnail_urls: tuple[str, ...] | None = None
    status: IndexedAssetHlsStatus | str | None = None
    updated_at: datetime | None = None


@attrs.frozen
class IndexedAssetSegment:
    """One embedding of an indexed asset: a vector for a span of the video.

    Attributes:
        vector: the embedding (`float` on the wire), a sequence of floats.
        start_offset_sec: where the span starts, in seconds.
        end_offset_sec: where it ends.
        embedding_option: what was embedded (`visual`, `audio`, `transcription`, ...).
        embedding_scope: `clip` (a span) or `video` (the whole video).
    """

    vector: tuple[float, ...] | None = attrs.field(default=None, metadata={WIRE_NAME: "float"})
    start_offset_sec: float | None = None
    end_offset_sec: float | None = None
    embedding_option: str | None = None
    embedding_scope: str | None = None


@attrs.frozen
class IndexedAssetVideoEmbedding:
    """The embeddings of an indexed asset's video, one per segment."""

    segments: tuple[IndexedAssetSegment, ...] | None = None


@attrs.frozen
class IndexedAssetEmbedding:
    """The embeddings of an indexed asset (only when `embedding_option` was asked for).

    Attributes:
        model_name: the model that made them.
        video_embedding: the segments.
    """

    model_name: str | None = None
    video_embedding: IndexedAssetVideoEmbedding | None = None


@attrs.frozen
class TranscriptionEntry:
    """A span of the indexed asset's transcription: the words said from `start` to `end` s."""

    start: float | None = None
    end: float | None = None
    value: str | None = None


@attrs.frozen
class IndexedAsset:
    """An indexed asset as the list shows it: one asset in one index, and how indexing goes.

    Attributes:
        indexed_asset_id: its id (`_id` on the wire).
        asset_id: the asset it indexes.
        status: `validating`, `pending`, `queued`, `indexing`, then `ready` or `failed` (a
            status the API adds is kept as a string). The API gives no reason for a failure.
        created_at: when indexing was asked for.
        updated_at: when it last changed (each status change updates it).
        indexed_at: when indexing finished.
        system_metadata: what the API found in the file.
    """

    indexed_asset_id: str = wire_name("_id")
    asset_id: str | None = None
    status: IndexedAssetStatus | str | None = None
    created_at: datetime | None = None
    updated_at: datetime | None = None
    indexed_at: datetime | None = None
    system_metadata: IndexedAssetSystemMetadata | None = None

    @property
    def is_terminal(self) -> bool:
        """True once the indexed asset is `ready` or `failed` (it will not change again)."""
        return str(self.status) in INDEXED_ASSET_TERMINAL_STATUSES


@attrs.frozen
class IndexedAssetDetail(IndexedAsset):
    """An indexed asset as `GET /indexes/{index_id}/indexed-assets/{id}` returns it.

    Attributes:
        user_metadata: your metadata, or None when none was set.
        hls: the HLS stream, only when created with `enable_video_stream`.
        embedding: the embeddings, only when `embedding_option` was asked for.
        transcription: the transcription, only when `transcription=True` was asked for.
    """

    user_metadata: Mapping[str, Any] | None = None
    hls: IndexedAssetHls | None = None
    embedding: IndexedAssetEmbedding | None = None
    transcription: tuple[TranscriptionEntry, ...] | None = None


@attrs.frozen
class IndexedAssetPage:
    """One page of `GET /indexes/{index_id}/indexed-assets`."""

    data: tuple[IndexedAsset, ...]
    page_info: PageInfo = attrs.field(factory=PageInfo)


@attrs.frozen
class IndexSummary:
    """The index an asset is indexed in: its id (`_id` on the wire) and name."""

    index_id: str = wire_name("_id")
    name: str | None = None


@attrs.frozen
class AssetIndexing:
    """One index membership of an asset (`GET /assets/{asset_id}/indexed-assets`).

    Attributes:
        indexed_asset_id: the indexed asset (`_id` on the wire).
        index: the index it belongs to.
    """

    indexed_asset_id: str = wire_name("_id")
    index: IndexSummary | None = None


@attrs.frozen
class AssetIndexingPage:
    """One page of `GET /assets/{asset_id}/indexed-assets`."""

    data: tuple[AssetIndexing, ...]
    page_info: PageInfo = attrs.field(factory=PageInfo)


@attrs.frozen
class Range:
    """A range filter of `indexed_assets.list` (`duration`, `fps`, `width`, `height`, `size`).

    ```python
    Range(gte=60)            # at least 60
    Range(lte=1080)          # at most 1080
    Range(gte=30, lte=30)    # exactly 30
    ```
    """

    gte: float | None = None
    lte: float | None = None
