"""The simulator's assets: state, lifecycle, limits and the `/assets` routes.

`POST /assets` reads its `multipart/form-data` body as it arrives: a file part is counted and
dropped piece by piece, never held, and one over the direct-upload limit for its kind of file
(`assets._files`) is answered `400` with the flat error body once the body is read. Each
asset's status is computed from the clock when read, like a task's: `processing` for a
duration drawn from the configured `asset_duration` range, else `duration` (a URL import
first spends another such draw fetching the file, so it takes longer), then `ready`, or
`failed` with `error.message` at the configured `failure_rate`. `technical_metadata` is
left out while `processing` (and partial once `failed`); `size` and `duration` are set once
`ready`. An omitted `enable_hls` or `enable_thumbnail` is taken as true, as the newest SDK
documents. A form field the endpoint does not take, or one sent twice, is answered 400
(`parameter_unknown`, `parameter_invalid`).

Route names (for per-route faults and the statistics): `asset_create`, `asset_list`,
`asset_retrieve`, `asset_delete`. Nothing here is in the API but `reference_asset`, which
stands for an indexed asset using the asset (so that delete answers 409 without `force`), and
`seed`, which creates many assets at once without HTTP (`Simulator.seed_assets`). Filtered by
`asset_ids`, the list looks up only those ids (an unknown one is simply missing), so a
tracker's batches of 50 ids stay cheap among thousands of assets.
"""

from __future__ import annotations

import json
import random
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

import attrs
from aiohttp import BodyPartReader, web

from .._convert import unstructure_response
from .._validate import check_user_metadata
from ..assets._files import URL_LIMITS, content_type, direct_limit, kind_of, megabytes
from ..errors import InvalidInputError
from ..models import (
    Asset,
    AssetDetail,
    AssetError,
    AssetHls,
    AssetThumbnail,
)
from ._replies import flat_error, json_reply, page_info, page_params

if TYPE_CHECKING:
    from .._clock import WallClock
    from ._config import SimulatorConfig

ASSET_ROUTES = ("asset_create", "asset_list", "asset_retrieve", "asset_delete")
"""Route names of the asset endpoints, for per-route faults and in request statistics."""
ASSET_TYPES = frozenset({"image", "video", "audio", "document"})
"""The values the `asset_types` filter takes."""
_FIELDS = frozenset(
    {"method", "file", "url", "filename", "enable_hls", "enable_thumbnail", "user_metadata"}
)
_READ = 64 * 1024
"""Bytes of a file part read at a time (and dropped)."""
_FAILURES = {
    "multipart": "The uploaded file could not be processed: it is corrupt or not supported.",
    "direct": "The file could not be processed: it is corrupt or not a supported format.",
    "url": "The file at the URL could not be fetched or is not a supported format.",
}


