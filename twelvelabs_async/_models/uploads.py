"""Multipart uploads (`/assets/multipart-uploads`): sessions, presigned URLs, chunk reports.

A local file too large for a direct upload goes up in chunks: a session is created, each chunk
is PUT to its own presigned URL (single-use, valid an hour), the ETags are reported in
batches, and the session is `completed` once every chunk is reported.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from enum import StrEnum
from typing import Literal

import attrs

from .common import PageInfo


class UploadStatus(StrEnum):
    """The status of a multipart upload session: `active` until it ends.

    `completed` means every chunk arrived (the asset is then validated and stays
    `processing` a while); `failed` and `expired` (24 h after creation) cannot be resumed.
    """

    ACTIVE = "active"
    COMPLETED = "completed"
    FAILED = "failed"
    EXPIRED = "expired"


UPLOAD_TERMINAL_STATUSES: frozenset[str] = frozenset({"completed", "failed", "expired"})
"""The statuses after which a multipart session never changes."""


class ChunkStatus(StrEnum):
    """The status of one chunk in a session: `pending` until it is reported `completed`.

    `pending` also covers a chunk whose bytes were PUT but not reported yet.
    """

    PENDING = "pending"
    COMPLETED = "completed"
    FAILED = "failed"


UploadKind = Literal["video", "audio", "image"]
"""The kinds of file a multipart session takes (documents must be uploaded directly)."""


@attrs.frozen
class PresignedUrl:
    """Where one chunk is PUT: a single-use storage URL, valid about an hour.

    Attributes:
        chunk_index: the chunk, 1-based.
        url: the presigned URL; it carries its own authorization (send no API key).
        expires_at: when the URL stops working.
    """

    chunk_index: int
    url: str
    expires_at: datetime | None = None


@attrs.frozen
class UploadSession:
    """A new multipart session, as `POST /assets/multipart-uploads` answers it.

    Attributes:
        upload_id: the session (valid 24 h): keep it to report chunks, refresh URLs, resume.
        asset_id: the asset it will create, reserved now, usable once the upload completes
            and the asset is `ready`.
        upload_urls: presigned URLs of the first chunks (maybe not all of them).
        upload_headers: headers the API suggests for the chunk PUTs (undocumented; the
            official SDK ignores them).
        chunk_size: bytes of every chunk but the last, chosen by the server.
        total_chunks: ceil(total_size / chunk_size).
        expires_at: the session's deadline; after it, start a new session.
    """

    upload_id: str
    asset_id: str | None = None
    upload_urls: tuple[PresignedUrl, ...] = ()
    upload_headers: Mapping[str, str] | None = None
    chunk_size: int | None = None
    total_chunks: int | None = None
    expires_at: datetime | None = None


@attrs.frozen
class CompletedChunk:
    """A chunk to report: its index, the ETag storage answered, and the bytes sent.

    Attributes:
        chunk_index: the chunk, 1-based.
        proof: the `ETag` header of the chunk's PUT, without its quotes.
        chunk_size: the bytes PUT: the session's `chunk_size`, or less for the last chunk.
        proof_type: always `etag`.
    """

    chunk_index: int
    proof: str
    chunk_size: int
    proof_type: str = "etag"


@attrs.frozen
class ChunkReport:
    """The answer to a report of completed chunks.

    Attributes:
        processed_chunks: chunks newly accepted from this report.
        duplicate_chunks: chunks of this report that were reported before (ignored).
        total_completed: every chunk reported so far, in all reports.
        asset_id: the session's asset.
        url: set only when this report completed the upload; absent while chunks are missing.
    """

    processed_chunks: int | None = None
    duplicate_chunks: int | None = None
    total_completed: int | None = None
    asset_id: str | None = None
    url: str | None = None


@attrs.frozen
class PresignedUrls:
    """Fresh presigned URLs (`POST .../presigned-urls`), each valid about an hour.

    Attributes:
        upload_id: the session.
        start_index: the first chunk asked for.
        count: how many URLs were made.
        upload_urls: the URLs.
        generated_at: when they were made.
        expires_at: when they stop working.
    """

    upload_id: str | None = None
    start_index: int | None = None
    count: int | None = None
    upload_urls: tuple[PresignedUrl, ...] = ()
    generated_at: datetime | None = None
    expires_at: datetime | None = None


@attrs.frozen
class ChunkInfo:
    """One chunk of a session, as its status lists it.

    Attributes:
        index: the chunk, 1-based.
        status: `completed` (reported), `pending` or `failed`.
        uploaded_at: when it was reported; None unless `completed`.
        updated_at: when its status last changed.
        error: why it failed (only when `failed`).
    """

    index: int
    status: ChunkStatus | str | None = None
    uploaded_at: datetime | None = None
    updated_at: datetime | None = None
    error: str | None = None


@attrs.frozen
class UploadStatusPage:
    """`GET /assets/multipart-uploads/{upload_id}`: the session, and one page of its chunks.

    Attributes:
        upload_id: the session.
        status: `active`, `completed`, `failed` or `expired`.
        uploaded_chunks: the chunks of this page (paginated: iterate
            `client.assets.uploads.chunks(upload_id)` for every page).
        chunks_completed: chunks reported; the session completes when this reaches the total.
        chunks_failed: chunks that failed.
        chunks_pending: total - completed - failed.
        page_info: where this page sits among the chunk pages.
        total_size: the file's size, as given when the session was created.
        uploaded_size: bytes reported so far.
        created_at: when the session was created.
        updated_at: when it last changed.
    """

    upload_id: str
    status: UploadStatus | str | None = None
    uploaded_chunks: tuple[ChunkInfo, ...] = ()
    chunks_completed: int | None = None
    chunks_failed: int | None = None
    chunks_pending: int | None = None
    page_info: PageInfo = attrs.field(factory=PageInfo)
    total_size: int | None = None
    uploaded_size: int | None = None
    created_at: datetime | None = None
    updated_at: datetime | None = None

    @property
    def data(self) -> tuple[ChunkInfo, ...]:
        """The chunks of this page (`uploaded_chunks`), as every list page names its items."""
        return self.uploaded_chunks

    @property
    def is_terminal(self) -> bool:
        """True once the session is `completed`, `failed` or `expired`."""
        return str(self.status) in UPLOAD_TERMINAL_STATUSES


@attrs.frozen
class IncompleteUpload:
    """A session not completed yet, as `GET /assets/multipart-uploads` lists it.

    Attributes:
        upload_id: the session.
        status: its status (`active`, usually).
        total_size: the file's size in bytes.
        chunk_size: bytes of every chunk but the last.
        total_chunks: how many chunks the file is cut into.
        created_at: when the session was created.
        expires_at: when it expires (24 h after creation).
    """

    upload_id: str
    status: UploadStatus | str
    total_size: int
    chunk_size: int
    total_chunks: int
    created_at: datetime | None = None
    expires_at: datetime | None = None


@attrs.frozen
class IncompleteUploadPage:
    """One page of `GET /assets/multipart-uploads`."""

    data: tuple[IncompleteUpload, ...]
    page_info: PageInfo = attrs.field(factory=PageInfo)


@attrs.frozen
class UploadProgress:
    """Where an upload stands, as `client.assets.upload(progress=...)` reports it.

    Attributes:
        upload_id: the multipart session (pass it as `upload_id=` to resume); None for a
            direct upload, which has no session.
        bytes_sent: bytes confirmed by storage so far (chunks done before a resume included).
        total_bytes: the file's size.
        chunks_done: chunks confirmed so far.
        total_chunks: chunks in all (1 for a direct upload).
    """

    upload_id: str | None
    bytes_sent: int
    total_bytes: int
    chunks_done: int
    total_chunks: int

    @property
    def fraction(self) -> float:
        """`bytes_sent / total_bytes`, from 0.0 to 1.0."""
        return self.bytes_sent / self.total_bytes if self.total_bytes else 1.0
