"""`multipart/form-data` bodies (RFC 7578) whose file part is streamed, never held whole.

A `MultipartForm` is a `Content` (see `_transport`): text fields, then at most one file part
whose bytes come from a `FileSource` as the transport asks for them. A path is read from disk
in pieces of `CHUNK_SIZE`, off the event loop; bytes are sliced; an async iterator the caller
hands over is passed through (once: such a body is never retried). Knowing the sizes up front
(a path, bytes) gives the body's exact `Content-Length`; an iterator's body goes chunked.

Part of the HTTP seam: it knows how a form is written, not which endpoint takes it.
"""

from __future__ import annotations

import os
import stat
import uuid
from collections.abc import AsyncIterable, AsyncIterator
from pathlib import Path

import anyio
import attrs

from .errors import InvalidInputError

CHUNK_SIZE = 1024 * 1024
"""Bytes read from a file per piece: memory per upload stays about this, whatever the size."""
_CRLF = b"\r\n"


def _quoted(value: str) -> bytes:
    """A `name` or `filename` parameter value, as browsers write it (WHATWG, RFC 7578 §4.2).

    UTF-8, with `"`, CR and LF percent-encoded so that the value cannot end the header.
    """
    escaped = value.replace('"', "%22").replace("\r", "%0D").replace("\n", "%0A")
    return b'"' + escaped.encode("utf-8") + b'"'


class FileSource:
    """Where a file part's bytes come from: `size` if known, and `chunks()` per attempt."""

    size: int | None = None
    replayable = True

    def chunks(self) -> AsyncIterator[bytes]:  # pragma: no cover - every source overrides it
        """The file's bytes, piece by piece."""
        raise NotImplementedError


class PathSource(FileSource):
    """A file on disk, of `size` bytes when checked: read piece by piece off the event loop.

    Exactly `size` bytes are sent (the `Content-Length` promised them): a file that shrinks
    while it is read raises `InvalidInputError`, and bytes it grew by are not sent.
    """

    def __init__(self, path: Path, size: int, chunk_size: int = CHUNK_SIZE) -> None:
        self.path = path
        self.size = size
        self._chunk_size = chunk_size

    async def chunks(self) -> AsyncIterator[bytes]:
        """The file's first `size` bytes, `chunk_size` at a time."""
        left = self.size if self.size is not None else 0
        async with await anyio.open_file(self.path, "rb") as file:
            while left > 0:
                chunk = await file.read(min(self._chunk_size, left))
                if not chunk:
                    raise InvalidInputError(
                        f"{self.path} became shorter while it was uploaded; upload it again"
                    )
                left -= len(chunk)
                yield chunk


def _read_at(path: Path, offset: int, size: int) -> bytes:
    with path.open("rb") as file:
        file.seek(offset)
        return file.read(size)


class FileRange(FileSource):
    """`size` bytes of a file from `offset` (a chunk of a multipart upload), piece by piece.

    Each piece is read in a worker thread that opens, reads and closes the file: nothing is
    held open between pieces, so a request that stops taking the body (a reset) leaves no
    open file behind. A file that became shorter raises `InvalidInputError`.
    """

    def __init__(self, path: Path, offset: int, size: int, chunk_size: int = CHUNK_SIZE) -> None:
        self.path = path
        self.offset = offset
        self.size = size
        self._chunk_size = chunk_size

    async def chunks(self) -> AsyncIterator[bytes]:
        """The range's bytes, `chunk_size` at a time."""
        position, end = self.offset, self.offset + (self.size or 0)
        while position < end:
            want = min(self._chunk_size, end - position)
            piece = await anyio.to_thread.run_sync(_read_at, self.path, position, want)
            if len(piece) < want:
                raise InvalidInputError(
                    f"{self.path} became shorter while it was uploaded; upload it again"
                )
            position += want
            yield piece


class BytesSource(FileSource):
    """Bytes in memory, sent in slices (no copy of the whole)."""

    def __init__(self, data: bytes, chunk_size: int = CHUNK_SIZE) -> None:
        self._data = memoryview(data)
        self.size = len(data)
        self._chunk_size = chunk_size

    async def chunks(self) -> AsyncIterator[bytes]:
        """The bytes, `chunk_size` at a time."""
        for start in range(0, len(self._data), self._chunk_size):
            yield bytes(self._data[start : start + self._chunk_size])


