"""`client.assets`: create (a file or a URL), retrieve, list and delete assets (`/assets`)."""

from __future__ import annotations

import json
import os
from collections.abc import AsyncIterable, Awaitable, Callable, Iterable, Mapping
from pathlib import Path
from typing import Literal, Union, overload

from .._http import HTTPTransport, no_body
from .._multipart import BytesSource, FilePart, FileSource, IterSource, MultipartForm, PathSource
from .._multipart import file_size as _file_size
from .._pagination import AsyncPaginator
from .._validate import check_http_url, check_number, check_user_metadata, path_id, shown
from .._wire import json_about, json_as, paginate
from ..errors import AssetInUseError, ConflictError, InvalidInputError
from ..models import Asset, AssetDetail, AssetPage, AssetType, PageInfo, UploadProgress
from ..tracking import OnError, PollPolicy, StatusChange
from ._files import content_type, direct_limit, megabytes
from ._tracking import AssetTracker, track_assets, wait_for_asset
from ._upload import ProgressCallback, check_concurrency, plan, tell, upload_multipart
from ._uploads import Uploads

AssetList = AsyncPaginator[AssetDetail, AssetPage]
"""What `assets.list()` returns: iterate assets with `async for`, or pages with `.pages()`."""

FileInput = Union[str, "os.PathLike[str]", bytes, AsyncIterable[bytes]]
"""What `assets.create(file=...)` takes: a path, the bytes, or an async iterator of bytes."""

MetadataValue = str | int | float | bool | list[str] | tuple[str, ...]
"""A value of an asset's `user_metadata`: a string, a number, a bool or a list of strings."""

_asset = json_as(Asset)
_page = json_as(AssetPage)


def _flag(value: bool | None, what: str) -> list[tuple[str, str]]:
    if value is None:
        return []
    if not isinstance(value, bool):
        raise InvalidInputError(f"{what} must be True, False or None, got {shown(value)}")
    return [(what, "true" if value else "false")]


def _too_large(size: int, limit: int, what: str) -> InvalidInputError:
    return InvalidInputError(
        f"{what} is {size:,} bytes, over the {megabytes(limit)} ({limit:,} bytes) the API "
        "takes as a direct upload for this kind of file; upload it by URL (create(url=...)) "
        "or with assets.upload(path), a multipart upload in chunks"
    )


def _file_part(file: object, filename: str | None) -> FilePart:
    """The form's file part, checked: a readable file or bytes within the direct limit."""
    if isinstance(file, str | os.PathLike):
        path = Path(file)
        if isinstance(file, str) and file.startswith(("http://", "https://")):
            raise InvalidInputError(f"file {shown(file)} is a URL; pass it as url= instead")
        size = _file_size(path)
        name = filename or path.name
        source: FileSource = PathSource(path, size)
    elif isinstance(file, bytes | bytearray | memoryview):
        if filename is None:
            raise InvalidInputError(
                "pass filename= with bytes: the API tells the kind of file by its extension"
            )
        name, size = filename, len(file)
        source = BytesSource(bytes(file))
    elif isinstance(file, AsyncIterable):
        if filename is None:
            raise InvalidInputError(
                "pass filename= with an async iterator: the API tells the kind of file by its "
                "extension"
            )
        return FilePart(
            "file", filename, content_type(filename), IterSource(file, direct_limit(filename))
        )
    else:
        raise InvalidInputError(
            "file must be a path (str or os.PathLike), bytes or an async iterator of bytes, "
            f"got {type(file).__name__}"
        )
    if size == 0:
        raise InvalidInputError(f"file {shown(name)} is empty")
    limit = direct_limit(name)
    if size > limit:
        raise _too_large(size, limit, f"file {shown(name)}")
    return FilePart("file", name, content_type(name), source)


