"""`client.assets.upload(path)`: a local file to an asset, direct or multipart, resumable.

`plan()` decides, before any request, how a file goes up: a direct `POST /assets` when it is
small enough (and always for documents), else a multipart session (video and audio up to
10 GiB, images up to 32 MiB). `MultipartUpload` then drives the session:

- chunks are PUT by `concurrency` workers; each reads its chunk from disk piece by piece, off
  the event loop, only when its slot frees (memory: about `concurrency` pieces of 1 MiB);
- each PUT goes to its own presigned URL, bare (`HTTPTransport.put_external`: no API key);
  a URL is used once: a chunk that fails is retried, with the client's backoff, on a fresh
  URL; URLs are refreshed (50 at a time) for chunks beyond the initial set and before they
  expire;
- the ETags are reported in batches as group commits: a worker whose chunk is done joins the
  next report and frees its slot once its chunk is reported, so that at most one chunk per
  slot is ever sent but unrecorded (what a resume sends again after a crash);
- every answer is checked against what was sent (chunk size and count, report counts), and
  the session must end `completed`.

A resume (`upload_id=`) reads the session (its chunk size from the list of incomplete
sessions, its chunks from every status page) and sends only the chunks not completed.
"""

from __future__ import annotations

import inspect
import os
from collections.abc import Awaitable, Callable, Iterator, Mapping
from pathlib import Path

import anyio
import attrs

from .._http import HTTPTransport
from .._multipart import FileRange, RawBody, file_size
from .._retry import backoff_delay, is_transient
from .._validate import check_range, path_id, shown
from ..errors import (
    APIConnectionError,
    APIError,
    DecodeError,
    InvalidInputError,
    PermissionDeniedError,
    UploadInterruptedError,
    UploadMismatchError,
)
from ..models import CompletedChunk, PresignedUrl, UploadProgress, UploadSession
from ._files import DIRECT_LIMITS, kind_of, megabytes
from ._uploads import MAX_URLS_PER_REQUEST, MULTIPART_LIMITS, Uploads

ProgressCallback = Callable[[UploadProgress], "Awaitable[object] | object"]
"""What `upload(progress=...)` takes: a function (or coroutine function) of `UploadProgress`."""

MAX_CONCURRENCY = 64
"""The most chunks `upload()` PUTs at once."""
REPORT_BATCH = 100
"""The most chunks one report carries."""
PIECE = 1024 * 1024
"""Bytes of a chunk read from disk at a time: memory is about `concurrency` x this."""
URL_MARGIN = 60.0
"""Seconds before its expiry that a presigned URL is no longer used: a fresh one is asked for."""


@attrs.frozen
class Plan:
    """How a file goes up, decided before any request."""

    path: Path
    filename: str
    kind: str
    size: int
    multipart: bool


def plan(path: object, filename: str | None, multipart: bool | None) -> Plan:
    """Check the file and choose direct or multipart; `InvalidInputError` says what is wrong."""
    if not isinstance(path, str | os.PathLike):
        raise InvalidInputError(f"path must be a str or os.PathLike, got {type(path).__name__}")
    file = Path(path)
    size = file_size(file)
    if filename is not None and (
        not isinstance(filename, str) or not filename.strip() or not filename.isprintable()
    ):
        raise InvalidInputError(
            f"filename must be a non-empty string without control characters, got {shown(filename)}"
        )
    name = filename or file.name
    kind = kind_of(name)
    if kind is None:
        raise InvalidInputError(
            f"{shown(name)} is not a type of file the API takes (video, audio, image, or a "
            "pdf, txt or md document, told by the extension); pass filename= with the right "
            "extension"
        )
    if size == 0:
        raise InvalidInputError(f"file {str(file)!r} is empty")
    if multipart is not None and not isinstance(multipart, bool):
        raise InvalidInputError(f"multipart must be True, False or None, got {shown(multipart)}")
    direct_limit = DIRECT_LIMITS[kind]
    chunked_limit = MULTIPART_LIMITS.get(kind)
    if chunked_limit is None:  # a document: direct only
        if multipart:
            raise InvalidInputError("documents cannot be uploaded in chunks (multipart=True)")
        if size > direct_limit:
            raise InvalidInputError(
                f"{shown(name)} is {size:,} bytes, over the {megabytes(direct_limit)} a "
                "document may have; upload it by URL (assets.create(url=...)), up to 512 MiB"
            )
        return Plan(file, name, kind, size, multipart=False)
    if size > chunked_limit:
        raise InvalidInputError(
            f"{shown(name)} is {size:,} bytes, over the {megabytes(chunked_limit)} the API "
            f"takes for a {kind} file"
        )
    if multipart is False and size > direct_limit:
        raise InvalidInputError(
            f"{shown(name)} is {size:,} bytes, over the {megabytes(direct_limit)} of a direct "
            "upload; leave multipart=None to upload it in chunks"
        )
    chunked = multipart if multipart is not None else size > direct_limit
    return Plan(file, name, kind, size, multipart=chunked)


