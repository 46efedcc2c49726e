"""A batch's results: JSON Lines into typed `BatchResult` items, read as they arrive."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager
from types import TracebackType
from typing import Any

from .._convert import structure
from ..errors import DecodeError
from ..models import BatchResult

JSONL_ACCEPT = "application/jsonl, application/x-ndjson, application/json"
"""The `Accept` header of the results request."""


def parse_result_line(line: bytes) -> BatchResult | None:
    """Turn one JSON Lines line into a `BatchResult`; None for a blank line.

    A line that is not a JSON object, or lacks `task_id`/`status`, raises `DecodeError` (it is
    never dropped silently, unlike the official SDK). An unknown status is kept as its string.
    """
    text = line.strip()
    if not text:
        return None
    try:
        data: Any = json.loads(text)
    except ValueError:
        raise DecodeError(
            f"a batch result line is not JSON: {text[:80].decode('utf-8', 'replace')!r}"
        ) from None
    return structure(data, BatchResult)


class BatchResults:
    """The items of a batch's results, read line by line as they arrive.

    Use it as `async with client.analyze.batches.results(batch_id) as results:` then
    `async for item in results:`; the response is released when the block ends, even on
    `break`. The file is never held in memory whole: each line is parsed as it is read.
    Iterating without `async with` also works and releases the response at the end.
    """

    def __init__(
        self, opener: Callable[[], AbstractAsyncContextManager[AsyncIterator[bytes]]]
    ) -> None:
        self._opener = opener
        self._context: AbstractAsyncContextManager[AsyncIterator[bytes]] | None = None
        self._lines: AsyncIterator[bytes] | None = None
        self._started = False

    async def __aenter__(self) -> BatchResults:
        await self._open()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()

    async def _open(self) -> AsyncIterator[bytes]:
        if self._started:
            if self._lines is None:
                raise RuntimeError("these BatchResults were closed; call results() again")
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

    def __aiter__(self) -> AsyncIterator[BatchResult]:
        return self._items()

    async def _items(self) -> AsyncIterator[BatchResult]:
        lines = await self._open()
        try:
            async for line in lines:
                item = parse_result_line(line)
                if item is not None:
                    yield item
        finally:
            await self.aclose()
