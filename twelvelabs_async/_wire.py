"""What every resource does the same way: decode a JSON body into a model, list page by page.

The resources name their paths and models; the decoding and the paging rules are written once
here (the HTTP seam knows no model, so model decoders live on this side of it).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Generic, TypeVar

import attrs

from ._convert import parse_datetime, structure
from ._http import Decoder, HTTPTransport, decode_json
from ._models.common import PageInfo
from ._pagination import AsyncPaginator, Page
from ._validate import check_range, idempotency_header, shown
from .errors import DecodeError, InvalidInputError

T = TypeVar("T")
ItemT = TypeVar("ItemT")
PageT = TypeVar("PageT", bound=Page[object])

MAX_PAGE_LIMIT = 50
"""The most items one list page holds (the API's maximum)."""


def json_as(cls: type[T]) -> Decoder[T]:
    """A decoder of a 2xx JSON body into `cls` (`DecodeError` names the JSON path at fault)."""

    def decode(body: bytes, status: int) -> T:
        return structure(decode_json(body, status), cls, status_code=status)

    return decode


def json_about(cls: type[T], field: str, object_id: str) -> Decoder[T]:
    """`json_as(cls)` for the object `object_id`, which the body's `field` must name.

    A body about another object is a `DecodeError`: a malformed answer to this request,
    retried like one.
    """
    decode_as = json_as(cls)
    noun = field.removesuffix("_id")

    def decode(body: bytes, status: int) -> T:
        item = decode_as(body, status)
        got = getattr(item, field)
        if got != object_id:
            raise DecodeError(
                f"asked for {noun} {object_id}, the reply is about {noun} {shown(got)}",
                path=f"$.{field}",
                status_code=status,
            )
        return item

    return decode


async def post_once(
    http: HTTPTransport, path: str, decode: Decoder[T], body: Any, idempotency_key: str | None
) -> T:
    """`POST path` of paid work, created once however often it is retried.

    The `Idempotency-Key` (yours, else a random one) goes with every try of the request.

    Raises:
        InvalidInputError: the key is not 1-255 printable characters (before any request).
    """
    headers = idempotency_header(idempotency_key)
    return await http.request("POST", path, decode, json_body=body, headers=headers)


def page_params(
    number: int, limit: int, filters: Sequence[tuple[str, str]] = ()
) -> list[tuple[str, str]]:
    """The query of one list page: `page`, `page_limit`, then the filters (repeatable keys)."""
    return [("page", str(number)), ("page_limit", str(limit)), *filters]


def paginate(
    http: HTTPTransport,
    path: str,
    decode: Decoder[PageT],
    *,
    page_limit: int,
    filters: Sequence[tuple[str, str]],
) -> AsyncPaginator[ItemT, PageT]:
    """Every item of every page of `GET path`, fetched as iteration reaches it.

    The server's paging is checked as `AsyncPaginator` does: a page that does not move the list
    on, or a list that never ends, raises `DecodeError` instead of requesting forever.

    Raises:
        InvalidInputError: `page_limit` is not an integer from 1 to 50 (before any request).
    """
    if isinstance(page_limit, bool) or not isinstance(page_limit, int):
        raise InvalidInputError(f"page_limit must be an integer between 1 and {MAX_PAGE_LIMIT}")
    check_range(page_limit, "page_limit", 1, MAX_PAGE_LIMIT)

    async def fetch(number: int) -> PageT:
        params = page_params(number, page_limit, filters)
        return await http.request("GET", path, decode, params=params)

    return AsyncPaginator(fetch, limit=page_limit, context=f"GET /{path}")


@attrs.frozen(slots=True)
class ListedItem(Generic[T]):
    """One item of a list page: its id, status and creation time read, the rest on demand.

    A tracker's sweeps read thousands of list items and need only these three of most of
    them; `full()` decodes the whole item (a tracking `Listed`).
    """

    id: str
    status: str
    created: float | None
    """`created_at` in epoch seconds, when the item has it."""
    _raw: Mapping[str, Any] = attrs.field(repr=False)
    _cls: type[T] = attrs.field(repr=False)
    _path: str = attrs.field(repr=False)
    _status_code: int = attrs.field(repr=False)

    def full(self) -> T:
        """The whole item decoded, or `DecodeError` naming its JSON path in the page."""
        try:
            return structure(self._raw, self._cls, status_code=self._status_code)
        except DecodeError as exc:
            path = self._path + exc.path.removeprefix("$")
            message = exc.message.replace(f" @ {exc.path}", f" @ {path}")
            raise DecodeError(message, path=path, status_code=self._status_code) from None


@attrs.frozen(slots=True)
class ListedPage(Generic[T]):
    """One list page of `ListedItem`s, and where it sits."""

    data: tuple[ListedItem[T], ...]
    page_info: PageInfo


def listed_as(cls: type[T], id_field: str) -> Decoder[ListedPage[T]]:
    """A decoder of a list page whose items are decoded lazily (`ListedItem`).

    The page, its `page_info`, and each item's `id_field`, `status` and `created_at` are
    checked at once (`DecodeError` names the JSON path at fault); the rest of an item is
    decoded by its `full()`.
    """

    def fail(problem: str, path: str, status: int) -> DecodeError:
        message = f"unexpected response body for a page of {cls.__name__}: {problem}"
        return DecodeError(message, path=path, status_code=status)

    def decode(body: bytes, status: int) -> ListedPage[T]:
        raw = decode_json(body, status)
        if not isinstance(raw, Mapping):
            raise fail("expected a JSON object", "$", status)
        rows = raw.get("data")
        if not isinstance(rows, list):
            raise fail("expected an array", "$.data", status)
        info = structure(raw.get("page_info", {}), PageInfo, status_code=status)
        items = []
        for index, row in enumerate(rows):
            path = f"$.data[{index}]"
            if not isinstance(row, Mapping):
                raise fail("expected an object", path, status)
            object_id, state = row.get(id_field), row.get("status")
            if not isinstance(object_id, str):
                raise fail("expected a string", f"{path}.{id_field}", status)
            if not isinstance(state, str):
                raise fail("expected a string", f"{path}.status", status)
            created = row.get("created_at")
            try:
                when = None if created is None else parse_datetime(created).timestamp()
            except (TypeError, ValueError) as exc:
                raise fail(shown(str(exc)), f"{path}.created_at", status) from None
            items.append(ListedItem(object_id, state, when, row, cls, path, status))
        return ListedPage(tuple(items), info)

    return decode
