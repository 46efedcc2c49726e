"""`client.assets.track(...)` and `client.assets.wait(...)`: assets on the tracking engine.

The engine (`twelvelabs_async.tracking`) follows the ids; `AssetTrackingSource` tells it what
an asset is and how to fetch many at once (`_source.py`). The methods of `Assets` call the two
functions here.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

from .._http import HTTPTransport
from .._validate import path_id
from ..models import AssetDetail
from ..tracking import ObjectTracker, OnError, PollPolicy, StatusChange, first_of, wait_policy
from ._source import AssetTrackingSource


class AssetTracker(ObjectTracker[AssetDetail]):
    """Follows many assets and yields each one, complete, as soon as it is `ready` or `failed`.

    Create it with `client.assets.track(ids, ...)`; see that method for the options.

    ```python
    async with client.assets.track(asset_ids, timeout=600) as tracker:
        async for asset in tracker:          # each id once, in the order they finish
            print(asset.asset_id, asset.status)
    ```
    """


def track_assets(
    http: HTTPTransport,
    asset_ids: Iterable[str],
    *,
    timeout: float | None,
    on_error: OnError,
    max_in_flight: int,
    max_rate: float | None,
    poll_policy: PollPolicy | None,
    on_status: Callable[[StatusChange], object] | None,
    buffer: int,
    keep_open: bool,
) -> AssetTracker:
    """An `AssetTracker` of `asset_ids` (every id checked before any request)."""
    return AssetTracker(
        AssetTrackingSource(http),
        asset_ids,
        runtime=http,
        timeout=timeout,
        on_error=on_error,
        strategy="per_task",  # assets cannot be listed by status: polls only
        max_in_flight=max_in_flight,
        max_rate=max_rate,
        poll_policy=poll_policy or PollPolicy(),
        on_exit="leave",  # the API cannot cancel an asset
        cancel_timeout=10.0,
        yield_list_items=False,
        on_status=on_status,
        buffer=buffer,
        keep_open=keep_open,
    )


async def wait_for_asset(
    http: HTTPTransport,
    asset_id: str,
    *,
    timeout: float | None,
    poll_interval: float,
    max_poll_interval: float,
) -> AssetDetail:
    """Poll one asset until it is terminal, on the engine, and return it."""
    path_id(asset_id, "asset_id")
    policy = wait_policy(poll_interval, max_poll_interval)
    tracker = track_assets(
        http,
        [asset_id],
        timeout=timeout,
        on_error="raise",
        max_in_flight=1,
        max_rate=None,
        poll_policy=policy,
        on_status=None,
        buffer=1,
        keep_open=False,
    )
    return await first_of(tracker)
