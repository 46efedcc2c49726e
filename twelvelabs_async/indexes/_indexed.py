"""`client.indexes.indexed_assets`: put assets into an index and follow them until `ready`.

`IndexedAssetSource` is how the tracking engine sees indexed assets of one index: fetched by
`GET /indexes/{index_id}/indexed-assets/{id}`, swept through the list filtered by status
(`status` is repeatable there; a sweep reads one status per list, as the engine asks).
Indexed assets cannot be canceled, and no webhook announces them.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import datetime

from .._http import HTTPTransport, no_body
from .._pagination import AsyncPaginator
from .._validate import check_user_metadata, path_id
from .._wire import MAX_PAGE_LIMIT, ListedPage, json_about, json_as, listed_as, page_params
from .._wire import paginate as _paginate
from ..errors import InvalidInputError
from ..models import (
    INDEXED_ASSET_TERMINAL_STATUSES,
    AssetIndexing,
    AssetIndexingPage,
    IndexedAsset,
    IndexedAssetDetail,
    IndexedAssetPage,
    IndexedAssetRef,
    IndexedAssetStatus,
    IndexedAssetStatusValue,
    IndexEmbeddingOption,
    Range,
    SortBy,
    SortOption,
)
from ..tracking import (
    ObjectTracker,
    OnError,
    PollPolicy,
    StatusChange,
    Strategy,
    first_of,
    wait_policy,
)
from . import _checks as check

IndexedAssetList = AsyncPaginator[IndexedAsset, IndexedAssetPage]
"""What `indexed_assets.list()` returns: iterate with `async for`, or pages with `.pages()`."""

AssetIndexingList = AsyncPaginator[AssetIndexing, AssetIndexingPage]
"""What `indexed_assets.of_asset()` returns: the indexes an asset is in, page by page."""

IndexedAssetTracker = ObjectTracker[IndexedAssetDetail]
"""What `indexed_assets.track()` returns: an async context manager yielding indexed assets."""

_ref = json_as(IndexedAssetRef)
_page = json_as(IndexedAssetPage)
_memberships = json_as(AssetIndexingPage)
_listed = listed_as(IndexedAssetDetail, "_id")

PAGE_LIMIT = MAX_PAGE_LIMIT
"""Indexed assets per list page read by a tracker's sweeps (the API's maximum)."""


def _path(index_id: str, indexed_asset_id: str | None = None) -> str:
    path = f"indexes/{path_id(index_id, 'index_id')}/indexed-assets"
    if indexed_asset_id is None:
        return path
    return f"{path}/{path_id(indexed_asset_id, 'indexed_asset_id')}"


async def _retrieve(
    http: HTTPTransport,
    index_id: str,
    indexed_asset_id: str,
    params: list[tuple[str, str]] | None = None,
    *,
    retries: int | None = None,
) -> IndexedAssetDetail:
    decode = json_about(IndexedAssetDetail, "indexed_asset_id", indexed_asset_id)
    path = _path(index_id, indexed_asset_id)
    return await http.request("GET", path, decode, params=params or None, retries=retries)


def _time(value: datetime | None) -> float | None:
    return value.timestamp() if value is not None else None


class IndexedAssetSource:
    """The indexed assets of one index as the tracking engine sees them (a `Source`)."""

    noun = "indexed_asset"
    terminal = INDEXED_ASSET_TERMINAL_STATUSES
    active = ("validating", "pending", "queued", "indexing")
    """The list filters of an *active* sweep, in lifecycle order."""
    final = ("ready", "failed")
    """The list filters of a *final* sweep: presence there is proof that indexing ended."""
    page_limit = PAGE_LIMIT

    def __init__(self, http: HTTPTransport, index_id: str) -> None:
        self._http = http
        self._index_id = path_id(index_id, "index_id")

    @property
    def lists(self) -> IndexedAssetSource:
        """Indexed assets can be listed by status: the source is its own `StatusLists`."""
        return self

    def check_id(self, object_id: object) -> None:
        """Refuse anything but 1-128 characters of `A-Z a-z 0-9 _ -` (see `path_id`)."""
        path_id(object_id, "indexed_asset_id")

    def id_of(self, item: IndexedAssetDetail) -> str:
        """The indexed asset's id."""
        return item.indexed_asset_id

    def status_of(self, item: IndexedAssetDetail) -> str:
        """Its status as a plain string."""
        return str(item.status)

    def created_of(self, item: IndexedAssetDetail) -> float | None:
        """`created_at` in epoch seconds."""
        return _time(item.created_at)

    def ended_of(self, item: IndexedAssetDetail) -> float | None:
        """`indexed_at` in epoch seconds."""
        return _time(item.indexed_at)

    async def fetch(self, object_id: str) -> IndexedAssetDetail:
        """`GET /indexes/{index_id}/indexed-assets/{id}`, one attempt."""
        return await _retrieve(self._http, self._index_id, object_id, retries=0)

    async def cancel(self, object_id: str) -> None:
        """Indexed assets cannot be canceled (the tracker never offers it)."""
        raise InvalidInputError("indexing cannot be canceled; delete the indexed asset instead")

    async def page(self, number: int, status: str) -> ListedPage[IndexedAssetDetail]:
        """One page of the index's indexed assets in `status`, newest first, one attempt."""
        filters = [("status", status), ("sort_by", "created_at"), ("sort_option", "desc")]
        params = page_params(number, PAGE_LIMIT, filters)
        path = _path(self._index_id)
        return await self._http.request("GET", path, _listed, params=params, retries=0)


