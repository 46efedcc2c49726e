"""`client.assets.uploads`: the multipart-upload endpoints, one call each.

`POST /assets/multipart-uploads` (create a session), `GET` it (status and chunks, paginated),
`POST` to it (report chunks), `POST .../presigned-urls` (fresh URLs), and `GET
/assets/multipart-uploads` (incomplete sessions). `client.assets.upload()` (`_upload.py`)
drives them; use these for your own flow, or to inspect a session.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from .._http import HTTPTransport
from .._pagination import AsyncPaginator
from .._validate import check_range, check_user_metadata, path_id, shown
from .._wire import MAX_PAGE_LIMIT, json_about, json_as, page_params, paginate
from ..errors import InvalidInputError
from ..models import (
    ChunkInfo,
    ChunkReport,
    CompletedChunk,
    IncompleteUpload,
    IncompleteUploadPage,
    PresignedUrls,
    UploadKind,
    UploadSession,
    UploadStatusPage,
)
from ._files import MIB

MULTIPART_LIMITS = {"video": 10 * 1024 * MIB, "audio": 10 * 1024 * MIB, "image": 32 * MIB}
"""The most bytes of a multipart upload, by kind of file (documents are not taken)."""
MAX_URLS_PER_REQUEST = 50
"""The most presigned URLs one refresh (`POST .../presigned-urls`) may ask for."""

UploadList = AsyncPaginator[IncompleteUpload, IncompleteUploadPage]
"""What `assets.uploads.list()` returns: iterate sessions with `async for`, or `.pages()`."""
ChunkList = AsyncPaginator[ChunkInfo, UploadStatusPage]
"""What `assets.uploads.chunks()` returns: every chunk of a session, page by page."""

_session = json_as(UploadSession)
_report = json_as(ChunkReport)
_urls = json_as(PresignedUrls)
_incomplete = json_as(IncompleteUploadPage)


def _flag(body: dict[str, object], name: str, value: bool | None) -> None:
    if value is None:
        return
    if not isinstance(value, bool):
        raise InvalidInputError(f"{name} must be True, False or None, got {shown(value)}")
    body[name] = value


def _positive(value: object, what: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise InvalidInputError(f"{what} must be a positive integer, got {shown(value)}")
    return value


def session_body(
    *,
    filename: str,
    type: UploadKind,
    total_size: int,
    enable_hls: bool | None,
    enable_thumbnail: bool | None,
    user_metadata: Mapping[str, object] | None,
) -> dict[str, object]:
    """The body of `POST /assets/multipart-uploads`, checked before any request."""
    if not isinstance(filename, str) or not filename.strip() or not filename.isprintable():
        raise InvalidInputError(
            f"filename must be a non-empty string without control characters, got {shown(filename)}"
        )
    if type not in MULTIPART_LIMITS:
        raise InvalidInputError(
            f"type must be video, audio or image, got {shown(type)} (upload documents with "
            "assets.create(file=...))"
        )
    size = _positive(total_size, "total_size")
    limit = MULTIPART_LIMITS[type]
    if size > limit:
        raise InvalidInputError(
            f"total_size is {size:,} bytes, over the {limit:,} bytes a multipart upload of "
            f"{type} takes"
        )
    body: dict[str, object] = {"filename": filename, "type": type, "total_size": size}
    _flag(body, "enable_hls", enable_hls)
    _flag(body, "enable_thumbnail", enable_thumbnail)
    if user_metadata is not None:
        body["user_metadata"] = check_user_metadata(user_metadata)
    return body


class Uploads:
    """Multipart upload sessions (`/assets/multipart-uploads`), one endpoint per method.

    Reach it as `client.assets.uploads`. `client.assets.upload(path)` does the whole upload
    (chunks, retries, URL refreshes, reports, resume); these are its building blocks.
    """

    def __init__(self, transport: HTTPTransport) -> None:
        self._http = transport

    async def create(
        self,
        *,
        filename: str,
        type: UploadKind,
        total_size: int,
        enable_hls: bool | None = None,
        enable_thumbnail: bool | None = None,
        user_metadata: Mapping[str, object] | None = None,
    ) -> UploadSession:
        """Open a multipart session for a file of `total_size` bytes.

        The server chooses the `chunk_size` (every chunk but the last has exactly that size)
        and hands out presigned URLs for the first chunks. Not retried once the request may
        have arrived (a second session would be opened).

        Args:
            filename: the asset's file name.
            type: `video`, `audio` (up to 10 GiB) or `image` (up to 32 MiB).
            total_size: the file's size in bytes.
            enable_hls: generate an HLS stream (the API's default here: false).
            enable_thumbnail: generate a thumbnail (default: false).
            user_metadata: your metadata, as for `assets.create`.

        Raises:
            InvalidInputError: a bad argument, before any request.
        """
        body = session_body(
            filename=filename,
            type=type,
            total_size=total_size,
            enable_hls=enable_hls,
            enable_thumbnail=enable_thumbnail,
            user_metadata=user_metadata,
        )
        return await self._http.request(
            "POST", "assets/multipart-uploads", _session, json_body=body, idempotent=False
        )

    async def retrieve(
        self, upload_id: str, *, page: int = 1, page_limit: int = 50
    ) -> UploadStatusPage:
        """The session's status, with one page of its chunks (`page`, `page_limit` ≤ 50).

        `chunks()` iterates every chunk of every page.
        """
        path = f"assets/multipart-uploads/{path_id(upload_id, 'upload_id')}"
        _positive(page, "page")
        check_range(_positive(page_limit, "page_limit"), "page_limit", 1, MAX_PAGE_LIMIT)
        decode = json_about(UploadStatusPage, "upload_id", upload_id)
        return await self._http.request("GET", path, decode, params=page_params(page, page_limit))

    def chunks(self, upload_id: str, *, page_limit: int = 50) -> ChunkList:
        """Every chunk the session lists (`uploaded_chunks` of every status page)."""
        path = f"assets/multipart-uploads/{path_id(upload_id, 'upload_id')}"
        decode = json_about(UploadStatusPage, "upload_id", upload_id)
        return paginate(self._http, path, decode, page_limit=page_limit, filters=())

    def list(self, *, page_limit: int = 50) -> UploadList:
        """The sessions not completed yet, every page; iterate with `async for`."""
        return paginate(
            self._http, "assets/multipart-uploads", _incomplete, page_limit=page_limit, filters=()
        )

    async def report(self, upload_id: str, chunks: Iterable[CompletedChunk]) -> ChunkReport:
        """Report chunks PUT to storage, with their ETags (any order; repeats are ignored).

        The answer's `url` is set only when this report completed the session. Safe to
        retry: a chunk reported twice counts once.

        Raises:
            InvalidInputError: no chunks, or a chunk that is not a `CompletedChunk` with a
                positive index and size and a non-empty proof.
        """
        path = f"assets/multipart-uploads/{path_id(upload_id, 'upload_id')}"
        items = list(chunks)
        if not items:
            raise InvalidInputError("report at least one chunk")
        for item in items:
            if not isinstance(item, CompletedChunk):
                raise InvalidInputError(
                    f"chunks must be CompletedChunk values, got {type(item).__name__}"
                )
            _positive(item.chunk_index, "chunk_index")
            _positive(item.chunk_size, "chunk_size")
            if not isinstance(item.proof, str) or not item.proof:
                raise InvalidInputError(f"chunk {item.chunk_index}: proof (the ETag) is empty")
        body = {
            "completed_chunks": [
                {
                    "chunk_index": c.chunk_index,
                    "proof": c.proof,
                    "proof_type": c.proof_type,
                    "chunk_size": c.chunk_size,
                }
                for c in items
            ]
        }
        return await self._http.request("POST", path, _report, json_body=body, idempotent=True)

    async def urls(self, upload_id: str, *, start: int, count: int) -> PresignedUrls:
        """Fresh presigned URLs for chunks `start` .. `start + count - 1` (`count` ≤ 50).

        For chunks beyond the initial set, for expired URLs, and for a chunk to retry: a
        presigned URL is single-use, never PUT to twice.
        """
        path = f"assets/multipart-uploads/{path_id(upload_id, 'upload_id')}/presigned-urls"
        _positive(start, "start")
        check_range(_positive(count, "count"), "count", 1, MAX_URLS_PER_REQUEST)
        body = {"start": start, "count": count}
        return await self._http.request("POST", path, _urls, json_body=body, idempotent=True)
