"""The simulator's multipart uploads: sessions, presigned storage URLs, reports, expiry.

`POST /assets/multipart-uploads` opens a session: the server picks the chunk size
(`MultipartConfig.chunk_size`), reserves an asset id and hands out presigned URLs for the
first `initial_urls` chunks. A presigned URL points back at the simulator's storage
(`_storage.py`): **single-use**, **expiring** after `url_ttl` seconds, each chunk's body
streamed and dropped (only its size and md5 ETag kept, so a 2 GB upload holds a few KB here),
a chunk of the wrong size refused.

Reports are checked (index, size and ETag as stored); the answer counts processed and
duplicate chunks and carries `url` only when it completed the session, which then creates
the asset (`method: multipart`), `processing` and later `ready` as a direct upload's. The
status GET lists every chunk (`completed` once reported, else `pending`), paginated; the list
shows sessions still `active`. A session expires `session_ttl` seconds after creation. Every
API error is flat `{code, message}`, as the API documents for these routes.

Route names (for per-route faults and the statistics): `upload_create`, `upload_list`,
`upload_status`, `upload_report`, `upload_urls`, and `storage_put` (the chunk PUTs; served
without the API key, as storage is). `MultipartConfig.expired_urls` refuses a chunk PUT as if
its URL had expired, at that probability.
"""

from __future__ import annotations

import random
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from aiohttp import web

from .._convert import unstructure_response
from .._validate import check_user_metadata
from ..assets._uploads import MAX_URLS_PER_REQUEST, MULTIPART_LIMITS
from ..errors import InvalidInputError
from ..models import (
    ChunkInfo,
    IncompleteUpload,
    PresignedUrls,
    UploadSession,
    UploadStatusPage,
)
from ._replies import flat_error, json_reply, page_info, page_params
from ._storage import SimUpload, Storage, when

if TYPE_CHECKING:
    from .._clock import WallClock
    from ._assets import AssetRoutes
    from ._config import MultipartConfig

UPLOAD_ROUTES = (
    "upload_create",
    "upload_list",
    "upload_status",
    "upload_report",
    "upload_urls",
    "storage_put",
)
"""Route names of the multipart endpoints and of the storage PUT, for faults and statistics."""
_CREATE_FIELDS = frozenset(
    {"filename", "type", "total_size", "enable_hls", "enable_thumbnail", "user_metadata"}
)