def create_form(
    *,
    url: str | None,
    file: object,
    filename: str | None,
    enable_hls: bool | None,
    enable_thumbnail: bool | None,
    user_metadata: Mapping[str, object] | None,
) -> MultipartForm:
    """The `POST /assets` form, every argument checked before any request."""
    if (url is None) == (file is None):
        raise InvalidInputError(
            "pass exactly one of url= (a file the API fetches) or file= (a local file, "
            "bytes or an async iterator of bytes)"
        )
    if filename is not None and (not isinstance(filename, str) or not filename.strip()):
        raise InvalidInputError(f"filename must be a non-empty string, got {shown(filename)}")
    if filename is not None and not filename.isprintable():
        raise InvalidInputError(
            f"filename {shown(filename)} contains a line break or control character"
        )
    fields: list[tuple[str, str]] = []
    part = None
    if url is not None:
        if not isinstance(url, str):
            raise InvalidInputError(f"url must be a string, got {type(url).__name__}")
        fields += [("method", "url"), ("url", check_http_url(url, "url"))]
    else:
        part = _file_part(file, filename)
        fields.append(("method", "direct"))
    if filename is not None:
        fields.append(("filename", filename))
    fields += _flag(enable_hls, "enable_hls") + _flag(enable_thumbnail, "enable_thumbnail")
    if user_metadata is not None:
        metadata = check_user_metadata(user_metadata)
        fields.append(("user_metadata", json.dumps(metadata, ensure_ascii=False)))
    return MultipartForm(fields=tuple(fields), file=part)


def _listed(values: str | Iterable[str] | None, what: str) -> list[str] | None:
    if values is None:
        return None
    items = [values] if isinstance(values, str) else list(values)
    for item in items:
        if not isinstance(item, str):
            raise InvalidInputError(f"{what} must hold strings, got {type(item).__name__}")
    return items


_NO_DEADLINE = "pass None for no deadline"


