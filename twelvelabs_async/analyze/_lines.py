"""`LineStream`: a streamed response read line by line, typed, and released however it ends."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager
from typing import Any, Generic, Self, TypeVar

from .._untrusted import loads
from ..errors import DecodeError

T = TypeVar("T")

Opener = Callable[[], AbstractAsyncContextManager[AsyncIterator[bytes]]]


def json_line(text: bytes, what: str) -> Any:
    """One stripped, non-blank line decoded as JSON.

    Raises:
        DecodeError: the line is not JSON (or is nested too deeply to decode); the message
            starts with `what` ("a streamed line") and shows the line's first 80 bytes.
    """
    try:
        return loads(text)
    except ValueError:
        shown = text[:80].decode("utf-8", "replace")
        raise DecodeError(f"{what} is not JSON: {shown!r}") from None


class LineStream(Generic[T]):
    """Items parsed from a streamed response's lines, as they arrive.

    Use it as `async with ... as stream: async for item in stream:` (the response is released
    when the block ends, even on `break`). Iterating without `async with` also works and
    releases the response when the iteration ends. Nothing is sent until then.
    """

    def __init__(self, opener: Opener) -> None:
        self._opener = opener
        self._context: AbstractAsyncContextManager[AsyncIterator[bytes]] | None = None
        self._lines: AsyncIterator[bytes] | None = None
        self._started = False
        self._read_to_end = False

    def _parse(self, line: bytes) -> T | None:  # pragma: no cover - every subclass has one
        raise NotImplementedError

    def _seen(self, item: T) -> None:
        """A hook for subclasses that remember something of what went by."""

    async def __aenter__(self) -> Self:
        await self._open()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()

    async def _open(self) -> AsyncIterator[bytes]:
        if self._started:
            if self._lines is None:
                raise RuntimeError(f"this {type(self).__name__} was closed; start a new one")
            return self._lines
        self._started = True
        self._context = self._opener()
        self._lines = await self._context.__aenter__()
        return self._lines

    async def aclose(self) -> None:
        """Release the response; safe to call more than once."""
        context, self._context, self._lines = self._context, None, None
        if context is not None:
            await context.__aexit__(None, None, None)

    def __aiter__(self) -> AsyncIterator[T]:
        return self._items()

    async def _items(self) -> AsyncIterator[T]:
        lines = await self._open()
        try:
            async for line in lines:
                item = self._parse(line)
                if item is not None:
                    self._seen(item)
                    yield item
            self._read_to_end = True
        finally:
            await self.aclose()