class Refused(Exception):
    """A request the API answers with a flat error: status, code, message."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message


class UploadRoutes:
    """The `/assets/multipart-uploads` endpoints and the storage they hand out URLs to."""

    def __init__(
        self, config: MultipartConfig, clock: WallClock, assets: AssetRoutes, seed: int
    ) -> None:
        self.config = config
        self.clock = clock
        self.assets = assets
        self._rng = random.Random(seed + 5)
        self._uploads: dict[str, SimUpload] = {}
        self.storage = Storage(config, clock, self._uploads, seed)
        """Where the sessions' presigned URLs point (`_storage.py`)."""

    def add_routes(self, app: web.Application) -> None:
        """Register the routes (before `/assets/{asset_id}`, which would shadow them)."""
        add = app.router.add_route
        base = "/v1.3/assets/multipart-uploads"
        add("POST", base, self.create, name="upload_create")
        add("GET", base, self.list_incomplete, name="upload_list")
        add("GET", base + "/{upload_id}", self.status, name="upload_status")
        add("POST", base + "/{upload_id}", self.report, name="upload_report")
        add("POST", base + "/{upload_id}/presigned-urls", self.urls, name="upload_urls")
        add("PUT", "/_storage/{upload_id}/{index}", self.storage.put, name="storage_put")

    def get(self, upload_id: str) -> SimUpload | None:
        """The session, or None."""
        return self._uploads.get(upload_id)

    # --- helpers ------------------------------------------------------------------------------

    def _found(self, request: web.Request, now: float) -> SimUpload:
        upload_id = request.match_info["upload_id"]
        upload = self._uploads.get(upload_id)
        if upload is None:
            raise Refused(
                404,
                "resource_not_exist",
                f"Resource with id {upload_id} does not exist in multipart uploads.",
            )
        return upload

    @staticmethod
    def _open(upload: SimUpload, now: float) -> None:
        status = upload.status_at(now)
        if status != "active":
            raise Refused(
                400, "upload_not_active", f"The upload session {upload.upload_id} is {status}."
            )

    @staticmethod
    async def _object(request: web.Request) -> dict[str, Any]:
        try:
            body = await request.json()
        except ValueError:
            raise Refused(400, "parameter_invalid", "The body must be a JSON object.") from None
        if not isinstance(body, dict):
            raise Refused(400, "parameter_invalid", "The body must be a JSON object.")
        return body

    # --- routes -------------------------------------------------------------------------------

    async def create(self, request: web.Request) -> web.StreamResponse:
        """`POST /assets/multipart-uploads`: a session, its chunk size and its first URLs."""
        try:
            upload = self._new(await self._object(request))
        except Refused as exc:
            return flat_error(exc.status, exc.code, exc.message)
        self._uploads[upload.upload_id] = upload
        now = self.clock.time()
        origin = str(request.url.origin())
        first = min(self.config.initial_urls, upload.total_chunks)
        urls = tuple(
            self.storage.grant(origin, upload.upload_id, i, now) for i in range(1, first + 1)
        )
        session = UploadSession(
            upload_id=upload.upload_id,
            asset_id=upload.asset_id,
            upload_urls=urls,
            upload_headers={},
            chunk_size=upload.chunk_size,
            total_chunks=upload.total_chunks,
            expires_at=when(upload.expires),
        )
        return json_reply(201, unstructure_response(session))

    def _new(self, body: Mapping[str, Any]) -> SimUpload:
        unknown = sorted(set(body) - _CREATE_FIELDS)
        if unknown:
            raise Refused(400, "parameter_unknown", f"Unknown parameter: {', '.join(unknown)}.")
        filename, kind, size = body.get("filename"), body.get("type"), body.get("total_size")
        if not isinstance(filename, str) or not filename:
            raise Refused(400, "parameter_not_provided", "filename is required.")
        if kind not in MULTIPART_LIMITS:
            raise Refused(400, "parameter_invalid", "type must be video, audio or image.")
        if isinstance(size, bool) or not isinstance(size, int) or size < 1:
            raise Refused(400, "parameter_invalid", "total_size must be a positive integer.")
        if size > MULTIPART_LIMITS[kind]:
            raise Refused(
                400, "parameter_invalid", f"total_size is over the limit for {kind} files."
            )
        flags = {}
        for name in ("enable_hls", "enable_thumbnail"):
            value = body.get(name, False)
            if not isinstance(value, bool):
                raise Refused(400, "parameter_invalid", f"{name} must be a boolean.")
            flags[name] = value
        metadata = body.get("user_metadata")
        if metadata is not None:
            if not isinstance(metadata, dict):
                raise Refused(400, "parameter_invalid", "user_metadata must be an object.")
            kept = {k: v for k, v in metadata.items() if v not in ("", [], None)}
            try:
                metadata = check_user_metadata(kept) or None
            except InvalidInputError as exc:
                raise Refused(400, "parameter_invalid", f"user_metadata: {exc}") from None
        now = self.clock.time()
        chunk = self.config.chunk_size
        rng = self._rng
        return SimUpload(
            upload_id=f"{rng.getrandbits(96):024x}",
            asset_id=f"{rng.getrandbits(96):024x}",
            filename=filename,
            kind=kind,
            total_size=size,
            chunk_size=chunk,
            total_chunks=-(-size // chunk),
            created=now,
            expires=now + self.config.session_ttl,
            hls=flags["enable_hls"],
            thumbnail=flags["enable_thumbnail"],
            user_metadata=metadata,
            updated=now,
        )

    async def list_incomplete(self, request: web.Request) -> web.StreamResponse:
        """`GET /assets/multipart-uploads`: the sessions still active, newest first."""
        try:
            page, limit = page_params(request)
        except ValueError as exc:
            return flat_error(400, "parameter_invalid", str(exc))
        now = self.clock.time()
        active = [u for u in reversed(self._uploads.values()) if u.status_at(now) == "active"]
        data = [
            unstructure_response(
                IncompleteUpload(
                    upload_id=u.upload_id,
                    status=u.status_at(now),
                    total_size=u.total_size,
                    chunk_size=u.chunk_size,
                    total_chunks=u.total_chunks,
                    created_at=when(u.created),
                    expires_at=when(u.expires),
                )
            )
            for u in active[(page - 1) * limit : page * limit]
        ]
        info = unstructure_response(page_info(page, limit, len(active)))
        return json_reply(200, {"data": data, "page_info": info})

    async def status(self, request: web.Request) -> web.StreamResponse:
        """`GET /assets/multipart-uploads/{upload_id}`: the session, a page of its chunks."""
        now = self.clock.time()
        try:
            upload = self._found(request, now)
            page, limit = page_params(request)
        except Refused as exc:
            return flat_error(exc.status, exc.code, exc.message)
        except ValueError as exc:
            return flat_error(400, "parameter_invalid", str(exc))
        first = (page - 1) * limit + 1
        last = min(upload.total_chunks, page * limit)
        chunks = []
        for index in range(first, last + 1):
            stored = upload.chunks.get(index)
            done = stored is not None and stored.reported_at is not None
            chunks.append(
                ChunkInfo(
                    index=index,
                    status="completed" if done else "pending",
                    uploaded_at=when(stored.reported_at)  # type: ignore[union-attr,arg-type]
                    if done
                    else None,
                    updated_at=when(stored.stored_at if stored else upload.created),
                )
            )
        reported = upload.reported
        body = UploadStatusPage(
            upload_id=upload.upload_id,
            status=upload.status_at(now),
            uploaded_chunks=tuple(chunks),
            chunks_completed=reported,
            chunks_failed=0,
            chunks_pending=upload.total_chunks - reported,
            page_info=page_info(page, limit, upload.total_chunks),
            total_size=upload.total_size,
            uploaded_size=sum(c.size for c in upload.chunks.values() if c.reported_at),
            created_at=when(upload.created),
            updated_at=when(upload.updated),
        )
        return json_reply(200, unstructure_response(body))

    async def report(self, request: web.Request) -> web.StreamResponse:
        """`POST /assets/multipart-uploads/{upload_id}`: record reported chunks."""
        now = self.clock.time()
        try:
            upload = self._found(request, now)
            self._open(upload, now)
            items = (await self._object(request)).get("completed_chunks")
            if not isinstance(items, list) or not items:
                raise Refused(400, "parameter_invalid", "completed_chunks must be a list.")
            fresh = self._checked(upload, items)
        except Refused as exc:
            return flat_error(exc.status, exc.code, exc.message)
        for index in fresh:
            upload.chunks[index].reported_at = now
        upload.updated = now
        body: dict[str, Any] = {
            "asset_id": upload.asset_id,
            "processed_chunks": len(fresh),
            "duplicate_chunks": len(items) - len(fresh),
            "total_completed": upload.reported,
        }
        if fresh and upload.reported == upload.total_chunks:
            upload.completed_at = now
            self.assets.add_multipart(
                asset_id=upload.asset_id,
                filename=upload.filename,
                size=upload.total_size,
                hls=upload.hls,
                thumbnail=upload.thumbnail,
                user_metadata=upload.user_metadata,
            )
            body["url"] = f"https://assets.simulator.invalid/{upload.asset_id}"
        return json_reply(200, body)

    def _checked(self, upload: SimUpload, items: list[Any]) -> list[int]:
        """The indexes newly reported, once every item checks out (else `Refused`)."""
        fresh: list[int] = []
        for item in items:
            if not isinstance(item, dict) or set(item) != {
                "chunk_index",
                "proof",
                "proof_type",
                "chunk_size",
            }:
                raise Refused(
                    400,
                    "parameter_invalid",
                    "Each completed chunk takes chunk_index, proof, proof_type and chunk_size.",
                )
            index = item["chunk_index"]
            if not isinstance(index, int) or not 1 <= index <= upload.total_chunks:
                raise Refused(400, "parameter_invalid", f"chunk_index {index} is out of range.")
            stored = upload.chunks.get(index)
            if item["proof_type"] != "etag" or stored is None or item["proof"] != stored.etag:
                raise Refused(
                    400, "parameter_invalid", f"The proof of chunk {index} does not match."
                )
            if item["chunk_size"] != stored.size:
                raise Refused(
                    400, "parameter_invalid", f"The chunk_size of chunk {index} does not match."
                )
            if stored.reported_at is None and index not in fresh:
                fresh.append(index)
        return fresh

    async def urls(self, request: web.Request) -> web.StreamResponse:
        """`POST .../presigned-urls`: fresh URLs for `count` chunks from `start`."""
        now = self.clock.time()
        try:
            upload = self._found(request, now)
            self._open(upload, now)
            body = await self._object(request)
            start, count = body.get("start"), body.get("count")
            if set(body) - {"start", "count"}:
                raise Refused(400, "parameter_unknown", "Only start and count are taken.")
            if not isinstance(start, int) or not 1 <= start <= upload.total_chunks:
                raise Refused(400, "parameter_invalid", "start must be a chunk index.")
            if not isinstance(count, int) or not 1 <= count <= MAX_URLS_PER_REQUEST:
                raise Refused(400, "parameter_invalid", "count must be between 1 and 50.")
        except Refused as exc:
            return flat_error(exc.status, exc.code, exc.message)
        last = min(upload.total_chunks, start + count - 1)
        origin = str(request.url.origin())
        urls = tuple(
            self.storage.grant(origin, upload.upload_id, i, now) for i in range(start, last + 1)
        )
        answer = PresignedUrls(
            upload_id=upload.upload_id,
            start_index=start,
            count=len(urls),
            upload_urls=urls,
            generated_at=when(now),
            expires_at=when(now + self.config.url_ttl),
        )
        return json_reply(200, unstructure_response(answer))
