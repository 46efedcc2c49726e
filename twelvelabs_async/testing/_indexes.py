"""The simulator's indexes and indexed assets: state, lifecycle and their routes.

Indexes (`/indexes`) are created with a unique name (`index_name_already_exists` otherwise)
and at least one model. An indexed asset (`/indexes/{index_id}/indexed-assets`) needs a
`ready` asset of the simulator's `/assets` (400 otherwise; 404 for an unknown index) and
counts as a reference to it, so that `DELETE /assets/{id}` answers 409 without `force`. Its
status is computed from the clock when read, like a task's: `validating`, `pending`,
`queued` and `indexing` each take a share of a duration drawn from `indexing_duration`,
then it is `ready`, or `failed` at `indexing_failure_rate` (the API gives no reason). The
detail carries `system_metadata` (from the asset), `hls` only with `enable_video_stream`,
`embedding` only when `embedding_option` is asked for (seeded vectors of 512 floats, one per
10 s clip and option) and `transcription` when asked for, once `ready`. Every error body is
flat, `{code, message}`.

Route names (for per-route faults and the statistics): `index_create`, `index_list`,
`index_retrieve`, `index_update`, `index_delete`, `indexed_asset_create`,
`indexed_asset_list`, `indexed_asset_retrieve`, `indexed_asset_update`,
`indexed_asset_delete`, `asset_indexed_assets`.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import attrs
from aiohttp import web

from .._convert import unstructure_response
from .._validate import check_user_metadata
from ..errors import InvalidInputError
from ..models import (
    AssetIndexing,
    Index,
    IndexedAssetDetail,
    IndexedAssetEmbedding,
    IndexedAssetHls,
    IndexedAssetRef,
    IndexedAssetSegment,
    IndexedAssetSystemMetadata,
    IndexedAssetVideoEmbedding,
    IndexModel,
    IndexRef,
    IndexSummary,
    TranscriptionEntry,
)
from ._replies import flat_error, json_reply, page_info, page_params

if TYPE_CHECKING:
    from .._clock import WallClock
    from ._assets import AssetRoutes
    from ._config import SimulatorConfig

INDEX_ROUTES = (
    "index_create",
    "index_list",
    "index_retrieve",
    "index_update",
    "index_delete",
    "indexed_asset_create",
    "indexed_asset_list",
    "indexed_asset_retrieve",
    "indexed_asset_update",
    "indexed_asset_delete",
    "asset_indexed_assets",
)
"""Route names of the index endpoints, for per-route faults and in request statistics."""

PHASES = ("validating", "pending", "queued", "indexing")
"""The statuses an indexed asset goes through before it ends."""
_SHARES = (0.1, 0.1, 0.1, 0.7)
"""The share of the indexing duration each phase takes."""
_MODEL_OPTIONS = frozenset({"visual", "audio"})
_EMBEDDING_OPTIONS = frozenset({"visual", "audio", "transcription", "visual-text"})
_STATUSES = frozenset({*PHASES, "ready", "failed"})
_DIMENSION = 512
_CLIP = 10.0
_RANGES = ("duration", "fps", "width", "height", "size")
_WORDS = ("the", "team", "scores", "a", "goal", "in", "second", "half", "crowd", "cheers")


class Refused(Exception):
    """A request the API refuses: the status, and `code` and `message` of the flat body."""

    def __init__(self, code: str, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.status = status

    def reply(self) -> web.Response:
        """The flat error response."""
        return flat_error(self.status, self.code, self.message)


def _when(epoch: float | None) -> datetime | None:
    return None if epoch is None else datetime.fromtimestamp(epoch, UTC)


def _epoch(text: str, name: str) -> float:
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise Refused("parameter_invalid", f"{name} must be an RFC 3339 date and time.") from None
    return (moment if moment.tzinfo else moment.replace(tzinfo=UTC)).timestamp()


def _flag(value: object, name: str) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.lower() in ("true", "false"):
        return value.lower() == "true"
    raise Refused("parameter_invalid", f"{name} must be true or false.")


@attrs.define(eq=False)
class SimIndex:
    """One index."""

    index_id: str
    name: str
    models: tuple[IndexModel, ...]
    addons: tuple[str, ...]
    created: float
    updated: float


@attrs.define(eq=False)
class SimIndexedAsset:
    """One asset in one index: its timeline, how it ends and what it was created with."""

    indexed_asset_id: str
    index_id: str
    asset_id: str
    created: float
    phase_ends: tuple[float, ...]
    outcome: str
    filename: str
    duration: float
    size: float
    video_stream: bool
    user_metadata: dict[str, Any] | None = None
    metadata_updated: float | None = None

    @property
    def finish_at(self) -> float:
        """When indexing ends."""
        return self.phase_ends[-1]

    def status_at(self, now: float) -> str:
        """The phase at `now`, then the outcome."""
        for phase, end in zip(PHASES, self.phase_ends, strict=True):
            if now < end:
                return phase
        return self.outcome

    def updated_at(self, now: float) -> float:
        """The last status change or metadata update before `now`."""
        changes = [self.created, *(end for end in self.phase_ends if end <= now)]
        if self.metadata_updated is not None:
            changes.append(self.metadata_updated)
        return max(changes)


class IndexRoutes:
    """The `/indexes` and indexed-asset endpoints, over the simulator's clock and assets."""

    def __init__(self, config: SimulatorConfig, clock: WallClock, assets: AssetRoutes) -> None:
        self.config = config
        self.clock = clock
        self.assets = assets
        self._rng = random.Random(config.seed + 5)
        self._indexes: dict[str, SimIndex] = {}
        self._indexed: dict[str, SimIndexedAsset] = {}

    def add_routes(self, app: web.Application) -> None:
        """Register every index route under `/v1.3`."""
        add = app.router.add_route
        base = "/v1.3/indexes"
        one = base + "/{index_id}"
        items = one + "/indexed-assets"
        item = items + "/{indexed_asset_id}"
        add("POST", base, self.create_index, name="index_create")
        add("GET", base, self.list_indexes, name="index_list")
        add("GET", one, self.retrieve_index, name="index_retrieve")
        add("PUT", one, self.update_index, name="index_update")
        add("DELETE", one, self.delete_index, name="index_delete")
        add("POST", items, self.create, name="indexed_asset_create")
        add("GET", items, self.list, name="indexed_asset_list")
        add("GET", item, self.retrieve, name="indexed_asset_retrieve")
        add("PATCH", item, self.update, name="indexed_asset_update")
        add("DELETE", item, self.delete, name="indexed_asset_delete")
        add(
            "GET",
            "/v1.3/assets/{asset_id}/indexed-assets",
            self.of_asset,
            name="asset_indexed_assets",
        )

    def indexed_status(self, indexed_asset_id: str) -> str:
        """An indexed asset's status now (KeyError if unknown)."""
        return self._indexed[indexed_asset_id].status_at(self.clock.time())

    def _new_id(self) -> str:
        return f"{self._rng.getrandbits(96):024x}"

    # --- indexes ----------------------------------------------------------------------------

    def _index(self, request: web.Request) -> SimIndex:
        index_id = request.match_info["index_id"]
        index = self._indexes.get(index_id)
        if index is None:
            raise Refused(
                "resource_not_exist",
                f"Resource with id {index_id} does not exist in indexes.",
                status=404,
            )
        return index

    def _name(self, value: object, *, but: SimIndex | None = None) -> str:
        if not isinstance(value, str) or not value.strip():
            raise Refused("parameter_invalid", "index_name must be a non-empty string.")
        if any(i.name == value and i is not but for i in self._indexes.values()):
            raise Refused("index_name_already_exists", f"Index name {value} already exists.")
        return value

    @staticmethod
    def _models(value: object) -> tuple[IndexModel, ...]:
        if not isinstance(value, list) or not value:
            raise Refused("parameter_invalid", "models must be a non-empty array.")
        models = []
        for model in value:
            if not isinstance(model, Mapping):
                raise Refused("parameter_invalid", "each model must be an object.")
            name, options = model.get("model_name"), model.get("model_options")
            if not isinstance(name, str) or not name.startswith(("marengo", "pegasus")):
                raise Refused("parameter_invalid", f"model_name {name!r} is not supported.")
            if not isinstance(options, list) or not options:
                raise Refused("parameter_invalid", "model_options must be a non-empty array.")
            if name.startswith("marengo") and not set(options) <= _MODEL_OPTIONS:
                raise Refused("parameter_invalid", "model_options takes visual and audio.")
            models.append(IndexModel(name, tuple(options)))
        return tuple(models)

    def index_model(self, index: SimIndex, now: float) -> Index:
        """The index as the API shows it at `now`."""
        ready = [
            item
            for item in self._indexed.values()
            if item.index_id == index.index_id and item.status_at(now) == "ready"
        ]
        return Index(
            index_id=index.index_id,
            index_name=index.name,
            models=index.models,
            addons=index.addons,
            video_count=float(len(ready)),
            total_duration=round(sum(item.duration for item in ready), 2),
            created_at=_when(index.created),
            updated_at=_when(index.updated),
        )

    async def _json(self, request: web.Request, allowed: frozenset[str]) -> Mapping[str, Any]:
        try:
            body = await request.json()
        except ValueError:
            raise Refused("parameter_invalid", "The request body must be JSON.") from None
        if not isinstance(body, Mapping):
            raise Refused("parameter_invalid", "The request body must be a JSON object.")
        unknown = sorted(set(body) - allowed)
        if unknown:
            raise Refused("parameter_unknown", f"Unknown parameter(s): {', '.join(unknown)}.")
        return body

    async def create_index(self, request: web.Request) -> web.StreamResponse:
        """`POST /indexes`: 201 `{_id}`."""
        try:
            body = await self._json(request, frozenset({"index_name", "models", "addons"}))
            name = self._name(body.get("index_name"))
            models = self._models(body.get("models"))
            addons = body.get("addons", [])
            if not isinstance(addons, list) or not set(addons) <= {"thumbnail"}:
                raise Refused("parameter_invalid", "addons takes thumbnail.")
        except Refused as exc:
            return exc.reply()
        now = self.clock.time()
        index = SimIndex(self._new_id(), name, models, tuple(addons), now, now)
        self._indexes[index.index_id] = index
        return json_reply(201, unstructure_response(IndexRef(index_id=index.index_id)))

    async def list_indexes(self, request: web.Request) -> web.StreamResponse:
        """`GET /indexes`: filtered, sorted, paginated."""
        query = request.query
        try:
            page, limit = page_params(request)
            key, descending = _sorting(query)
            after = {
                name: _epoch(query[name], name)
                for name in ("created_at", "updated_at")
                if name in query
            }
            family = query.get("model_family")
            if family is not None and family not in ("marengo", "pegasus"):
                raise Refused("parameter_invalid", "model_family takes marengo or pegasus.")
        except ValueError as exc:
            return flat_error(400, "parameter_invalid", str(exc))
        except Refused as exc:
            return exc.reply()
        wanted = {o for o in query.get("model_options", "").split(",") if o}

        def keep(index: SimIndex) -> bool:
            options = {o for m in index.models for o in m.model_options or ()}
            families = {str(m.model_name).rstrip("0123456789.") for m in index.models}
            return (
                query.get("index_name", index.name) == index.name
                and wanted <= options
                and (family is None or family in families)
                and index.created >= after.get("created_at", index.created)
                and index.updated >= after.get("updated_at", index.updated)
            )

        field = {"created_at": "created", "updated_at": "updated"}[key]
        matching = sorted(
            (i for i in self._indexes.values() if keep(i)),
            key=lambda i: getattr(i, field),
            reverse=descending,
        )
        now = self.clock.time()
        return _page(matching, page, limit, lambda i: self.index_model(i, now))

    async def retrieve_index(self, request: web.Request) -> web.StreamResponse:
        """`GET /indexes/{index_id}`."""
        try:
            index = self._index(request)
        except Refused as exc:
            return exc.reply()
        return json_reply(200, unstructure_response(self.index_model(index, self.clock.time())))

    async def update_index(self, request: web.Request) -> web.StreamResponse:
        """`PUT /indexes/{index_id}` `{index_name}`: 200, no body."""
        try:
            index = self._index(request)
            body = await self._json(request, frozenset({"index_name"}))
            index.name = self._name(body.get("index_name"), but=index)
        except Refused as exc:
            return exc.reply()
        index.updated = self.clock.time()
        return web.Response(status=200)

    async def delete_index(self, request: web.Request) -> web.StreamResponse:
        """`DELETE /indexes/{index_id}`: the index and every indexed asset in it."""
        try:
            index = self._index(request)
        except Refused as exc:
            return exc.reply()
        for item in [i for i in self._indexed.values() if i.index_id == index.index_id]:
            self._forget(item)
        del self._indexes[index.index_id]
        return web.Response(status=200)

    # --- indexed assets ---------------------------------------------------------------------

    def _forget(self, item: SimIndexedAsset) -> None:
        del self._indexed[item.indexed_asset_id]
        asset = self.assets.get(item.asset_id)
        if asset is not None and asset.references > 0:
            asset.references -= 1

    def _item(self, request: web.Request) -> SimIndexedAsset:
        index = self._index(request)
        item_id = request.match_info["indexed_asset_id"]
        item = self._indexed.get(item_id)
        if item is None or item.index_id != index.index_id:
            raise Refused(
                "resource_not_exist",
                f"Resource with id {item_id} does not exist in indexed assets.",
                status=404,
            )
        return item

    async def create(self, request: web.Request) -> web.StreamResponse:
        """`POST /indexes/{index_id}/indexed-assets`: a ready asset; 202 `{_id, asset_id}`."""
        try:
            index = self._index(request)
            body = await self._json(
                request, frozenset({"asset_id", "enable_video_stream", "user_metadata"})
            )
            item = self._new(index, body)
        except Refused as exc:
            return exc.reply()
        self._indexed[item.indexed_asset_id] = item
        ref = IndexedAssetRef(indexed_asset_id=item.indexed_asset_id, asset_id=item.asset_id)
        return json_reply(202, unstructure_response(ref))

    def _new(self, index: SimIndex, body: Mapping[str, Any]) -> SimIndexedAsset:
        asset_id = body.get("asset_id")
        if not isinstance(asset_id, str) or not asset_id:
            raise Refused("parameter_not_provided", "The asset_id parameter is required.")
        now = self.clock.time()
        asset = self.assets.get(asset_id)
        if asset is None:
            raise Refused("parameter_invalid", f"The asset {asset_id} does not exist.")
        status = asset.status_at(now)
        if status != "ready":
            raise Refused(
                "asset_not_ready", f"The asset {asset_id} is {status}; index it once it is ready."
            )
        stream = _flag(body.get("enable_video_stream", False), "enable_video_stream")
        metadata = None
        if "user_metadata" in body:
            try:
                metadata = check_user_metadata(body["user_metadata"])
            except InvalidInputError as exc:
                raise Refused("parameter_invalid", f"user_metadata is invalid: {exc}") from None
        rng, cfg = self._rng, self.config
        took = rng.uniform(*cfg.indexing_duration)
        ends, at = [], now
        for share in _SHARES:
            at += took * share
            ends.append(at)
        asset.references += 1
        return SimIndexedAsset(
            indexed_asset_id=self._new_id(),
            index_id=index.index_id,
            asset_id=asset_id,
            created=now,
            phase_ends=tuple(ends),
            outcome="failed" if rng.random() < cfg.indexing_failure_rate else "ready",
            filename=asset.filename,
            duration=asset.duration or 0.0,
            size=float(asset.size),
            video_stream=stream,
            user_metadata=metadata,
        )

    def model(
        self,
        item: SimIndexedAsset,
        now: float,
        *,
        embedding: frozenset[str] = frozenset(),
        transcription: bool = False,
        list_item: bool = False,
    ) -> IndexedAssetDetail:
        """The indexed asset at `now`: the list's short form, or the detail."""
        status = item.status_at(now)
        ready = status == "ready"
        short = IndexedAssetDetail(
            indexed_asset_id=item.indexed_asset_id,
            asset_id=item.asset_id,
            status=status,
            created_at=_when(item.created),
            updated_at=_when(item.updated_at(now)),
            indexed_at=_when(item.finish_at) if status in ("ready", "failed") else None,
            system_metadata=IndexedAssetSystemMetadata(
                filename=item.filename,
                duration=item.duration,
                fps=30.0,
                width=1280,
                height=720,
                size=item.size,
            ),
        )
        if list_item:
            return short
        hls = None
        if item.video_stream:
            state = {"ready": "COMPLETE", "failed": "ERROR"}.get(status, "PROCESSING")
            base = f"https://hls.simulator.invalid/{item.indexed_asset_id}"
            hls = IndexedAssetHls(
                video_url=f"{base}/index.m3u8" if ready else None,
                thumbnail_urls=(f"{base}/thumb-0.jpg",) if ready else (),
                status=state,
                updated_at=_when(item.updated_at(now)),
            )
        return attrs.evolve(
            short,
            user_metadata=item.user_metadata,
            hls=hls,
            embedding=self._embedding(item, embedding) if ready and embedding else None,
            transcription=self._transcription(item) if ready and transcription else None,
        )

    def _embedding(self, item: SimIndexedAsset, options: frozenset[str]) -> IndexedAssetEmbedding:
        rng = random.Random(f"{self.config.seed}:{item.indexed_asset_id}")
        segments = []
        clips = max(1, int(-(-item.duration // _CLIP)))
        for option in sorted(options):
            for clip in range(clips):
                end = min(item.duration, (clip + 1) * _CLIP)
                vector = tuple(round(rng.uniform(-0.1, 0.1), 6) for _ in range(_DIMENSION))
                segments.append(
                    IndexedAssetSegment(
                        vector=vector,
                        start_offset_sec=clip * _CLIP,
                        end_offset_sec=round(end, 2),
                        embedding_option=option,
                        embedding_scope="clip",
                    )
                )
        return IndexedAssetEmbedding(
            model_name="marengo3.0",
            video_embedding=IndexedAssetVideoEmbedding(segments=tuple(segments)),
        )

    def _transcription(self, item: SimIndexedAsset) -> tuple[TranscriptionEntry, ...]:
        rng = random.Random(f"{self.config.seed}:{item.indexed_asset_id}:words")
        entries = []
        start = 0.0
        while start < min(item.duration, 60.0):
            words = " ".join(rng.choice(_WORDS) for _ in range(rng.randint(3, 8)))
            entries.append(TranscriptionEntry(start=start, end=start + 4.0, value=words))
            start += 5.0
        return tuple(entries)

    async def list(self, request: web.Request) -> web.StreamResponse:
        """`GET /indexes/{index_id}/indexed-assets`: filtered, sorted, paginated."""
        query = request.query
        try:
            index = self._index(request)
            page, limit = page_params(request)
            key, descending = _sorting(query)
            statuses = set(query.getall("status", []))
            if statuses - _STATUSES:
                raise Refused("parameter_invalid", f"status takes {', '.join(sorted(_STATUSES))}.")
            ranges = _ranges(query)
            after = {
                name: _epoch(query[name], name)
                for name in ("created_at", "updated_at")
                if name in query
            }
        except ValueError as exc:
            return flat_error(400, "parameter_invalid", str(exc))
        except Refused as exc:
            return exc.reply()
        metadata = {
            name[len("user_metadata[") : -1]: value
            for name, value in query.items()
            if name.startswith("user_metadata[") and name.endswith("]")
        }
        now = self.clock.time()

        def keep(item: SimIndexedAsset) -> bool:
            facts = {"duration": item.duration, "fps": 30.0, "width": 1280, "height": 720}
            facts["size"] = item.size
            updated = item.metadata_updated
            return (
                item.index_id == index.index_id
                and (not statuses or item.status_at(now) in statuses)
                and query.get("filename", item.filename) == item.filename
                and all(low <= facts[name] <= high for name, (low, high) in ranges.items())
                and item.created >= after.get("created_at", item.created)
                and ("updated_at" not in after or (updated or -1.0) >= after["updated_at"])
                and all(_metadata_text(item, k) == v for k, v in metadata.items())
            )

        def sort_key(item: SimIndexedAsset) -> float:
            return item.created if key == "created_at" else item.updated_at(now)

        matching = sorted(
            (i for i in self._indexed.values() if keep(i)), key=sort_key, reverse=descending
        )
        return _page(matching, page, limit, lambda i: self.model(i, now, list_item=True))

    async def retrieve(self, request: web.Request) -> web.StreamResponse:
        """`GET .../indexed-assets/{id}?embedding_option=...&transcription=`."""
        try:
            item = self._item(request)
            options = frozenset(request.query.getall("embedding_option", []))
            if options - _EMBEDDING_OPTIONS:
                raise Refused(
                    "parameter_invalid",
                    f"embedding_option takes {', '.join(sorted(_EMBEDDING_OPTIONS))}.",
                )
            words = _flag(request.query.get("transcription", "false"), "transcription")
        except Refused as exc:
            return exc.reply()
        now = self.clock.time()
        detail = self.model(item, now, embedding=options, transcription=words)
        return json_reply(200, unstructure_response(detail))

    async def update(self, request: web.Request) -> web.StreamResponse:
        """`PATCH .../indexed-assets/{id}` `{user_metadata}`: merged; null deletes a key."""
        try:
            item = self._item(request)
            body = await self._json(request, frozenset({"user_metadata"}))
            changes = body.get("user_metadata")
            if not isinstance(changes, Mapping):
                raise Refused("parameter_invalid", "user_metadata must be an object.")
            kept = check_user_metadata({k: v for k, v in changes.items() if v is not None})
        except InvalidInputError as exc:
            return flat_error(400, "parameter_invalid", f"user_metadata is invalid: {exc}")
        except Refused as exc:
            return exc.reply()
        merged = dict(item.user_metadata or {})
        merged.update(kept)
        for key in [k for k, v in changes.items() if v is None]:
            merged.pop(key, None)
        item.user_metadata = merged or None
        item.metadata_updated = self.clock.time()
        return web.Response(status=200)

    async def delete(self, request: web.Request) -> web.StreamResponse:
        """`DELETE .../indexed-assets/{id}`: 200, no body."""
        try:
            item = self._item(request)
        except Refused as exc:
            return exc.reply()
        self._forget(item)
        return web.Response(status=200)

    async def of_asset(self, request: web.Request) -> web.StreamResponse:
        """`GET /assets/{asset_id}/indexed-assets`: `{_id, index: {_id, name}}` items."""
        asset_id = request.match_info["asset_id"]
        try:
            page, limit = page_params(request)
        except ValueError as exc:
            return flat_error(400, "parameter_invalid", str(exc))
        items = [i for i in reversed(self._indexed.values()) if i.asset_id == asset_id]
        if not items and self.assets.get(asset_id) is None:
            return flat_error(
                404, "resource_not_exist", f"Resource with id {asset_id} does not exist in assets."
            )

        def membership(item: SimIndexedAsset) -> AssetIndexing:
            index = self._indexes[item.index_id]
            summary = IndexSummary(index_id=index.index_id, name=index.name)
            return AssetIndexing(indexed_asset_id=item.indexed_asset_id, index=summary)

        return _page(items, page, limit, membership)


def _sorting(query: Mapping[str, str]) -> tuple[str, bool]:
    key = query.get("sort_by", "created_at")
    order = query.get("sort_option", "desc")
    if key not in ("created_at", "updated_at"):
        raise Refused("parameter_invalid", "sort_by takes created_at or updated_at.")
    if order not in ("desc", "asc"):
        raise Refused("parameter_invalid", "sort_option takes desc or asc.")
    return key, order == "desc"


def _ranges(query: Mapping[str, str]) -> dict[str, tuple[float, float]]:
    ranges = {}
    for name in _RANGES:
        bounds = []
        for bound, default in (("gte", float("-inf")), ("lte", float("inf"))):
            text = query.get(f"{name}[{bound}]")
            try:
                bounds.append(default if text is None else float(text))
            except ValueError:
                raise Refused("parameter_invalid", f"{name}[{bound}] must be a number.") from None
        if bounds != [float("-inf"), float("inf")]:
            ranges[name] = (bounds[0], bounds[1])
    return ranges


def _metadata_text(item: SimIndexedAsset, key: str) -> str | None:
    value = (item.user_metadata or {}).get(key)
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return None if value is None else str(value)


def _page(items: list[Any], page: int, limit: int, render: Callable[[Any], Any]) -> web.Response:
    data = [unstructure_response(render(i)) for i in items[(page - 1) * limit : page * limit]]
    info = unstructure_response(page_info(page, limit, len(items)))
    return json_reply(200, {"data": data, "page_info": info})
