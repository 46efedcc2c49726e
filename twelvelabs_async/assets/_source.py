"""Assets as the tracking engine sees them: a `Source` that fetches many by id at once.

`fetch` is `GET /assets/{id}`; `fetch_many` (the engine's `ByIds`) is one page of the
id-filtered list, `GET /assets?page=1&page_limit=50&asset_ids=a&asset_ids=b...`: up to 50 ids
a request, so following 5,000 assets costs about 100 requests a round, not 5,000. The API
documents no status lists to sweep, no webhook and no cancel for assets (REFERENCE §8.1, §8.6,
§8.7): `lists` is None, and `cancel` refuses.
"""

from __future__ import annotations

from collections.abc import Sequence

from .._http import HTTPTransport
from .._validate import path_id
from .._wire import ListedItem, json_about, listed_as, page_params
from ..errors import InvalidInputError
from ..models import ASSET_TERMINAL_STATUSES, AssetDetail

MAX_IDS = 50
"""Ids per `GET /assets?asset_ids=...` request: the list's largest page (REFERENCE §8.1).

Ids are at most 128 URL-safe characters (`path_id`); the API's are 24 hex digits, so a full
request's query is about 1.8 KB."""

_listed = listed_as(AssetDetail, "_id")


async def retrieve_asset(
    http: HTTPTransport, asset_id: str, *, retries: int | None = None
) -> AssetDetail:
    """`GET /assets/{asset_id}`; a reply about another asset is a `DecodeError`."""
    path = f"assets/{path_id(asset_id, 'asset_id')}"
    return await http.request(
        "GET", path, json_about(AssetDetail, "asset_id", asset_id), retries=retries
    )


class AssetTrackingSource:
    """Assets as the tracking engine sees them (a `tracking` `Source` and `ByIds`)."""

    noun = "asset"
    terminal = ASSET_TERMINAL_STATUSES
    lists = None
    """The API cannot list assets by status: no sweeps."""
    max_ids = MAX_IDS

    def __init__(self, http: HTTPTransport) -> None:
        self._http = http

    def check_id(self, object_id: object) -> None:
        """Refuse anything but 1-128 characters of `A-Z a-z 0-9 _ -` (see `path_id`)."""
        path_id(object_id, "asset_id")

    def id_of(self, item: AssetDetail) -> str:
        """The asset's id."""
        return item.asset_id

    def status_of(self, item: AssetDetail) -> str:
        """The asset's status as a plain string (`unknown` if the API left it out)."""
        return "unknown" if item.status is None else str(item.status)

    def created_of(self, item: AssetDetail) -> float | None:
        """`created_at` in epoch seconds."""
        return item.created_at.timestamp() if item.created_at is not None else None

    def ended_of(self, item: AssetDetail) -> float | None:
        """None: an asset does not say when it became `ready` or `failed`."""
        return None

    async def fetch(self, object_id: str) -> AssetDetail:
        """`GET /assets/{id}`, one attempt."""
        return await retrieve_asset(self._http, object_id, retries=0)

    async def fetch_many(self, ids: Sequence[str]) -> Sequence[ListedItem[AssetDetail]]:
        """`GET /assets?asset_ids=...` for up to `MAX_IDS` ids, one attempt.

        The assets that exist, in the API's order (an unknown id is missing from the reply),
        decoded lazily: each item's id, status and creation time are read, the rest by its
        `full()`, for the assets the tracker delivers.
        """
        if not 1 <= len(ids) <= MAX_IDS:
            raise InvalidInputError(f"fetch_many takes 1 to {MAX_IDS} ids, got {len(ids)}")
        filters = [("asset_ids", path_id(object_id, "asset_id")) for object_id in ids]
        params = page_params(1, MAX_IDS, filters)
        page = await self._http.request("GET", "assets", _listed, params=params, retries=0)
        return page.data

    async def cancel(self, object_id: str) -> None:
        """Refused: the API has no way to cancel an asset's processing."""
        raise InvalidInputError(
            f"asset {object_id} cannot be canceled: the API has no cancel for assets "
            "(delete it with client.assets.delete instead)"
        )
