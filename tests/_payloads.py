"""Small builders of API payloads, and readers of what aioresponses recorded."""

from __future__ import annotations

from typing import Any

from aioresponses import aioresponses
from yarl import URL


def task(task_id: str = "t1", status: str = "ready", **extra: Any) -> dict[str, Any]:
    """An analysis task as the API returns it."""
    return {"task_id": task_id, "status": status, **extra}


def page(ids: list[str], **page_info: int) -> dict[str, Any]:
    """One page of `GET /analyze/tasks` holding tasks with these ids."""
    return {"data": [task(i) for i in ids], "page_info": page_info}


def calls(mock: aioresponses, method: str, url: str) -> list[Any]:
    """The recorded calls of `method url`."""
    return mock.requests.get((method, URL(url)), [])


def pages_requested(mock: aioresponses) -> list[int]:
    """The `page` query parameter of every recorded request, sorted."""
    return sorted(int(url.query["page"]) for (_, url) in mock.requests)
