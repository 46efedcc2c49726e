"""The simulator's multipart uploads: sessions, presigned storage URLs, reports, expiry.

`POST /assets/multipart-uploads` opens a session: the server picks the chunk size
(`MultipartConfig.chunk_size`), reserves an asset id and hands out presigned URLs for the
first `initial_urls` chunks. A presigned URL points back at the simulator
(`/_storage/{upload_id}/{chunk}?token=...&expires=...`): it is **single-use** (a second PUT to
it gets a 403 as storage answers, an XML body) and **expires** after `url_ttl` seconds. A
chunk's body is streamed and dropped: only its size and an ETag (the md5 of its bytes, quoted)
are kept, so a 2 GB upload holds no more than a few KB here. A chunk of the wrong size (every
chunk but the last is exactly `chunk_size`) is refused with a 400.

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

import asyncio
import hashlib
import random
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import attrs
from aiohttp import ClientPayloadError, web

from .._convert import unstructure_response
from .._validate import check_user_metadata
from ..assets._uploads import MAX_URLS_PER_REQUEST, MULTIPART_LIMITS
from ..errors import InvalidInputError
from ..models import (
    ChunkInfo,
    IncompleteUpload,
    PresignedUrl,
    PresignedUrls,
    UploadSession,
    UploadStatusPage,
)
from ._replies import flat_error, json_reply, page_info, page_params

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


def _when(epoch: float) -> datetime:
    return datetime.fromtimestamp(epoch, UTC)


def _storage_error(status: int, code: str, message: str) -> web.Response:
    """Storage's error shape (S3's XML), not the API's."""
    body = f"<Error><Code>{code}</Code><Message>{message}</Message></Error>"
    return web.Response(status=status, text=body, content_type="application/xml")


@attrs.define(eq=False)
class StoredChunk:
    """A chunk that reached storage: its size and ETag (its bytes are not kept)."""

    size: int
    etag: str
    stored_at: float
    reported_at: float | None = None


@attrs.define(eq=False)
class SimUpload:
    """One multipart session."""

    upload_id: str
    asset_id: str
    filename: str
    kind: str
    total_size: int
    chunk_size: int
    total_chunks: int
    created: float
    expires: float
    hls: bool
    thumbnail: bool
    user_metadata: Mapping[str, Any] | None
    chunks: dict[int, StoredChunk] = attrs.field(factory=dict)
    completed_at: float | None = None
    updated: float = 0.0

    def status_at(self, now: float) -> str:
        """`completed` once every chunk is reported; `expired` past its deadline; else active."""
        if self.completed_at is not None:
            return "completed"
        return "expired" if now >= self.expires else "active"

    def size_of(self, index: int) -> int:
        """The bytes chunk `index` must have."""
        if index < self.total_chunks:
            return self.chunk_size
        return self.total_size - self.chunk_size * (self.total_chunks - 1)

    @property
    def reported(self) -> int:
        """Chunks reported so far."""
        return sum(1 for c in self.chunks.values() if c.reported_at is not None)


@attrs.frozen
class Grant:
    """What a presigned URL allows: one PUT of one chunk, until `expires`."""

    upload_id: str
    index: int
    expires: float