class IterSource(FileSource):
    """An async iterator of bytes the caller handed over: passed through as it yields, once.

    Its size is unknown, so a body holding it is sent chunked; more than `limit` bytes raise
    `InvalidInputError` (which ends the request) rather than send what the API would refuse.
    """

    replayable = False

    def __init__(self, source: AsyncIterable[bytes], limit: int | None = None) -> None:
        self._source: AsyncIterable[bytes] | None = source
        self._limit = limit

    async def chunks(self) -> AsyncIterator[bytes]:
        """The iterator's bytes, as it yields them (a second call raises `RuntimeError`)."""
        source, self._source = self._source, None
        if source is None:
            raise RuntimeError("an async iterator of bytes can be uploaded once only")
        sent = 0
        async for chunk in source:
            if not isinstance(chunk, bytes | bytearray | memoryview):
                raise InvalidInputError(
                    f"the file iterator must yield bytes, got {type(chunk).__name__}"
                )
            sent += len(chunk)
            if self._limit is not None and sent > self._limit:
                raise InvalidInputError(
                    f"the file iterator yielded more than the limit of {self._limit:,} bytes"
                )
            if chunk:
                yield bytes(chunk)


@attrs.frozen
class FilePart:
    """The form's file part: its field name, the file name and type sent, and its bytes."""

    name: str
    filename: str
    content_type: str
    source: FileSource


@attrs.frozen
class RawBody:
    """A body of raw bytes from a `FileSource` (a chunk PUT to storage, say): a `Content`.

    Sent as `application/octet-stream` with the source's exact `Content-Length`.
    """

    source: FileSource
    content_type: str = "application/octet-stream"

    @property
    def length(self) -> int | None:
        """The source's size, or None when unknown (then sent chunked)."""
        return self.source.size

    @property
    def replayable(self) -> bool:
        """Whether the source's bytes can be produced again."""
        return self.source.replayable

    def chunks(self) -> AsyncIterator[bytes]:
        """The source's bytes, piece by piece."""
        return self.source.chunks()


def _boundary() -> str:
    return f"twelvelabs-async-{uuid.uuid4().hex}"


@attrs.frozen
class MultipartForm:
    """A `multipart/form-data` body: text fields, then at most one streamed file part.

    ```python
    form = MultipartForm(fields=(("method", "direct"),), file=FilePart(
        "file", "clip.mp4", "video/mp4", PathSource(Path("clip.mp4"), size)))
    ```

    A `Content` (see `_transport`): `length` is exact when the file's size is known.
    """

    fields: tuple[tuple[str, str], ...] = ()
    file: FilePart | None = None
    boundary: str = attrs.field(factory=_boundary)

    @property
    def content_type(self) -> str:
        """`multipart/form-data; boundary=...`."""
        return f"multipart/form-data; boundary={self.boundary}"

    @property
    def replayable(self) -> bool:
        """False when the file part's bytes can be produced once only."""
        return self.file is None or self.file.source.replayable

    def _head(
        self, name: str, filename: str | None = None, content_type: str | None = None
    ) -> bytes:
        disposition = b"Content-Disposition: form-data; name=" + _quoted(name)
        if filename is not None:
            disposition += b"; filename=" + _quoted(filename)
        lines = [b"--" + self.boundary.encode(), disposition]
        if content_type is not None:
            lines.append(b"Content-Type: " + content_type.encode("ascii"))
        return _CRLF.join(lines) + _CRLF + _CRLF

    def _fields(self) -> bytes:
        return b"".join(
            self._head(name) + value.encode("utf-8") + _CRLF for name, value in self.fields
        )

    def _file_head(self) -> bytes:
        file = self.file
        if file is None:
            return b""
        return self._head(file.name, file.filename, file.content_type)

    def _tail(self) -> bytes:
        return (
            (_CRLF if self.file is not None else b"") + b"--" + self.boundary.encode() + b"--\r\n"
        )

    @property
    def length(self) -> int | None:
        """The body's exact length, or None when the file's size is unknown."""
        fixed = len(self._fields()) + len(self._file_head()) + len(self._tail())
        if self.file is None:
            return fixed
        size = self.file.source.size
        return None if size is None else fixed + size

    async def chunks(self) -> AsyncIterator[bytes]:
        """The body: the fields and the file part's head at once, then the file, then the end."""
        yield self._fields() + self._file_head()
        if self.file is not None:
            async for chunk in self.file.source.chunks():
                yield chunk
        yield self._tail()


def file_size(path: Path) -> int:
    """The size of a regular file, or `InvalidInputError` saying why it cannot be uploaded."""
    try:
        info = path.stat()
    except FileNotFoundError:
        raise InvalidInputError(f"file {str(path)!r} does not exist") from None
    except OSError as exc:
        raise InvalidInputError(f"file {str(path)!r} cannot be read: {exc.strerror}") from None
    if stat.S_ISDIR(info.st_mode):
        raise InvalidInputError(f"file {str(path)!r} is a directory; pass a file")
    if not stat.S_ISREG(info.st_mode):
        raise InvalidInputError(f"file {str(path)!r} is not a regular file")
    if not os.access(path, os.R_OK):
        raise InvalidInputError(f"file {str(path)!r} is not readable")
    return info.st_size
