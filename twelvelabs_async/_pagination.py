"""Page-number pagination: iterate every item of every page, with no request past the last.

A server's `page_info` is not taken on trust: a list ends at the last page it names, at a short
or empty page, and in any case after `MAX_PAGES` pages; a page that does not move the list on
(another page number than the one asked for, or the previous page's items again) stops it with
a `DecodeError`. The rules are the pure `is_last_page` and `page_error`.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from typing import Generic, Protocol, TypeVar

from ._validate import check_number
from .errors import DecodeError
from .models import PageInfo

T = TypeVar("T", covariant=True)
ItemT = TypeVar("ItemT")
PageT = TypeVar("PageT", bound="Page[object]")

MAX_PAGES = 10_000
"""The most pages one iteration reads (500,000 items at 50 a page); past it the list is taken
for one that never ends (a server claiming `total_page=10**12`, say)."""


class Page(Protocol[T]):
    """One page of a list: its items and where it sits."""

    @property
    def data(self) -> Sequence[T]: ...

    @property
    def page_info(self) -> PageInfo: ...


def is_last_page(number: int, limit: int, items: int, info: PageInfo) -> bool:
    """Whether page `number` (1-based) is the last one.

    An empty page always is. Otherwise `page_info.total_page` decides when the API gave it, and
    a short page ends the list when it did not. Pure, so that the rule is tested without a
    server.
    """
    if items == 0:
        return True
    if info.total_page is not None:
        return number >= info.total_page
    return items < limit


def page_error(
    number: int, page: Page[object], previous: Sequence[object] | None, context: str
) -> DecodeError | None:
    """What is wrong with page `number` as an answer, or None when it moves the list on.

    Wrong when its `page_info.page` names another page than the one asked for, or when it holds
    exactly the items of the page before (`previous`): a server that ignores the page number
    would otherwise be read forever. Pure, like `is_last_page`.
    """
    reported = page.page_info.page
    if reported is not None and reported != number:
        return DecodeError(
            f"{context}: asked for page {number}, the server answered page {reported}; "
            "stopped reading the list",
            path="$.page_info.page",
        )
    if previous is not None and page.data and list(page.data) == list(previous):
        return DecodeError(
            f"{context}: page {number} holds the same items as page {number - 1} (the server "
            "does not move on through the list); stopped reading the list",
            path="$.data",
        )
    return None


class AsyncPaginator(Generic[ItemT, PageT]):
    """Iterate with `async for item in paginator`, or page by page with `pages()` / `page(n)`.

    Each page is fetched only when iteration reaches it; nothing is requested past the last
    page. Breaking out of the loop leaves nothing open. A page that does not move the list on
    raises `DecodeError`, and so does a list that has not ended after `MAX_PAGES` pages.
    """

    def __init__(
        self, fetch: Callable[[int], Awaitable[PageT]], *, limit: int, context: str = "list"
    ) -> None:
        self._fetch = fetch
        self._limit = limit
        self._context = context

    def __aiter__(self) -> AsyncIterator[ItemT]:
        return self._items()

    async def _items(self) -> AsyncIterator[ItemT]:
        async for page in self.pages():
            for item in page.data:
                yield item  # type: ignore[misc]

    async def pages(self, *, start: int = 1) -> AsyncIterator[PageT]:
        """Yield each page from page `start` on, stopping after the last page.

        Raises:
            InvalidInputError: `start` is not an integer >= 1 (before any request).
            DecodeError: a page did not move the list on, or `MAX_PAGES` pages were read and
                the server still said there were more.
        """
        check_number(start, "start", low=1, integer=True)
        number, previous = start, None
        while True:
            page = await self._fetched(number, previous)
            yield page
            if is_last_page(number, self._limit, len(page.data), page.page_info):
                return
            if number - start + 1 >= MAX_PAGES:
                raise DecodeError(
                    f"{self._context}: the list did not end after {MAX_PAGES:,} pages (the "
                    f"server said total_page={page.page_info.total_page}); stopped reading it",
                    path="$.page_info.total_page",
                )
            previous = page.data
            number += 1

    async def page(self, number: int = 1) -> PageT:
        """Fetch one page (1-based); its `page_info` says how many there are.

        Raises:
            InvalidInputError: `number` is not an integer >= 1 (before any request).
            DecodeError: the server answered with another page.
        """
        check_number(number, "page number", low=1, integer=True)
        return await self._fetched(number, None)

    async def _fetched(self, number: int, previous: Sequence[object] | None) -> PageT:
        page = await self._fetch(number)
        error = page_error(number, page, previous, self._context)
        if error is not None:
            raise error
        return page
