"""Page-number pagination: iterate every item of every page, with no request past the last."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from typing import Generic, Protocol, TypeVar

from .models import PageInfo

T = TypeVar("T", covariant=True)
ItemT = TypeVar("ItemT")
PageT = TypeVar("PageT", bound="Page[object]")


class Page(Protocol[T]):
    """One page of a list: its items and where it sits."""

    @property
    def data(self) -> Sequence[T]: ...

    @property
    def page_info(self) -> PageInfo: ...


def is_last_page(number: int, limit: int, items: int, info: PageInfo) -> bool:
    """Whether page `number` (1-based) is the last one.

    Uses `page_info.total_page` when the API gave it; otherwise a short or empty page ends the
    list. Pure, so that the rule is tested without a server.
    """
    if info.total_page is not None:
        return number >= info.total_page
    return items < limit


class AsyncPaginator(Generic[ItemT, PageT]):
    """Iterate with `async for item in paginator`, or page by page with `pages()` / `page(n)`.

    Each page is fetched only when iteration reaches it; nothing is requested past the last
    page. Breaking out of the loop leaves nothing open.
    """

    def __init__(self, fetch: Callable[[int], Awaitable[PageT]], *, limit: int) -> None:
        self._fetch = fetch
        self._limit = limit

    def __aiter__(self) -> AsyncIterator[ItemT]:
        return self._items()

    async def _items(self) -> AsyncIterator[ItemT]:
        async for page in self.pages():
            for item in page.data:
                yield item  # type: ignore[misc]

    async def pages(self, *, start: int = 1) -> AsyncIterator[PageT]:
        """Yield each page from page `start` on, stopping after the last page."""
        number = start
        while True:
            page = await self._fetch(number)
            yield page
            if is_last_page(number, self._limit, len(page.data), page.page_info):
                return
            number += 1

    async def page(self, number: int = 1) -> PageT:
        """Fetch one page (1-based); its `page_info` says how many there are."""
        return await self._fetch(number)
