"""What every resource does the same way: decode a JSON body into a model, list page by page.

The resources name their paths and models; the decoding and the paging rules are written once
here (the HTTP seam knows no model, so model decoders live on this side of it).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, TypeVar

from .._convert import structure
from .._http import Decoder, HTTPTransport, decode_json
from .._pagination import AsyncPaginator, Page
from .._validate import check_range, idempotency_header, shown
from ..errors import DecodeError, InvalidInputError

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