class Assets:
    """Assets (`/assets`): files uploaded once, then analyzed, indexed or embedded.

    Reach it as `client.assets`. An asset starts `processing` and becomes `ready` (usable) or
    `failed`; `retrieve` or `list` it to see which.
    """

    def __init__(self, transport: HTTPTransport) -> None:
        self._http = transport
        self.uploads = Uploads(transport)
        """The multipart-upload endpoints, one call each (`upload()` drives them for you)."""

    @overload
    async def upload(
        self,
        path: str | os.PathLike[str],
        *,
        progress: ProgressCallback | None = None,
        upload_id: str | None = None,
        filename: str | None = None,
        enable_hls: bool | None = None,
        enable_thumbnail: bool | None = None,
        user_metadata: Mapping[str, MetadataValue] | None = None,
        concurrency: int = 4,
        multipart: bool | None = None,
        wait: Literal[False] = False,
        wait_timeout: float | None = None,
    ) -> Asset: ...

    @overload
    async def upload(
        self,
        path: str | os.PathLike[str],
        *,
        progress: ProgressCallback | None = None,
        upload_id: str | None = None,
        filename: str | None = None,
        enable_hls: bool | None = None,
        enable_thumbnail: bool | None = None,
        user_metadata: Mapping[str, MetadataValue] | None = None,
        concurrency: int = 4,
        multipart: bool | None = None,
        wait: Literal[True],
        wait_timeout: float | None = None,
    ) -> AssetDetail: ...

    async def upload(
        self,
        path: str | os.PathLike[str],
        *,
        progress: ProgressCallback | None = None,
        upload_id: str | None = None,
        filename: str | None = None,
        enable_hls: bool | None = None,
        enable_thumbnail: bool | None = None,
        user_metadata: Mapping[str, MetadataValue] | None = None,
        concurrency: int = 4,
        multipart: bool | None = None,
        wait: bool = False,
        wait_timeout: float | None = None,
    ) -> Asset:
        """Upload a local file as an asset: directly, or in chunks when it is large; resumable.

        ```python
        asset = await client.assets.upload("match.mp4", progress=print)
        ready = await client.assets.upload("match.mp4", wait=True, wait_timeout=900)
        ```

        Files up to the direct limit (200 MiB; 32 MiB for images) and every document go up
        in one `POST /assets`; larger video and audio files (up to 10 GiB) through a
        multipart session: `concurrency` chunks at a time, each read from disk as its slot
        frees (never the whole file), PUT to its own presigned URL without the API key. A
        chunk that fails is retried with the client's backoff on a fresh URL (a presigned URL
        is never used twice); URLs are refreshed before they expire; ETags are reported in
        batches; what the session says is checked against what was sent.

        The asset comes back as the API shows it (usually `processing`), or, with
        `wait=True`, once it is `ready` or `failed` (an `AssetDetail`; a `failed` one is
        returned, not raised: its `error.message` says why), as `wait()` waits.

        Args:
            path: the file.
            progress: called with an `UploadProgress` (its `upload_id`, `bytes_sent`,
                `total_bytes`, `chunks_done`, `total_chunks`) at the start and after each
                chunk; a coroutine function is awaited.
            upload_id: resume this interrupted multipart session: only the chunks it has not
                completed are sent (the file must be the same size).
            filename: the asset's name (its extension tells the kind of file); defaults to
                the file's name.
            enable_hls: generate an HLS stream (video and audio). None leaves the API's
                default (false for a multipart session; sources disagree for direct ones).
            enable_thumbnail: generate a thumbnail; same default.
            user_metadata: your metadata, as for `create`.
            concurrency: chunks PUT at once (1-64).
            multipart: None picks by size; True uploads in chunks even a small video, audio
                or image file; False insists on a direct upload.
            wait: wait until the asset is `ready` or `failed` and return it whole.
            wait_timeout: with `wait=True`, the most seconds to wait for that after the upload
                (None waits as long as it takes); past it, `TrackingTimeout` names the asset,
                which stays uploaded.

        Raises:
            InvalidInputError: before any request: a missing file, a directory, an empty
                file, an unknown type, a file over the limits for its kind and method.
            UploadMismatchError: the session disagrees with the file (resuming with another
                file, or a session whose chunk size and count do not fit the size sent).
            UploadInterruptedError: the multipart upload stopped (a chunk failed for good,
                the session expired, the upload was cancelled): resume it with
                `upload_id=exc.upload_id`.
        """
        if not isinstance(wait, bool):
            raise InvalidInputError(f"wait must be True or False, got {shown(wait)}")
        if wait_timeout is not None and not wait:
            raise InvalidInputError(
                "wait_timeout bounds the wait for the asset to be ready: pass wait=True with it"
            )
        if wait_timeout is not None:
            check_number(wait_timeout, "wait_timeout", low=0, unit="seconds", hint=_NO_DEADLINE)
        planned = plan(path, filename, multipart)
        workers = check_concurrency(concurrency)
        if upload_id is not None:
            path_id(upload_id, "upload_id")
            if not planned.multipart:
                raise InvalidInputError(
                    "upload_id resumes a multipart upload; this file goes up directly "
                    "(pass multipart=True if the session was opened for it)"
                )
        if not planned.multipart:
            asset = await self.create(
                file=planned.path,
                filename=planned.filename,
                enable_hls=enable_hls,
                enable_thumbnail=enable_thumbnail,
                user_metadata=user_metadata,
            )
            await tell(progress, UploadProgress(None, planned.size, planned.size, 1, 1))
            if not wait:
                return asset
            asset_id = asset.asset_id
        else:
            asset_id = await upload_multipart(
                self._http,
                self.uploads,
                planned,
                upload_id=upload_id,
                concurrency=workers,
                progress=progress,
                enable_hls=enable_hls,
                enable_thumbnail=enable_thumbnail,
                user_metadata=None if user_metadata is None else check_user_metadata(user_metadata),
            )
            if not wait:
                return await self.retrieve(asset_id)
        return await self.wait(asset_id, timeout=wait_timeout)  # its first poll is immediate

    async def create(
        self,
        *,
        url: str | None = None,
        file: FileInput | None = None,
        filename: str | None = None,
        enable_hls: bool | None = None,
        enable_thumbnail: bool | None = None,
        user_metadata: Mapping[str, MetadataValue] | None = None,
    ) -> Asset:
        """Create an asset from a local file (`file=`) or a URL the API fetches (`url=`).

        ```python
        asset = await client.assets.create(file=Path("clip.mp4"))   # streamed from disk
        asset = await client.assets.create(url="https://example.com/clip.mp4")
        ```

        The body is `multipart/form-data`; a file is streamed in pieces of 1 MiB, never read
        whole into memory. The asset comes back `processing`. Bad arguments raise
        `InvalidInputError` before any request: both or neither of `url` and `file`, a URL
        that is not http(s), a file that is missing, a directory, empty or over the direct
        upload limit (200 MiB; 32 MiB for images), metadata the API refuses.

        Creating is not idempotent, and the API documents no idempotency key for it: a
        request that may have reached the server (a reset, a timeout, a cut-off answer) is
        never sent again, since that could create a second asset. A 429 or 5xx (the work was
        not done) is retried as usual, except for a file given as an async iterator, whose
        bytes cannot be sent twice.

        Args:
            url: a direct link to the media (or an HLS VOD `.m3u8` manifest); up to 4 GB for
                video and audio, 512 MiB for documents, 32 MiB for images.
            file: a path (`str` or `os.PathLike`), the bytes, or an async iterator of bytes.
                Bytes and iterators need `filename`. Files over 200 MiB need a multipart
                upload: `upload(path)`.
            filename: the asset's name (its extension tells the API the kind of file);
                defaults to the file's or the URL's.
            enable_hls: generate an HLS stream (video and audio). None leaves the API's
                default, which its sources disagree on (true in the SDK, false in the OpenAPI
                export): pass a bool to be sure.
            enable_thumbnail: generate a thumbnail (not for txt and md); same default caveat.
            user_metadata: your metadata: string keys to a string, a number, a bool or a list
                of strings; integers wider than 53 bits must be strings.
        """
        form = create_form(
            url=url,
            file=file,
            filename=filename,
            enable_hls=enable_hls,
            enable_thumbnail=enable_thumbnail,
            user_metadata=user_metadata,
        )
        return await self._http.request("POST", "assets", _asset, content=form, idempotent=False)

    async def retrieve(self, asset_id: str) -> AssetDetail:
        """Get an asset with its processing details (`NotFoundError` if unknown).

        A reply about another asset than `asset_id` is malformed: retried like a cut-off
        body, then raised as `DecodeError`.
        """
        path = f"assets/{path_id(asset_id, 'asset_id')}"
        return await self._http.request("GET", path, json_about(AssetDetail, "asset_id", asset_id))

    def list(
        self,
        *,
        asset_ids: str | Iterable[str] | None = None,
        asset_types: AssetType | Iterable[AssetType] | None = None,
        filename: str | None = None,
        page_limit: int = 50,
    ) -> AssetList:
        """List assets, newest first, optionally filtered; iterate with `async for`.

        Every asset on every page is yielded; no request is made past the last page. Use
        `.pages()` for whole pages with their `page_info`, or `await .page(n)` for one.

        Args:
            asset_ids: only these assets (an unknown id is simply missing). An empty list
                yields nothing, without a request. Every id goes into the URL: keep to about
                50 per call.
            asset_types: only assets of these kinds: `image`, `video`, `audio`, `document`.
            filename: only assets whose file name contains this (case-insensitive).
            page_limit: assets per page, 1-50.
        """
        ids = _listed(asset_ids, "asset_ids")
        types = _listed(asset_types, "asset_types")
        if filename is not None and not isinstance(filename, str):
            raise InvalidInputError(f"filename must be a string, got {type(filename).__name__}")
        filters = [("asset_ids", path_id(i, "asset_ids")) for i in ids or ()]
        filters += [("asset_types", kind) for kind in types or ()]
        if filename is not None:
            filters.append(("filename", filename))
        paginator: AssetList = paginate(
            self._http, "assets", _page, page_limit=page_limit, filters=filters
        )
        if ids == []:
            return AsyncPaginator(_nothing(page_limit), limit=page_limit, context="GET /assets")
        return paginator

    async def delete(self, asset_id: str, *, force: bool = False) -> None:
        """Delete an asset. This cannot be undone.

        Raises:
            AssetInUseError: indexed assets still reference the asset (409); pass
                `force=True` to delete it anyway (the API then unlinks them).
            NotFoundError: there is no such asset.
        """
        path = f"assets/{path_id(asset_id, 'asset_id')}"
        if not isinstance(force, bool):
            raise InvalidInputError(f"force must be True or False, got {shown(force)}")
        params = [("force", "true")] if force else None
        try:
            await self._http.request("DELETE", path, no_body, params=params)
        except ConflictError as exc:
            if force:
                raise
            raise AssetInUseError(
                f"{exc.message.rstrip('.')} (indexed assets still use asset {asset_id}; pass "
                "force=True to delete it anyway, which unlinks them)",
                status_code=exc.status_code,
                code=exc.code,
                headers=exc.headers,
                body=exc.body,
            ) from None

    def track(
        self,
        asset_ids: Iterable[str],
        *,
        timeout: float | None = None,
        on_error: OnError = "raise",
        max_in_flight: int = 64,
        max_rate: float | None = None,
        poll_policy: PollPolicy | None = None,
        on_status: Callable[[StatusChange], object] | None = None,
        buffer: int = 256,
        keep_open: bool = False,
    ) -> AssetTracker:
        """Follow many assets and yield each one, complete, the moment it is terminal.

        ```python
        async with client.assets.track(asset_ids, timeout=600) as tracker:
            async for asset in tracker:         # each id once, in the order they finish
                ...
                tracker.add(another_id)         # ids can be added while iterating
        ```

        Polls go in batches: the ids due (and those nearly due) share one request of the
        id-filtered list, `GET /assets?asset_ids=...`, up to 50 ids a request, so following
        5,000 assets costs about 100 requests a round instead of 5,000. An asset polled with
        others is polled again within `poll_policy.min_interval` (1 s by default; raise it to
        spend fewer requests); an id due alone is retrieved alone (`GET /assets/{id}`), on
        adaptive intervals within `poll_policy`'s bounds. One scheduler serves every id
        within one request budget: at most `max_in_flight` requests at once and, if set,
        `max_rate` per second; a 429, `Retry-After` or an exhausted `X-Ratelimit-Remaining`
        pauses the whole tracker (and the client's other trackers, which hear every answer).

        A `failed` asset is yielded like a `ready` one (its `error.message` says why).
        Transient failures (including a reply holding an asset not asked for) are retried
        within the budget and never yielded. An id missing from a list reply is retrieved
        alone to confirm it: a 404 there (`NotFoundError`), or any other permanent error
        about one asset, stops everything and is raised (`on_error="raise"`), naming the
        asset in the error's `task_id`, or is recorded in `tracker.errors`
        (`on_error="collect"`). 401 and 403 always stop everything, as does a permanent error
        answering a list request (about many assets). Leaving the block (by `break`, an error
        or cancellation) stops all polling at once. The API has no way to cancel an asset,
        so no `on_exit="cancel_remote"` is offered; nor sweeps or webhooks, which the API
        does not have for assets.

        Args:
            asset_ids: the ids to follow (duplicates collapse); each must be 1-128
                characters of `A-Z a-z 0-9 _ -`, or `InvalidInputError` is raised before any
                request.
            timeout: overall deadline in seconds (None or `math.inf` for none); past it
                `TrackingTimeout` is raised with the ids still `pending`. Not the per-request
                timeout.
            on_error: `"raise"` or `"collect"` for per-asset permanent errors.
            max_in_flight: the most requests in flight at once.
            max_rate: the most requests per second, or None.
            poll_policy: the bounds of poll intervals (`PollPolicy`; its sweep settings do not
                apply). An id may be polled up to half a `min_interval` early, to share a
                request.
            on_status: called with a `StatusChange` whenever an asset is seen in a new status
                (for progress displays); it must not block.
            buffer: finished assets held for a slow consumer before polling pauses.
            keep_open: a worker's tracker: when nothing is pending, iteration waits for
                `tracker.add()` instead of ending, until `tracker.close()`; it then ends once
                the ids still pending are yielded (or collected). `add()` after `close()`
                raises `RuntimeError`. With a `timeout`, a tracker still open at the deadline
                raises `TrackingTimeout` even with nothing pending.
        """
        return track_assets(
            self._http,
            asset_ids,
            timeout=timeout,
            on_error=on_error,
            max_in_flight=max_in_flight,
            max_rate=max_rate,
            poll_policy=poll_policy,
            on_status=on_status,
            buffer=buffer,
            keep_open=keep_open,
        )

    async def wait(
        self,
        asset_id: str,
        *,
        timeout: float | None = None,
        poll_interval: float = 1.0,
        max_poll_interval: float = 30.0,
    ) -> AssetDetail:
        """Poll one asset until it is `ready` or `failed`, and return it.

        ```python
        asset = await client.assets.wait(asset_id, timeout=600)
        if asset.status == "failed":
            ...                                  # asset.error.message says why
        ```

        Runs on the tracker's engine, retrieving the asset (`GET /assets/{id}`): the first
        poll is immediate; the interval then grows by half each poll, from `poll_interval` up
        to `max_poll_interval`, with +-20 % jitter. Transient failures (429, 408, 5xx,
        connection errors, malformed bodies, a reply about another asset) are polled through,
        honouring a server-requested delay. 404 (`NotFoundError`), 401, 403 and other API
        errors raise at once. A `failed` asset is returned, not raised.

        Args:
            asset_id: the asset to wait for (checked before any request).
            timeout: the overall deadline in seconds (None or `math.inf` waits forever);
                past it, `TrackingTimeout` is raised naming the asset. This is not the
                per-request timeout, which the client's `timeout` sets.
            poll_interval: the first interval between polls, in seconds.
            max_poll_interval: the largest interval between polls, in seconds.
        """
        return await wait_for_asset(
            self._http,
            asset_id,
            timeout=timeout,
            poll_interval=poll_interval,
            max_poll_interval=max_poll_interval,
        )


def _nothing(page_limit: int) -> Callable[[int], Awaitable[AssetPage]]:
    """The pages of a list filtered by no id at all: one empty page, without a request."""

    async def fetch(number: int) -> AssetPage:
        info = PageInfo(limit_per_page=page_limit, page=number, total_page=1, total_results=0)
        return AssetPage(data=(), page_info=info)

    return fetch