@attrs.frozen
class StoragePut:
    """One chunk PUT as storage saw it (for tests: which URL, what came of it)."""

    token: str
    upload_id: str | None
    index: int | None
    status: int
    size: int
    had_api_key: bool


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
        self._fault_rng = random.Random(seed + 6)
        self._uploads: dict[str, SimUpload] = {}
        self._grants: dict[str, Grant] = {}
        self._used: set[str] = set()
        self.puts: list[StoragePut] = []
        """Every chunk PUT storage received, in order (faults included)."""
        self.in_flight = 0
        """Chunk PUTs being received now."""
        self.max_in_flight = 0
        """The most chunk PUTs received at once."""

    def add_routes(self, app: web.Application) -> None:
        """Register the routes (before `/assets/{asset_id}`, which would shadow them)."""
        add = app.router.add_route
        base = "/v1.3/assets/multipart-uploads"
        add("POST", base, self.create, name="upload_create")
        add("GET", base, self.list_incomplete, name="upload_list")
        add("GET", base + "/{upload_id}", self.status, name="upload_status")
        add("POST", base + "/{upload_id}", self.report, name="upload_report")
        add("POST", base + "/{upload_id}/presigned-urls", self.urls, name="upload_urls")
        add("PUT", "/_storage/{upload_id}/{index}", self.put, name="storage_put")

    def get(self, upload_id: str) -> SimUpload | None:
        """The session, or None."""
        return self._uploads.get(upload_id)

    def entered(self) -> None:
        """A chunk PUT started arriving."""
        self.in_flight += 1
        self.max_in_flight = max(self.max_in_flight, self.in_flight)

    def left(self) -> None:
        """A chunk PUT was answered (or dropped)."""
        self.in_flight -= 1

    def refused(self, request: web.Request, status: int) -> None:
        """A chunk PUT answered by a fault (`status`; 0 for a reset): recorded, URL untouched."""
        token = request.query.get("token", "")
        grant = self._grants.get(token)
        self.puts.append(
            StoragePut(
                token=token,
                upload_id=None if grant is None else grant.upload_id,
                index=None if grant is None else grant.index,
                status=status,
                size=0,
                had_api_key="x-api-key" in request.headers,
            )
        )

    # --- helpers ------------------------------------------------------------------------------

    def _grant(self, origin: str, upload: SimUpload, index: int, now: float) -> PresignedUrl:
        token = f"{self._rng.getrandbits(128):032x}"
        expires = now + self.config.url_ttl
        self._grants[token] = Grant(upload.upload_id, index, expires)
        url = f"{origin}/_storage/{upload.upload_id}/{index}?token={token}&expires={int(expires)}"
        return PresignedUrl(chunk_index=index, url=url, expires_at=_when(expires))

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
        urls = tuple(self._grant(origin, upload, i, now) for i in range(1, first + 1))
        session = UploadSession(
            upload_id=upload.upload_id,
            asset_id=upload.asset_id,
            upload_urls=urls,
            upload_headers={},
            chunk_size=upload.chunk_size,
            total_chunks=upload.total_chunks,
            expires_at=_when(upload.expires),
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
                    created_at=_when(u.created),
                    expires_at=_when(u.expires),
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
                    uploaded_at=_when(stored.reported_at)  # type: ignore[union-attr,arg-type]
                    if done
                    else None,
                    updated_at=_when(stored.stored_at if stored else upload.created),
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
            created_at=_when(upload.created),
            updated_at=_when(upload.updated),
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
        urls = tuple(self._grant(origin, upload, i, now) for i in range(start, last + 1))
        answer = PresignedUrls(
            upload_id=upload.upload_id,
            start_index=start,
            count=len(urls),
            upload_urls=urls,
            generated_at=_when(now),
            expires_at=_when(now + self.config.url_ttl),
        )
        return json_reply(200, unstructure_response(answer))

    async def put(self, request: web.Request) -> web.StreamResponse:
        """`PUT /_storage/...`: a chunk, streamed and dropped; its ETag is the md5 of its bytes."""
        now = self.clock.time()
        token = request.query.get("token", "")
        grant = self._grants.pop(token, None)
        digest = hashlib.md5(usedforsecurity=False)
        size = 0
        try:
            while piece := await request.content.readany():
                digest.update(piece)
                size += len(piece)
        except (ConnectionError, asyncio.CancelledError, ClientPayloadError):
            self._cut_off(request, token, grant, size)  # the bytes that came, then nothing
            raise
        upload = None if grant is None else self._uploads.get(grant.upload_id)
        reply = self._stored(request, token, grant, upload, now, size, digest.hexdigest())
        self.puts.append(
            StoragePut(
                token=token,
                upload_id=None if grant is None else grant.upload_id,
                index=None if grant is None else grant.index,
                status=reply.status,
                size=size,
                had_api_key="x-api-key" in request.headers,
            )
        )
        return reply

    def _cut_off(self, request: web.Request, token: str, grant: Grant | None, size: int) -> None:
        """A chunk PUT whose body stopped halfway (the client went away): recorded, status 0."""
        if grant is not None:
            self._used.add(token)
        self.puts.append(
            StoragePut(
                token=token,
                upload_id=None if grant is None else grant.upload_id,
                index=None if grant is None else grant.index,
                status=0,
                size=size,
                had_api_key="x-api-key" in request.headers,
            )
        )

    def _stored(
        self,
        request: web.Request,
        token: str,
        grant: Grant | None,
        upload: SimUpload | None,
        now: float,
        size: int,
        etag: str,
    ) -> web.Response:
        path = request.match_info
        if grant is None or upload is None:
            if token in self._used:
                return _storage_error(403, "AccessDenied", "This URL was already used.")
            return _storage_error(403, "SignatureDoesNotMatch", "The signature is not valid.")
        self._used.add(token)
        if path["upload_id"] != grant.upload_id or path["index"] != str(grant.index):
            return _storage_error(403, "SignatureDoesNotMatch", "The signature is not valid.")
        expired_fault = self.config.expired_urls and (
            self._fault_rng.random() < self.config.expired_urls
        )
        if now >= grant.expires or expired_fault or upload.status_at(now) != "active":
            return _storage_error(403, "AccessDenied", "Request has expired.")
        expected = upload.size_of(grant.index)
        if size != expected:
            return _storage_error(
                400,
                "InvalidChunkSize",
                f"Chunk {grant.index} must have {expected} bytes, got {size}.",
            )
        upload.chunks[grant.index] = StoredChunk(size=size, etag=etag, stored_at=now)
        upload.updated = now
        return web.Response(status=200, headers={"ETag": f'"{etag}"'})
