"""The simulator's JSON replies: both error shapes, and the page parameters lists share."""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from typing import Any

from aiohttp import web

from .._validate import UnsupportedSchemaKeyword
from ..models import PageInfo


def json_reply(status: int, body: Any, headers: Mapping[str, str] | None = None) -> web.Response:
    """A JSON response."""
    return web.Response(
        status=status,
        body=json.dumps(body).encode(),
        content_type="application/json",
        headers=headers,
    )


def flat_error(status: int, code: str, message: str) -> web.Response:
    """The flat error shape: `{"code", "message"}`."""
    return json_reply(status, {"code": code, "message": message})


def nested_error(status: int, code: str, message: str) -> web.Response:
    """The nested error shape: `{"error": {"code", "message"}}`."""
    return json_reply(status, {"error": {"code": code, "message": message}})


def refused_body(exc: Exception, shape: Callable[[int, str, str], web.Response]) -> web.Response:
    """The answer to a request body the API refuses, in the route's error `shape`.

    `shape` is `flat_error` or `nested_error`. The status is 422 for a JSON-schema keyword the
    API does not support, else 400; the code is `parameter_invalid` either way.
    """
    status = 422 if isinstance(exc, UnsupportedSchemaKeyword) else 400
    return shape(status, "parameter_invalid", str(exc))


def page_params(request: web.Request) -> tuple[int, int]:
    """`page` (default 1, >= 1) and `page_limit` (default 10, 1-50) of a list request.

    Raises:
        ValueError: with the message to answer in a 400 `parameter_invalid`.
    """
    try:
        page = int(request.query.get("page", "1"))
        limit = int(request.query.get("page_limit", "10"))
    except ValueError:
        raise ValueError("page and page_limit must be integers.") from None
    if page < 1 or not 1 <= limit <= 50:
        raise ValueError("page must be >= 1 and page_limit between 1 and 50.")
    return page, limit


def page_info(page: int, limit: int, total: int) -> PageInfo:
    """The `page_info` of page `page` of `total` items, `limit` a page (always 1 page or more)."""
    return PageInfo(
        limit_per_page=limit,
        page=page,
        total_page=max(1, -(-total // limit)),
        total_results=total,
    )
