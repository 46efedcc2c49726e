"""Lists that would never end: a server repeating a page, answering another page number, or
claiming endless pages. Iteration stops with a DecodeError, or at `MAX_PAGES`, never loops.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from typing import Any

import pytest
from aioresponses import CallbackResult, aioresponses
from yarl import URL

from tests._payloads import pages_requested
from tests.conftest import BASE_URL
from twelvelabs_async import AnalyzeTask, AsyncTwelveLabs, DecodeError, PageInfo, TaskPage
from twelvelabs_async._pagination import MAX_PAGES, AsyncPaginator, is_last_page, page_error

LIST = re.compile(rf"^{re.escape(BASE_URL)}/analyze/(tasks|batches)\?.*$")


async def collect(items: AsyncIterator[Any], into: list[Any]) -> None:
    """Append every item to `into` (what was yielded before an error stays there)."""
    async for one in items:
        into.append(one)


def tasks_page(*ids: str, **info: int) -> TaskPage:
    """A TaskPage holding ready tasks with these ids."""
    return TaskPage(tuple(AnalyzeTask(i, "ready") for i in ids), PageInfo(**info))


# --- the rules, pure ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("number", "page", "previous", "path"),
    [
        (1, tasks_page("a", "b", page=1), None, None),
        (2, tasks_page("c", page=2), tasks_page("a", "b").data, None),
        (2, tasks_page("c"), tasks_page("a", "b").data, None),
        (2, tasks_page("a", "b", page=1), None, "$.page_info.page"),
        (3, tasks_page("a", page=7), None, "$.page_info.page"),
        (2, tasks_page("a", "b"), tasks_page("a", "b").data, "$.data"),
        (2, tasks_page("a", "b", page=2), tasks_page("a", "b").data, "$.data"),
        (2, tasks_page("b", "a", page=2), tasks_page("a", "b").data, None),
        (2, tasks_page(page=2), (), None),
    ],
)
def test_a_page_must_move_the_list_on(
    number: int, page: TaskPage, previous: Any, path: str | None
) -> None:
    """Another page number than asked for, or the previous page's items again, is an error."""
    error = page_error(number, page, previous, "GET /analyze/tasks")
    assert (error.path if error is not None else None) == path
    if error is not None:
        assert str(error).startswith("GET /analyze/tasks: ")
        assert "stopped reading the list" in str(error)


@pytest.mark.parametrize("total_page", [3, 10**12, None])
def test_an_empty_page_is_always_the_last(total_page: int | None) -> None:
    """An empty page ends the list, whatever total_page claims."""
    assert is_last_page(2, 10, 0, PageInfo(total_page=total_page)) is True


async def test_a_list_that_never_ends_stops_after_max_pages() -> None:
    """A server claiming total_page=10**12 with new items on every page is read 10,000 pages."""
    fetched: list[int] = []

    async def fetch(number: int) -> TaskPage:
        fetched.append(number)
        return tasks_page(f"t{number}", page=number, total_page=10**12)

    paginator: AsyncPaginator[AnalyzeTask, TaskPage] = AsyncPaginator(fetch, limit=1)
    seen: list[AnalyzeTask] = []
    with pytest.raises(DecodeError, match=r"did not end after 10,000 pages") as info:
        await collect(aiter(paginator), seen)
    assert info.value.path == "$.page_info.total_page"
    assert len(fetched) == len(seen) == MAX_PAGES
    with pytest.raises(DecodeError, match="10,000 pages"):
        await collect(paginator.pages(start=5), [])
    assert fetched[-1] == MAX_PAGES + 4


@pytest.mark.parametrize("start", [0, -1, 1.5, float("nan"), "2"])
async def test_page_numbers_must_be_integers_from_one(start: Any) -> None:
    """pages(start=) and page(n) refuse what is not an integer >= 1, before any request."""

    async def fetch(number: int) -> TaskPage:
        raise AssertionError("nothing may be fetched")

    paginator: AsyncPaginator[AnalyzeTask, TaskPage] = AsyncPaginator(fetch, limit=1)
    with pytest.raises(ValueError, match="start must be an integer >= 1"):
        await anext(paginator.pages(start=start))
    with pytest.raises(ValueError, match="page number must be an integer >= 1"):
        await paginator.page(start)


# --- through the client ---------------------------------------------------------------------------


def item(kind: str, object_id: str) -> dict[str, Any]:
    """A task or a batch as its list shows it."""
    if kind == "tasks":
        return {"task_id": object_id, "status": "ready"}
    return {"batch_id": object_id, "status": "completed", "total_items": 1}


def listing(client: AsyncTwelveLabs, kind: str) -> Any:
    """`tasks.list(page_limit=2)` or `batches.list(page_limit=2)`."""
    return getattr(client.analyze, kind).list(page_limit=2)


@pytest.mark.parametrize("kind", ["tasks", "batches"])
@pytest.mark.parametrize(
    ("page_info", "message"),
    [
        ({}, "page 2 holds the same items as page 1"),
        ({"total_page": 10**12}, "page 2 holds the same items as page 1"),
        ({"page": 1, "total_page": 5}, "asked for page 2, the server answered page 1"),
    ],
)
async def test_a_server_that_ignores_the_page_number_is_not_read_forever(
    client: AsyncTwelveLabs,
    mock_api: aioresponses,
    kind: str,
    page_info: dict[str, int],
    message: str,
) -> None:
    """The same full page for every page number: two requests, the items once, a DecodeError."""

    def same_page(url: URL, **_: Any) -> CallbackResult:
        data = [item(kind, "x1"), item(kind, "x2")]
        return CallbackResult(payload={"data": data, "page_info": page_info})

    mock_api.get(LIST, callback=same_page, repeat=True)
    seen: list[Any] = []
    with pytest.raises(DecodeError, match=message) as info:
        await collect(aiter(listing(client, kind)), seen)
    assert str(info.value).startswith(f"GET /analyze/{kind}: ")
    assert len(seen) == 2
    assert pages_requested(mock_api) == [1, 2]