class Refused(Exception):
    """A request the API answers 400: `code` and `message` of the flat error body."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


def _when(epoch: float) -> datetime:
    return datetime.fromtimestamp(epoch, UTC)


@attrs.define(eq=False)
class SimAsset:
    """One asset: what it was created with, its timeline and how it ends."""

    asset_id: str
    method: str
    filename: str
    file_type: str
    kind: str
    created: float
    finish_at: float
    outcome: str
    size: int
    duration: float | None
    hls: bool
    thumbnail: bool
    user_metadata: Mapping[str, Any] | None = None
    references: int = 0
    """Indexed assets using it (see `Simulator.reference_asset`)."""

    def status_at(self, now: float) -> str:
        """`processing` until `finish_at`, then the outcome."""
        return self.outcome if now >= self.finish_at else "processing"

    def created_model(self, now: float) -> Asset:
        """The asset as `POST /assets` answers it."""
        return Asset(
            asset_id=self.asset_id,
            status=self.status_at(now),
            method=self.method,
            filename=self.filename,
            file_type=self.file_type,
            created_at=_when(self.created),
            user_metadata=self.user_metadata,
        )

    def model(self, now: float) -> AssetDetail:
        """The asset as `GET /assets/{id}` and the list show it at `now`."""
        status = self.status_at(now)
        part = {"processing": "pending", "ready": "ready"}.get(status, "error")
        hls = thumbnail = None
        if self.hls and self.kind in ("video", "audio"):
            url = f"https://hls.simulator.invalid/{self.asset_id}/index.m3u8"
            hls = AssetHls(status=part, manifest_url=url if part == "ready" else None)
        if self.thumbnail and self.file_type not in ("text/plain", "text/markdown"):
            url = f"https://thumbnails.simulator.invalid/{self.asset_id}.jpg"
            thumbnail = AssetThumbnail(
                status=part, representative_url=url if part == "ready" else None
            )
        ready = status == "ready"
        return AssetDetail(
            **attrs.asdict(self.created_model(now), recurse=False),
            hls=hls,
            thumbnail=thumbnail,
            technical_metadata=self._technical(status),
            size=self.size if ready else None,
            duration=self.duration if ready else None,
            error=AssetError(_FAILURES[self.method]) if status == "failed" else None,
        )

    def _technical(self, status: str) -> dict[str, Any] | None:
        if status == "processing":
            return None
        facts: dict[str, Any] = {"file_size_bytes": self.size, "file_mime_type": self.file_type}
        if status == "failed":
            return facts  # probing stopped early: partial
        if self.kind == "video":
            facts |= {
                "video_codec": "h264",
                "video_width": 1280,
                "video_height": 720,
                "video_fps": 30.0,
                "video_duration_seconds": self.duration,
                "has_audio": True,
                "total_video_streams": 1,
                "total_audio_streams": 1,
            }
        elif self.kind == "audio":
            facts |= {
                "audio_codec": "aac",
                "audio_sample_rate": 48000,
                "audio_channels": 2,
                "audio_duration_seconds": self.duration,
            }
        elif self.kind == "image":
            facts |= {"image_width": 1024, "image_height": 768, "image_format": "jpeg"}
        return facts


def _flag(value: str, name: str) -> bool:
    lowered = value.strip().lower()
    if lowered not in ("true", "false"):
        raise Refused("parameter_invalid", f"{name} must be true or false.")
    return lowered == "true"


def _url_filename(url: str) -> str:
    name = urlsplit(url).path.rsplit("/", 1)[-1]
    return name or "asset"


class AssetRoutes:
    """The `/assets` endpoints, over the simulator's clock and settings."""

    def __init__(self, config: SimulatorConfig, clock: WallClock) -> None:
        self.config = config
        self.clock = clock
        self._rng = random.Random(config.seed + 4)
        self._assets: dict[str, SimAsset] = {}
        self._order: dict[str, int] = {}
        """Each asset's place in creation order (the id-filtered list sorts by it)."""
        self._created = 0

    def add_routes(self, app: web.Application) -> None:
        """Register every asset route under `/v1.3`."""
        add = app.router.add_route
        add("POST", "/v1.3/assets", self.create, name="asset_create")
        add("GET", "/v1.3/assets", self.list, name="asset_list")
        add("GET", "/v1.3/assets/{asset_id}", self.retrieve, name="asset_retrieve")
        add("DELETE", "/v1.3/assets/{asset_id}", self.delete, name="asset_delete")

    def get(self, asset_id: str) -> SimAsset | None:
        """The asset, or None when there is none with this id."""
        return self._assets.get(asset_id)

    @property
    def durations(self) -> tuple[float, float]:
        """(min, max) seconds an asset spends `processing` (`asset_duration`, else `duration`)."""
        return self.config.asset_duration or self.config.duration

    def _keep(self, asset: SimAsset) -> None:
        self._assets[asset.asset_id] = asset
        self._order[asset.asset_id] = self._created
        self._created += 1

    def seed(
        self,
        n: int,
        *,
        duration: float | tuple[float, float] | None,
        failure_rate: float | None,
        rng: random.Random,
    ) -> list[str]:
        """Create `n` video assets now, as direct uploads would; their ids, oldest first.

        Each is `processing` for `duration` seconds (fixed, or drawn from a (min, max)
        range; default `durations`), then `ready`, or `failed` at `failure_rate` (default the
        configured one).
        """
        now = self.clock.time()
        rate = self.config.failure_rate if failure_rate is None else failure_rate
        ids = []
        for _ in range(n):
            span = self.durations if duration is None else duration
            took = rng.uniform(*span) if isinstance(span, tuple) else float(span)
            filename = f"clip-{len(self._assets)}.mp4"
            asset = SimAsset(
                asset_id=f"{rng.getrandbits(96):024x}",
                method="direct",
                filename=filename,
                file_type=content_type(filename),
                kind="video",
                created=now,
                finish_at=now + took,
                outcome="failed" if rng.random() < rate else "ready",
                size=rng.randint(1024 * 1024, 200 * 1024 * 1024),
                duration=round(rng.uniform(*self.config.video_duration), 2),
                hls=True,
                thumbnail=True,
            )
            self._keep(asset)
            ids.append(asset.asset_id)
        return ids

    # --- create -----------------------------------------------------------------------------

    async def _form(self, request: web.Request) -> tuple[dict[str, str], str | None, int]:
        """The form's text fields, the file part's name (None without one) and its size.

        The file's bytes are read and dropped as they arrive. Every part is read, even after
        a problem is found, so that the answer reaches a client still sending.
        """
        if not request.content_type.startswith("multipart/form-data"):
            raise Refused("content_type_invalid", "The request body must be multipart/form-data.")
        fields: dict[str, str] = {}
        filename: str | None = None
        size = 0
        problem: Refused | None = None
        reader = await request.multipart()
        async for part in reader:
            if not isinstance(part, BodyPartReader) or part.name is None:
                continue  # pragma: no cover - a nested multipart: not a form field
            name = part.name
            if name == "file":
                filename = part.filename or ""
                while chunk := await part.read_chunk(_READ):
                    size += len(chunk)
                continue
            value = (await part.read(decode=False)).decode("utf-8", errors="replace")
            if problem is None and name not in _FIELDS:
                problem = Refused("parameter_unknown", f"Unknown parameter: {name}.")
            if problem is None and name in fields:
                problem = Refused("parameter_invalid", f"The {name} parameter is repeated.")
            fields[name] = value
        if problem is not None:
            raise problem
        return fields, filename, size

    def _new(self, fields: Mapping[str, str], part: str | None, size: int) -> SimAsset:
        """An asset for a valid form, or `Refused` saying what the API would refuse."""
        method = fields.get("method")
        if method not in ("direct", "url"):
            raise Refused("parameter_invalid", "method must be direct or url.")
        url = fields.get("url")
        if method == "direct":
            if part is None or url is not None:
                raise Refused("parameter_invalid", "method direct takes a file and no url.")
            filename = fields.get("filename") or part or "asset"
        else:
            if url is None or part is not None:
                raise Refused("parameter_invalid", "method url takes a url and no file.")
            if urlsplit(url).scheme not in ("http", "https") or not urlsplit(url).netloc:
                raise Refused("parameter_invalid", "url must be an http or https URL.")
            filename = fields.get("filename") or _url_filename(url)
        kind = kind_of(filename) or "video"
        rng, cfg = self._rng, self.config
        if method == "direct":
            limit = direct_limit(filename)
            if size > limit:
                raise Refused(
                    "parameter_invalid",
                    f"The file is {size} bytes; a direct upload of this type takes at most "
                    f"{megabytes(limit)}. Use a multipart upload for larger files.",
                )
            if size == 0:
                raise Refused("parameter_invalid", "The file is empty.")
            took = rng.uniform(*self.durations)
        else:
            size = rng.randint(1024 * 1024, min(URL_LIMITS[kind], 512 * 1024 * 1024))
            took = rng.uniform(*self.durations) + rng.uniform(*self.durations)  # fetch, check
        metadata = None
        if "user_metadata" in fields:
            try:
                metadata = check_user_metadata(json.loads(fields["user_metadata"]))
            except (ValueError, InvalidInputError) as exc:
                raise Refused("parameter_invalid", f"user_metadata is invalid: {exc}") from None
        now = self.clock.time()
        media = kind in ("video", "audio")
        return SimAsset(
            asset_id=f"{rng.getrandbits(96):024x}",
            method=method,
            filename=filename,
            file_type=content_type(filename),
            kind=kind,
            created=now,
            finish_at=now + took,
            outcome="failed" if rng.random() < cfg.failure_rate else "ready",
            size=size,
            duration=round(rng.uniform(*cfg.video_duration), 2) if media else None,
            hls=_flag(fields.get("enable_hls", "true"), "enable_hls"),
            thumbnail=_flag(fields.get("enable_thumbnail", "true"), "enable_thumbnail"),
            user_metadata=metadata,
        )

    async def create(self, request: web.Request) -> web.StreamResponse:
        """`POST /assets`: read the form as it streams in, check it, answer 201."""
        try:
            fields, part, size = await self._form(request)
            asset = self._new(fields, part, size)
        except Refused as exc:
            return flat_error(400, exc.code, exc.message)
        except ValueError as exc:  # a body that is not the multipart it claims to be
            return flat_error(400, "parameter_invalid", f"The form could not be read: {exc}")
        except ConnectionError:  # the client stopped sending: nobody reads the answer
            return flat_error(400, "parameter_invalid", "The upload was cut off.")
        self._keep(asset)
        return json_reply(201, unstructure_response(asset.created_model(self.clock.time())))

    def add_multipart(
        self,
        *,
        asset_id: str,
        filename: str,
        size: int,
        hls: bool,
        thumbnail: bool,
        user_metadata: Mapping[str, Any] | None,
    ) -> SimAsset:
        """The asset of a completed multipart upload: `processing`, then ready or failed."""
        rng, cfg = self._rng, self.config
        now = self.clock.time()
        kind = kind_of(filename) or "video"
        media = kind in ("video", "audio")
        asset = SimAsset(
            asset_id=asset_id,
            method="multipart",
            filename=filename,
            file_type=content_type(filename),
            kind=kind,
            created=now,
            finish_at=now + rng.uniform(*self.durations),
            outcome="failed" if rng.random() < cfg.failure_rate else "ready",
            size=size,
            duration=round(rng.uniform(*cfg.video_duration), 2) if media else None,
            hls=hls,
            thumbnail=thumbnail,
            user_metadata=user_metadata,
        )
        self._assets[asset_id] = asset
        return asset

    # --- read, delete -----------------------------------------------------------------------

    async def list(self, request: web.Request) -> web.StreamResponse:
        """`GET /assets`: newest first; `asset_ids`, `asset_types` repeatable; `filename`."""
        try:
            page, limit = page_params(request)
        except ValueError as exc:
            return flat_error(400, "parameter_invalid", str(exc))
        types = set(request.query.getall("asset_types", []))
        if types - ASSET_TYPES:
            return flat_error(
                400, "parameter_invalid", "asset_types takes image, video, audio, document."
            )
        ids = set(request.query.getall("asset_ids", []))
        name = request.query.get("filename", "").casefold()
        # Filtered by id, only those ids are looked at (a tracker's batches of 50 among
        # thousands of assets); newest first either way.
        candidates = (
            sorted(
                (asset for i in ids if (asset := self._assets.get(i)) is not None),
                key=lambda asset: self._order[asset.asset_id],
                reverse=True,
            )
            if ids
            else reversed(self._assets.values())
        )
        matching = [
            asset
            for asset in candidates
            if (not types or asset.kind in types) and name in asset.filename.casefold()
        ]
        now = self.clock.time()
        total = len(matching)
        data = [
            unstructure_response(a.model(now)) for a in matching[(page - 1) * limit : page * limit]
        ]
        info = page_info(page, limit, total)
        return json_reply(200, {"data": data, "page_info": unstructure_response(info)})

    def _found(self, request: web.Request) -> SimAsset | web.Response:
        asset_id = request.match_info["asset_id"]
        asset = self._assets.get(asset_id)
        if asset is None:
            return flat_error(
                404,
                "resource_not_exist",
                f"Resource with id {asset_id} does not exist in assets.",
            )
        return asset

    async def retrieve(self, request: web.Request) -> web.StreamResponse:
        """`GET /assets/{asset_id}`: the asset now."""
        asset = self._found(request)
        if isinstance(asset, web.Response):
            return asset
        return json_reply(200, unstructure_response(asset.model(self.clock.time())))

    async def delete(self, request: web.Request) -> web.StreamResponse:
        """`DELETE /assets/{asset_id}?force=`: 409 while referenced, unless forced; no body."""
        asset = self._found(request)
        if isinstance(asset, web.Response):
            return asset
        try:
            force = _flag(request.query.get("force", "false"), "force")
        except Refused as exc:
            return flat_error(400, exc.code, exc.message)
        if asset.references and not force:
            return flat_error(
                409,
                "asset_in_use",
                f"The asset is used by {asset.references} indexed asset(s); delete them "
                "first or pass force=true.",
            )
        del self._assets[asset.asset_id]
        del self._order[asset.asset_id]
        return web.Response(status=200)
