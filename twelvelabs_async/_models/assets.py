"""Assets (`/assets`): files uploaded once and used by analysis, indexing and embeddings."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from enum import StrEnum
from typing import Any, Literal

import attrs

from .common import PageInfo, wire_name


class AssetStatus(StrEnum):
    """The status of an asset: `processing` until it is `ready` (usable) or `failed`.

    `processing` covers both a file still arriving (a URL being fetched) and one being
    validated. Members are strings, so `asset.status == "ready"` holds.
    """

    PROCESSING = "processing"
    READY = "ready"
    FAILED = "failed"


AssetStatusValue = Literal["processing", "ready", "failed"]
"""The values of `AssetStatus` as literal strings."""


ASSET_TERMINAL_STATUSES: frozenset[str] = frozenset({"ready", "failed"})
"""The statuses after which an asset never changes."""


class AssetMethod(StrEnum):
    """How an asset was created: uploaded (`direct`), fetched (`url`), in chunks or imported."""

    DIRECT = "direct"
    URL = "url"
    MULTIPART = "multipart"
    CONNECTOR = "connector"


AssetType = Literal["image", "video", "audio", "document"]
"""The kinds of asset an `asset_types=` list filter takes."""


class AssetPartStatus(StrEnum):
    """The status of an asset's HLS stream or thumbnail, reported apart from the asset's own."""

    PENDING = "pending"
    PROCESSING = "processing"
    READY = "ready"
    ERROR = "error"


@attrs.frozen
class AssetHls:
    """The asset's HLS stream (video and audio, when `enable_hls` was set).

    Attributes:
        status: `pending`, `processing`, `ready` or `error`.
        manifest_url: the `.m3u8` manifest, once `status` is `ready`.
    """

    status: AssetPartStatus | str | None = None
    manifest_url: str | None = None


@attrs.frozen
class AssetThumbnail:
    """The asset's representative thumbnail (when `enable_thumbnail` was set).

    Attributes:
        status: `pending`, `processing`, `ready` or `error`.
        representative_url: the image, once `status` is `ready`.
    """

    status: AssetPartStatus | str | None = None
    representative_url: str | None = None


@attrs.frozen
class AssetSource:
    """Where an imported asset came from (connector imports only).

    Attributes:
        type: the kind of source, e.g. `connector`.
        details: what the provider says about the file (`provider`, `source_id`,
            `original_filename`, `source_link`), as sent.
    """

    type: str | None = None
    details: Mapping[str, Any] | None = None


@attrs.frozen
class AssetError:
    """Why an asset failed. The `message` text is not part of the API's contract."""

    message: str


@attrs.frozen
class Asset:
    """An asset as `POST /assets` returns it: its id, and `status` `processing` at first.

    Attributes:
        asset_id: the asset's id (`_id` on the wire).
        status: `processing`, `ready` or `failed` (a status the API adds is kept as a
            string); None only if the API left it out, which its schema allows.
        method: `direct`, `url`, `multipart` or `connector`.
        filename: the file's name, as given or taken from the file or the URL.
        file_type: the file's MIME type.
        created_at: when the asset was created.
        user_metadata: your metadata, or None when none was set.
        source: where an imported asset came from (connector imports only).
    """

    asset_id: str = wire_name("_id")
    status: AssetStatus | str | None = None
    method: AssetMethod | str | None = None
    filename: str | None = None
    file_type: str | None = None
    created_at: datetime | None = None
    user_metadata: Mapping[str, Any] | None = None
    source: AssetSource | None = None

    @property
    def is_terminal(self) -> bool:
        """True once the asset is `ready` or `failed` (it will not change again)."""
        return str(self.status) in ASSET_TERMINAL_STATUSES


@attrs.frozen
class AssetDetail(Asset):
    """An asset as `GET /assets/{asset_id}` and the list return it: `Asset` and its processing.

    Attributes:
        hls: the HLS stream, when it was requested (video and audio).
        thumbnail: the thumbnail, when it was requested.
        technical_metadata: what probing the file found (container, codecs, streams, fps,
            size, document facts; about 60 optional keys, as sent): absent while
            `processing`, possibly partial when `failed`.
        size: the file's size in bytes, once `ready`.
        duration: the media's duration in seconds, once `ready` (video and audio only).
        error: why the asset failed, when `status` is `failed`.
    """

    hls: AssetHls | None = None
    thumbnail: AssetThumbnail | None = None
    technical_metadata: Mapping[str, Any] | None = None
    size: int | None = None
    duration: float | None = None
    error: AssetError | None = None


@attrs.frozen
class AssetPage:
    """One page of `GET /assets`."""

    data: tuple[AssetDetail, ...]
    page_info: PageInfo = attrs.field(factory=PageInfo)
