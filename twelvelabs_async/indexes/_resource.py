"""`client.indexes`: create, retrieve, list, rename and delete indexes (`/indexes`)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime

from .._http import HTTPTransport, no_body
from .._pagination import AsyncPaginator
from .._validate import path_id
from .._wire import json_about, json_as, paginate
from ..models import (
    Index,
    IndexAddon,
    IndexModelOption,
    IndexModels,
    IndexPage,
    IndexRef,
    ModelFamily,
    SortBy,
    SortOption,
)
from . import _checks as check
from ._indexed import IndexedAssets

IndexList = AsyncPaginator[Index, IndexPage]
"""What `indexes.list()` returns: iterate indexes with `async for`, or pages with `.pages()`."""

_ref = json_as(IndexRef)
_page = json_as(IndexPage)


class Indexes:
    """Indexes (`/indexes`): collections of assets made searchable by a Marengo model.

    Reach it as `client.indexes`; its `indexed_assets` put assets into an index and follow
    them until they are `ready`.
    """

    def __init__(self, transport: HTTPTransport) -> None:
        self._http = transport
        self.indexed_assets = IndexedAssets(transport)
        """Indexed assets: an asset in an index (`/indexes/{index_id}/indexed-assets`)."""

    async def create(
        self,
        index_name: str,
        *,
        models: IndexModels,
        addons: Sequence[IndexAddon] | None = None,
    ) -> IndexRef:
        """Create an index; returns its `index_id`.

        ```python
        ref = await client.indexes.create("my-videos", models={"marengo3.0": ["visual", "audio"]})
        ```

        Bad arguments raise `InvalidInputError` before any request: an empty name, no
        model, a model without options, an option of a Marengo model other than `visual`
        and `audio`. Models cannot be changed later.

        Creating is not retried after a request that may have reached the server (a reset, a
        timeout): the index may exist, and a second try would fail with
        `index_name_already_exists`. A 429 or 5xx (nothing was created) is retried as usual.

        Args:
            index_name: the name, unique in the account (`BadRequestError` with code
                `index_name_already_exists` otherwise).
            models: `{"marengo3.0": ["visual", "audio"]}`, or a list of `IndexModel`.
            addons: add-ons such as `thumbnail` (Marengo only).
        """
        body: dict[str, object] = {
            "index_name": check.index_name(index_name),
            "models": check.models_body(models),
        }
        if addons is not None:
            body["addons"] = check.strings(addons, "addons")
        return await self._http.request("POST", "indexes", _ref, json_body=body, idempotent=False)

    async def retrieve(self, index_id: str) -> Index:
        """Get an index (`NotFoundError` if unknown)."""
        path = f"indexes/{path_id(index_id, 'index_id')}"
        return await self._http.request("GET", path, json_about(Index, "index_id", index_id))

    def list(
        self,
        *,
        index_name: str | None = None,
        model_options: IndexModelOption | Iterable[IndexModelOption] | None = None,
        model_family: ModelFamily | None = None,
        created_at: str | datetime | None = None,
        updated_at: str | datetime | None = None,
        sort_by: SortBy | None = None,
        sort_option: SortOption | None = None,
        page_limit: int = 50,
    ) -> IndexList:
        """List indexes (newest first by default), optionally filtered; iterate with `async for`.

        Every index on every page is yielded; no request is made past the last page.

        Args:
            index_name: only the index with this name.
            model_options: only indexes with these model options (`visual`, `audio`).
            model_family: only indexes of this family (`marengo` or `pegasus`).
            created_at: only indexes created on that day, at or after that time (a datetime,
                naive taken as UTC, or an RFC 3339 string).
            updated_at: the same for the last update.
            sort_by: `created_at` (the API's default) or `updated_at`.
            sort_option: `desc` (the API's default) or `asc`.
            page_limit: indexes per page, 1-50.
        """
        filters: list[tuple[str, str]] = []
        if index_name is not None:
            filters.append(("index_name", check.index_name(index_name)))
        options = check.strings(model_options, "model_options")
        for option in options:
            check.one_of(option, "model_options", check.MODEL_OPTIONS)
        if options:
            filters.append(("model_options", ",".join(options)))
        if model_family is not None:
            filters.append(
                ("model_family", check.one_of(model_family, "model_family", check.MODEL_FAMILIES))
            )
        filters += check.timestamp(created_at, "created_at")
        filters += check.timestamp(updated_at, "updated_at")
        filters += check.sorting(sort_by, sort_option)
        return paginate(self._http, "indexes", _page, page_limit=page_limit, filters=filters)

    async def update(self, index_id: str, *, index_name: str) -> None:
        """Rename an index (`BadRequestError` `index_name_already_exists` if taken)."""
        path = f"indexes/{path_id(index_id, 'index_id')}"
        body = {"index_name": check.index_name(index_name)}
        await self._http.request("PUT", path, no_body, json_body=body)

    async def delete(self, index_id: str) -> None:
        """Delete an index and every indexed asset in it. This cannot be undone.

        The assets themselves stay (`client.assets`).
        """
        path = f"indexes/{path_id(index_id, 'index_id')}"
        await self._http.request("DELETE", path, no_body)