def check_concurrency(concurrency: object) -> int:
    """`concurrency`, an integer from 1 to `MAX_CONCURRENCY`."""
    if isinstance(concurrency, bool) or not isinstance(concurrency, int):
        raise InvalidInputError(f"concurrency must be an integer, got {shown(concurrency)}")
    check_range(concurrency, "concurrency", 1, MAX_CONCURRENCY)
    return concurrency


async def tell(progress: ProgressCallback | None, report: UploadProgress) -> None:
    """Call the progress callback (awaiting it when it is a coroutine function)."""
    if progress is None:
        return
    result = progress(report)
    if inspect.isawaitable(result):
        await result


def _chunks_of(size: int, chunk_size: int) -> int:
    return -(-size // chunk_size)


class MultipartUpload:
    """One multipart upload of one file, new or resumed: see the module's docstring."""

    def __init__(
        self,
        http: HTTPTransport,
        uploads: Uploads,
        plan: Plan,
        *,
        concurrency: int,
        progress: ProgressCallback | None,
    ) -> None:
        self._http = http
        self._uploads = uploads
        self._plan = plan
        self._concurrency = concurrency
        self._progress = progress
        self.upload_id = ""
        self.asset_id: str | None = None
        self._chunk_size = 0
        self._total = 0
        self._urls: dict[int, PresignedUrl] = {}
        self._url_lock = anyio.Lock()
        self._report_lock = anyio.Lock()
        self._unreported: dict[int, CompletedChunk] = {}
        self._reported: set[int] = set()
        self._completed_url: str | None = None
        self._sent = 0
        self._done = 0

    # --- the session --------------------------------------------------------------------------

    async def start(
        self,
        *,
        enable_hls: bool | None,
        enable_thumbnail: bool | None,
        user_metadata: Mapping[str, object] | None,
    ) -> None:
        """Open a new session and check what it says against the file."""
        session: UploadSession = await self._uploads.create(
            filename=self._plan.filename,
            type=self._plan.kind,  # type: ignore[arg-type]  # video, audio or image: planned
            total_size=self._plan.size,
            enable_hls=enable_hls,
            enable_thumbnail=enable_thumbnail,
            user_metadata=user_metadata,
        )
        self.upload_id = path_id(session.upload_id, "upload_id")
        self.asset_id = None if session.asset_id is None else path_id(session.asset_id, "asset_id")
        self._shape(session.chunk_size, session.total_chunks)
        self._take_urls(session.upload_urls, 1, self._total)

    async def resume(self, upload_id: str) -> None:
        """Read an existing session: its chunk size, its size (the file's?), its done chunks."""
        self.upload_id = path_id(upload_id, "upload_id")
        summary = None
        async for item in self._uploads.list():
            if item.upload_id == upload_id:
                summary = item
                break
        if summary is None or str(summary.status) != "active":
            status = await self._uploads.retrieve(upload_id, page_limit=1)
            state = str(status.status if summary is None else summary.status)
            why = (
                "every chunk arrived already: poll its asset instead"
                if state == "completed"
                else "an expired or failed session is over: upload the file again without upload_id"
            )
            raise UploadInterruptedError(
                f"upload {upload_id} cannot be resumed: the session is {state} ({why})",
                upload_id=upload_id,
                chunks_done=status.chunks_completed or 0,
            )
        if summary.total_size != self._plan.size:
            raise UploadMismatchError(
                f"upload {upload_id} is for a file of {summary.total_size:,} bytes; "
                f"{str(self._plan.path)!r} has {self._plan.size:,}: is it the same file?",
                upload_id=upload_id,
                field="total_size",
                expected=self._plan.size,
                actual=summary.total_size,
            )
        self._shape(summary.chunk_size, summary.total_chunks)
        async for chunk in self._uploads.chunks(upload_id):
            if str(chunk.status) == "completed" and 1 <= chunk.index <= self._total:
                self._reported.add(chunk.index)
        self._done = len(self._reported)
        self._sent = sum(self._size_of(i) for i in self._reported)

    def _shape(self, chunk_size: int | None, total_chunks: int | None) -> None:
        """The session's chunk size and count, checked against the file's size."""
        size = self._plan.size
        if not isinstance(chunk_size, int) or isinstance(chunk_size, bool) or chunk_size < 1:
            raise UploadMismatchError(
                f"upload {self.upload_id}: the session's chunk_size is {shown(chunk_size)}, "
                "not a positive number of bytes",
                upload_id=self.upload_id,
                field="chunk_size",
                expected=size,
                actual=chunk_size,
            )
        expected = _chunks_of(size, chunk_size)
        if total_chunks != expected:
            raise UploadMismatchError(
                f"upload {self.upload_id}: the session says total_chunks={shown(total_chunks)}, "
                f"but {size:,} bytes in chunks of {chunk_size:,} make {expected}",
                upload_id=self.upload_id,
                field="total_chunks",
                expected=expected,
                actual=total_chunks,
            )
        self._chunk_size, self._total = chunk_size, expected

    def _size_of(self, index: int) -> int:
        if index < self._total:
            return self._chunk_size
        return self._plan.size - self._chunk_size * (self._total - 1)

    def _report_progress(self) -> UploadProgress:
        return UploadProgress(
            upload_id=self.upload_id,
            bytes_sent=self._sent,
            total_bytes=self._plan.size,
            chunks_done=self._done,
            total_chunks=self._total,
        )

    def interrupted(self, why: str, cause: BaseException | None) -> UploadInterruptedError:
        """The error of an upload that stopped: resumable with `upload_id`."""
        return UploadInterruptedError(
            f"upload {self.upload_id} of {str(self._plan.path)!r} stopped after "
            f"{len(self._reported)} of {self._total} chunks: {why}; resume it with "
            f"upload(path, upload_id={self.upload_id!r})",
            upload_id=self.upload_id,
            asset_id=self.asset_id,
            cause=cause,
            chunks_done=len(self._reported),
            total_chunks=self._total,
        )

    # --- sending ------------------------------------------------------------------------------

    async def send(self) -> str | None:
        """PUT and report every chunk not done yet; the asset id once the session completes."""
        await tell(self._progress, self._report_progress())
        todo: Iterator[int] = iter(
            [i for i in range(1, self._total + 1) if i not in self._reported]
        )
        failure: list[BaseException] = []
        try:
            async with anyio.create_task_group() as group:
                for _ in range(min(self._concurrency, self._total)):
                    group.start_soon(self._worker, todo, failure, group.cancel_scope)
        except (KeyboardInterrupt, SystemExit):
            raise
        except BaseException as exc:  # cancelled from outside: resumable
            raise self.interrupted(f"{type(exc).__name__} while uploading", exc) from exc
        if failure:
            raise self.interrupted(_describe(failure[0]), failure[0]) from failure[0]
        await self._confirm()
        return self.asset_id

    async def _worker(
        self, todo: Iterator[int], failure: list[BaseException], scope: anyio.CancelScope
    ) -> None:
        for index in todo:
            try:
                await self._chunk(index)
            except Exception as exc:  # the first failure stops every worker
                if not failure:
                    failure.append(exc)
                scope.cancel()
                return

    async def _chunk(self, index: int) -> None:
        """PUT one chunk (retried on fresh URLs), then wait until a report includes it."""
        policy = self._http.retry
        size = self._size_of(index)
        retry = 0
        while True:
            url = await self._url(index, fresh=retry > 0)
            offset = (index - 1) * self._chunk_size
            body = RawBody(FileRange(self._plan.path, offset, size, PIECE))
            try:
                headers = await self._http.put_external(url, body)
                etag = headers.get("ETag", "").strip().strip('"')
                if not etag:
                    raise DecodeError(f"chunk {index}: storage answered without an ETag")
            except (APIError, APIConnectionError, DecodeError) as exc:
                # 403: the URL expired or was refused; anything transient: another URL, later.
                again = isinstance(exc, PermissionDeniedError) or is_transient(exc)
                if not again or retry >= policy.max_retries:
                    raise
                await self._http.clock.sleep(backoff_delay(retry, policy, self._http.rng))
                retry += 1
                continue
            break
        self._sent += size
        self._done += 1
        self._unreported[index] = CompletedChunk(chunk_index=index, proof=etag, chunk_size=size)
        await tell(self._progress, self._report_progress())
        async with self._report_lock:
            while index in self._unreported:  # not reported by an earlier holder of the lock
                await self._report()

    # --- URLs ---------------------------------------------------------------------------------

    async def _url(self, index: int, *, fresh: bool) -> str:
        """An unused, unexpired presigned URL for the chunk: the one in hand, or a new one."""
        async with self._url_lock:
            held = self._urls.pop(index, None)
            if held is not None and not fresh and not self._expiring(held):
                return held.url
            count = 1 if fresh else min(MAX_URLS_PER_REQUEST, self._total - index + 1)
            answer = await self._uploads.urls(self.upload_id, start=index, count=count)
            self._take_urls(answer.upload_urls, index, index + count - 1)
            got = self._urls.pop(index, None)
            if got is None:
                raise DecodeError(
                    f"asked for presigned URLs of chunks {index}-{index + count - 1}, the "
                    f"answer has none for chunk {index}"
                )
            return got.url

    def _take_urls(self, urls: tuple[PresignedUrl, ...], first: int, last: int) -> None:
        for url in urls:
            if not first <= url.chunk_index <= last:
                raise DecodeError(
                    f"a presigned URL for chunk {url.chunk_index}, outside the chunks "
                    f"{first}-{last} asked for"
                )
            if not url.url.startswith(("https://", "http://")):
                raise DecodeError(f"chunk {url.chunk_index}: not an http(s) URL")
            if url.chunk_index not in self._reported:
                self._urls[url.chunk_index] = url

    def _expiring(self, url: PresignedUrl) -> bool:
        if url.expires_at is None:
            return False
        return url.expires_at.timestamp() - URL_MARGIN <= self._http.clock.time()

    # --- reports ------------------------------------------------------------------------------

    async def _report(self) -> None:
        """Report chunks done and not yet reported (up to `REPORT_BATCH`); check the answer."""
        batch = list(self._unreported.values())[:REPORT_BATCH]
        answer = await self._uploads.report(self.upload_id, batch)
        for chunk in batch:
            del self._unreported[chunk.chunk_index]
            self._reported.add(chunk.chunk_index)
        processed, duplicates = answer.processed_chunks, answer.duplicate_chunks
        counted = (processed or 0) + (duplicates or 0)
        if counted > len(batch) or (None not in (processed, duplicates) and counted < len(batch)):
            raise DecodeError(
                f"reported {len(batch)} chunks, the answer counts {answer.processed_chunks} "
                f"processed and {answer.duplicate_chunks} duplicates"
            )
        total = answer.total_completed
        if total is not None and not len(self._reported) <= total <= self._total:
            raise DecodeError(
                f"the session says {total} chunks are completed; {len(self._reported)} of "
                f"{self._total} were reported"
            )
        if answer.asset_id is not None:
            if self.asset_id is not None and answer.asset_id != self.asset_id:
                raise DecodeError(
                    f"the report is about asset {shown(answer.asset_id)}, the session's is "
                    f"{self.asset_id}"
                )
            self.asset_id = path_id(answer.asset_id, "asset_id")
        if answer.url is not None:
            self._completed_url = answer.url

    async def _confirm(self) -> None:
        """The session completed: the last report's `url` says so, else its status must."""
        if self._completed_url is not None and len(self._reported) == self._total:
            return
        status = await self._uploads.retrieve(self.upload_id, page_limit=1)
        if str(status.status) != "completed":
            raise self.interrupted(
                f"every chunk was reported, yet the session is {status.status} with "
                f"{status.chunks_completed} of {self._total} chunks completed",
                None,
            )


def _describe(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {exc}"


async def upload_multipart(
    http: HTTPTransport,
    uploads: Uploads,
    plan: Plan,
    *,
    upload_id: str | None,
    concurrency: int,
    progress: ProgressCallback | None,
    enable_hls: bool | None,
    enable_thumbnail: bool | None,
    user_metadata: Mapping[str, object] | None,
) -> str:
    """Upload `plan`'s file through a multipart session (new, or `upload_id` resumed).

    Returns the asset's id once the session is `completed`.
    """
    job = MultipartUpload(http, uploads, plan, concurrency=concurrency, progress=progress)
    if upload_id is None:
        await job.start(
            enable_hls=enable_hls, enable_thumbnail=enable_thumbnail, user_metadata=user_metadata
        )
    else:
        await job.resume(upload_id)
    asset_id = await job.send()
    if asset_id is None:
        raise job.interrupted("the API never named the session's asset", None)
    return asset_id
