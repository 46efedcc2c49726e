"""The simulator's storage: where presigned URLs point, and the sessions' chunks it keeps.

A presigned URL (`/_storage/{upload_id}/{chunk}?token=...&expires=...`) grants one PUT of one
chunk until it expires: its token is looked up (a forged one gets 403 `SignatureDoesNotMatch`)
and spent on first use (a second PUT gets 403 `AccessDenied`, as storage answers, in XML). A
chunk's body is streamed, md5'd and dropped; only its size and ETag are kept, on the session
(`SimUpload`). A body of the wrong size is refused with a 400. Every PUT is recorded
(`StoragePut`), faults and bodies cut off halfway included, for tests and benchmarks.
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

from ..models import PresignedUrl

if TYPE_CHECKING:
    from .._clock import WallClock
    from ._config import MultipartConfig


def when(epoch: float) -> datetime:
    """Epoch seconds as an aware UTC datetime."""
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


class Storage:
    """The storage presigned URLs point at: grants, the chunk PUT route, what it received."""

    def __init__(
        self,
        config: MultipartConfig,
        clock: WallClock,
        uploads: Mapping[str, SimUpload],
        seed: int,
    ) -> None:
        self.config = config
        self.clock = clock
        self._uploads = uploads
        self._rng = random.Random(seed + 7)
        self._fault_rng = random.Random(seed + 6)
        self._grants: dict[str, Grant] = {}
        self._used: set[str] = set()
        self.puts: list[StoragePut] = []
        """Every chunk PUT storage received, in order (faults included)."""
        self.in_flight = 0
        """Chunk PUTs being received now."""
        self.max_in_flight = 0
        """The most chunk PUTs received at once."""

    def grant(self, origin: str, upload_id: str, index: int, now: float) -> PresignedUrl:
        """A presigned URL for one PUT of chunk `index`, valid `url_ttl` seconds."""
        token = f"{self._rng.getrandbits(128):032x}"
        expires = now + self.config.url_ttl
        self._grants[token] = Grant(upload_id, index, expires)
        url = f"{origin}/_storage/{upload_id}/{index}?token={token}&expires={int(expires)}"
        return PresignedUrl(chunk_index=index, url=url, expires_at=when(expires))

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
