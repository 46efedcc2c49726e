"""What kind of file an asset is, and the size limits the API sets for each kind and method.

Pure: shared by the client's checks before any request and by the simulator's.
"""

from __future__ import annotations

import mimetypes

MIB = 1024 * 1024

DIRECT_LIMITS = {"video": 200 * MIB, "audio": 200 * MIB, "image": 32 * MIB, "document": 200 * MIB}
"""The most bytes of a direct upload (`POST /assets`, `method=direct`), by kind of file."""
URL_LIMITS = {"video": 4096 * MIB, "audio": 4096 * MIB, "image": 32 * MIB, "document": 512 * MIB}
"""The most bytes of a URL import (`method=url`), by kind of file."""
MAX_DIRECT_BYTES = max(DIRECT_LIMITS.values())
"""The limit of a direct upload whose kind is unknown: the largest of them (200 MiB)."""

_DOCUMENTS = {
    ".pdf": "application/pdf",
    ".txt": "text/plain",
    ".md": "text/markdown",
    ".markdown": "text/markdown",
}


def content_type(filename: str) -> str:
    """The MIME type the file's extension names (any case); else `application/octet-stream`."""
    lower = filename.lower()
    for extension, mime in _DOCUMENTS.items():
        if lower.endswith(extension):
            return mime
    guessed, _ = mimetypes.guess_type(lower, strict=False)
    return guessed or "application/octet-stream"


def kind_of(filename: str) -> str | None:
    """`video`, `audio`, `image` or `document` by the file's extension; None when unknown."""
    mime = content_type(filename)
    if mime in _DOCUMENTS.values():
        return "document"
    major = mime.split("/", 1)[0]
    return major if major in ("video", "audio", "image") else None


def direct_limit(filename: str) -> int:
    """The most bytes a direct upload of this file may have (200 MiB when its kind is unknown)."""
    kind = kind_of(filename)
    return DIRECT_LIMITS[kind] if kind is not None else MAX_DIRECT_BYTES


def megabytes(size: int) -> str:
    """A size for a message: `200 MiB`."""
    return f"{size / MIB:,.0f} MiB"