class IndexedAssets:
    """Indexed assets: one asset in one index. Reach it as `client.indexes.indexed_assets`.

    Indexing a `ready` asset starts `validating`, then goes `pending`, `queued`, `indexing`,
    and ends `ready` (searchable) or `failed`.
    """

    def __init__(self, transport: HTTPTransport) -> None:
        self._http = transport

    async def create(
        self,
        index_id: str,
        asset_id: str,
        *,
        enable_video_stream: bool | None = None,
        user_metadata: Mapping[str, str | int | float | bool | Sequence[str]] | None = None,
    ) -> IndexedAssetRef:
        """Index a `ready` asset; returns the new indexed asset's id (then `wait` for it).

        ```python
        ref = await client.indexes.indexed_assets.create(index_id, asset_id)
        indexed = await client.indexes.indexed_assets.wait(index_id, ref.indexed_asset_id)
        ```

        An asset that is not `ready` yet is refused by the API (`BadRequestError`); an
        unknown index raises `NotFoundError`. Creating is not retried after a request that
        may have reached the server (it could index the asset twice); a 429 or 5xx is.

        Args:
            index_id: the index.
            asset_id: the asset, which must be `ready`.
            enable_video_stream: also produce an HLS stream (`hls` on the indexed asset).
            user_metadata: your metadata: string keys to a string, a number, a bool or a
                list of strings (filter the list by it later).
        """
        body: dict[str, object] = {"asset_id": path_id(asset_id, "asset_id")}
        if enable_video_stream is not None:
            body["enable_video_stream"] = check.flag(enable_video_stream, "enable_video_stream")
        if user_metadata is not None:
            body["user_metadata"] = check_user_metadata(user_metadata)
        path = _path(index_id)
        return await self._http.request("POST", path, _ref, json_body=body, idempotent=False)

    async def retrieve(
        self,
        index_id: str,
        indexed_asset_id: str,
        *,
        embedding_option: IndexEmbeddingOption | Iterable[IndexEmbeddingOption] | None = None,
        transcription: bool = False,
    ) -> IndexedAssetDetail:
        """Get an indexed asset, with its embeddings or transcription when asked for.

        Args:
            index_id: the index.
            indexed_asset_id: the indexed asset.
            embedding_option: the embeddings to include: `visual`, `audio`,
                `transcription`, `visual-text` (Marengo); each segment's vector is a
                sequence of floats.
            transcription: include the transcription.
        """
        params = [
            ("embedding_option", check.one_of(option, "embedding_option", check.EMBEDDING_OPTIONS))
            for option in check.strings(embedding_option, "embedding_option")
        ]
        if check.flag(transcription, "transcription"):
            params.append(("transcription", "true"))
        return await _retrieve(self._http, index_id, indexed_asset_id, params)

    def list(
        self,
        index_id: str,
        *,
        status: IndexedAssetStatus
        | IndexedAssetStatusValue
        | Iterable[IndexedAssetStatus | IndexedAssetStatusValue]
        | None = None,
        filename: str | None = None,
        duration: Range | None = None,
        fps: Range | None = None,
        width: Range | None = None,
        height: Range | None = None,
        size: Range | None = None,
        created_at: str | datetime | None = None,
        updated_at: str | datetime | None = None,
        user_metadata: Mapping[str, str | int | float | bool] | None = None,
        sort_by: SortBy | None = None,
        sort_option: SortOption | None = None,
        page_limit: int = 50,
    ) -> IndexedAssetList:
        """List an index's indexed assets (newest first by default); iterate with `async for`.

        ```python
        async for indexed in client.indexes.indexed_assets.list(
            index_id, status=["ready", "failed"], duration=Range(gte=60)
        ):
            ...
        ```

        Every item on every page is yielded; no request is made past the last page. Items
        are the short form (no `user_metadata`, `hls`): `retrieve` one for the rest.

        Args:
            index_id: the index.
            status: only these statuses (one or several).
            filename: only this file name.
            duration: seconds, as a `Range` (`Range(gte=60)`, `Range(lte=600)`).
            fps: frames per second, as a `Range`.
            width: pixels, as a `Range`.
            height: pixels, as a `Range`.
            size: bytes, as a `Range`.
            created_at: only those created at or after this time (a datetime, naive taken as
                UTC, or an RFC 3339 string).
            updated_at: only those whose metadata was updated at or after this time (status
                changes do not count).
            user_metadata: only those whose metadata has these values.
            sort_by: `created_at` (the API's default) or `updated_at`.
            sort_option: `desc` (the API's default) or `asc`.
            page_limit: items per page, 1-50.
        """
        path = _path(index_id)
        statuses = check.strings(status, "status")
        filters = [("status", str(s)) for s in statuses]
        if filename is not None:
            filters += [("filename", check.strings(filename, "filename")[0])]
        for name, value in zip(check.RANGES, (duration, fps, width, height, size), strict=True):
            filters += check.range_filter(value, name)
        filters += check.timestamp(created_at, "created_at")
        filters += check.timestamp(updated_at, "updated_at")
        filters += check.metadata_filter(user_metadata)
        filters += check.sorting(sort_by, sort_option)
        return _paginate(self._http, path, _page, page_limit=page_limit, filters=filters)

    async def update(
        self,
        index_id: str,
        indexed_asset_id: str,
        *,
        user_metadata: Mapping[str, str | int | float | bool | Sequence[str] | None],
    ) -> None:
        """Change an indexed asset's metadata: the keys given are set, a None value deletes one.

        Keys not given are left as they are.
        """
        body = {"user_metadata": check.metadata_update(user_metadata)}
        path = _path(index_id, indexed_asset_id)
        await self._http.request("PATCH", path, no_body, json_body=body, idempotent=True)

    async def delete(self, index_id: str, indexed_asset_id: str) -> None:
        """Remove an indexed asset from its index. The asset itself stays."""
        await self._http.request("DELETE", _path(index_id, indexed_asset_id), no_body)

    def of_asset(self, asset_id: str, *, page_limit: int = 50) -> AssetIndexingList:
        """The indexes an asset is in (`GET /assets/{asset_id}/indexed-assets`).

        Each item names the indexed asset and its index (`index.index_id`, `index.name`).
        """
        path = f"assets/{path_id(asset_id, 'asset_id')}/indexed-assets"
        return _paginate(self._http, path, _memberships, page_limit=page_limit, filters=())

    def track(
        self,
        index_id: str,
        indexed_asset_ids: Iterable[str],
        *,
        timeout: float | None = None,
        on_error: OnError = "raise",
        strategy: Strategy = "auto",
        max_in_flight: int = 64,
        max_rate: float | None = None,
        poll_policy: PollPolicy | None = None,
        yield_list_items: bool = False,
        on_status: Callable[[StatusChange], object] | None = None,
        buffer: int = 256,
        keep_open: bool = False,
    ) -> IndexedAssetTracker:
        """Follow many indexed assets of one index; yield each, complete, once it is terminal.

        ```python
        async with client.indexes.indexed_assets.track(index_id, ids, timeout=3600) as tracker:
            async for indexed in tracker:       # each id once, as indexing ends
                print(indexed.indexed_asset_id, indexed.status)
        ```

        The same engine as `client.analyze.tasks.track`, with the same guarantees: each id
        yielded once, one request budget, a deadline, nothing running after the block. When
        it saves requests, the tracker sweeps the index's list filtered by status and
        retrieves only the indexed assets that finished. A `failed` indexed asset is yielded
        like a `ready` one (the API gives no reason). A permanent error about one id (404,
        400, ...) is raised (`on_error="raise"`, naming it in the error's `task_id`) or
        recorded in `tracker.errors` (`"collect"`). Indexing cannot be canceled, so leaving
        the block early leaves the pending ones running; no webhook announces them.

        Args:
            index_id: the index they are in.
            indexed_asset_ids: the ids to follow (duplicates collapse).
            timeout: overall deadline in seconds (None for none); past it `TrackingTimeout`
                is raised with the ids still pending.
            on_error: `"raise"` or `"collect"` for per-id permanent errors.
            strategy: `"auto"` (sweep when it saves requests), `"per_task"` or `"sweep"`.
            max_in_flight: the most requests in flight at once.
            max_rate: the most requests per second, or None.
            poll_policy: the bounds of poll intervals and sweeps (`PollPolicy`).
            yield_list_items: yield an indexed asset straight from a sweep's list item
                instead of retrieving it, saving a request per id; list items have no
                `user_metadata` and no `hls`.
            on_status: called with a `StatusChange` whenever one is seen in a new status.
            buffer: finished ones held for a slow consumer before polling pauses.
            keep_open: iteration waits for `tracker.add()` until `tracker.close()`.
        """
        return ObjectTracker(
            IndexedAssetSource(self._http, index_id),
            indexed_asset_ids,
            runtime=self._http,
            timeout=timeout,
            on_error=on_error,
            strategy=strategy,
            max_in_flight=max_in_flight,
            max_rate=max_rate,
            poll_policy=poll_policy or PollPolicy(),
            on_exit="leave",
            cancel_timeout=10.0,
            yield_list_items=yield_list_items,
            on_status=on_status,
            buffer=buffer,
            keep_open=keep_open,
        )

    async def wait(
        self,
        index_id: str,
        indexed_asset_id: str,
        *,
        timeout: float | None = None,
        poll_interval: float = 1.0,
        max_poll_interval: float = 30.0,
    ) -> IndexedAssetDetail:
        """Poll one indexed asset until it is `ready` or `failed`, and return it.

        As `client.analyze.tasks.wait`: the first poll is immediate, the interval grows from
        `poll_interval` to `max_poll_interval` with jitter; transient failures (429, 408,
        5xx, connection errors, malformed bodies) are polled through; 404, 401, 403 and other
        API errors raise at once. A `failed` indexed asset is returned, not raised.

        Args:
            index_id: the index.
            indexed_asset_id: the indexed asset to wait for.
            timeout: the overall deadline in seconds (None waits forever); past it,
                `TrackingTimeout` is raised naming it.
            poll_interval: the first interval between polls, in seconds.
            max_poll_interval: the largest interval between polls, in seconds.
        """
        path_id(indexed_asset_id, "indexed_asset_id")
        policy = wait_policy(poll_interval, max_poll_interval)
        tracker = self.track(
            index_id,
            [indexed_asset_id],
            timeout=timeout,
            strategy="per_task",
            poll_policy=policy,
            max_in_flight=1,
        )
        return await first_of(tracker)
