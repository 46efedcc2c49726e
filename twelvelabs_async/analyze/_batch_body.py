"""Builds and validates the JSON body of `POST /analyze/batches`.

Each item is checked as the single task it becomes: its effective request (the item's own
fields, else the batch defaults, object fields replaced whole; the batch's model and mode)
goes through `_body.validated` on the item's route, the same rules `tasks.create` applies,
with the item's names for its fields (a batch `prompt` is a single task's `prompt_v2`) and
`requests[i]` in front of each message. The body sent is the items and defaults as given; the
server does the merge. Pure: the simulator validates batch bodies with the same function.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from .._convert import unstructure
from .._validate import as_model, check_analysis_mode
from ..errors import InvalidInputError
from ..models import AnalysisMode, AssetVideo, BatchDefaults, BatchRequest
from ._body import validated
from ._request import (
    BATCH_DEFAULT_KEYS,
    BATCH_ITEM_KEYS,
    BATCH_ITEM_NAMES,
    PER_BATCH_KEYS,
    AnalysisRequest,
    batch_item,
)

MAX_REQUESTS = 1000
"""The most requests one batch takes."""


def _check_keys(value: object, allowed: frozenset[str], what: str) -> None:
    """A mapping given for a model may hold only that model's wire fields."""
    if not isinstance(value, Mapping):
        return
    per_batch = sorted(PER_BATCH_KEYS & set(value))
    if per_batch:
        raise InvalidInputError(
            f"{what}: {', '.join(per_batch)} apply to the whole batch and cannot be set here"
        )
    unknown = sorted(set(value) - allowed)
    if unknown:
        raise InvalidInputError(f"{what}: unknown field(s) {', '.join(unknown)}")


def _as_item(value: object, index: int) -> BatchRequest:
    what = f"requests[{index}]"
    _check_keys(value, BATCH_ITEM_KEYS, what)
    if isinstance(value, Mapping):
        video = value.get("video")
        if isinstance(video, Mapping) and video.get("type") != "asset_id":
            raise InvalidInputError(
                f"{what}.video: batches take only uploaded assets "
                f"({{'type': 'asset_id', 'asset_id': ...}}), got type {video.get('type')!r}"
            )
    item = as_model(value, BatchRequest, what)
    if not isinstance(item.video, AssetVideo):
        raise InvalidInputError(
            f"{what}.video: batches take only uploaded assets; pass AssetVideo(asset_id)"
        )
    return item


def effective_request(
    item: BatchRequest, defaults: BatchDefaults | None, *, model_name: str, analysis_mode: str
) -> AnalysisRequest:
    """The single task an item becomes: its own fields, else the default (whole objects)."""
    fields: dict[str, Any] = {}
    for field, name in BATCH_ITEM_NAMES.items():
        value = getattr(item, name)
        if value is None and defaults is not None and name in BATCH_DEFAULT_KEYS:
            value = getattr(defaults, name)
        fields[field] = value
    return AnalysisRequest(model_name=model_name, analysis_mode=analysis_mode, **fields)


def batch_body(
    *,
    requests: Iterable[BatchRequest | Mapping[str, Any]],
    analysis_mode: AnalysisMode | str,
    model_name: str,
    defaults: BatchDefaults | Mapping[str, Any] | None,
) -> dict[str, Any]:
    """Validate a batch as the API documents it and return the request body.

    Raises `InvalidInputError` naming the item at fault: 1-1,000 requests, `custom_id` valid
    and unique within the batch, every item's effective fields valid for `analysis_mode`.
    """
    if analysis_mode is None or not str(analysis_mode):
        raise InvalidInputError(
            "analysis_mode is required: 'general' or 'time_based_metadata' (one per batch)"
        )
    mode = check_analysis_mode(analysis_mode)
    if not isinstance(model_name, str) or not model_name:
        raise InvalidInputError("model_name must be a non-empty string, e.g. 'pegasus1.5'")
    if isinstance(requests, str | bytes | Mapping) or not isinstance(requests, Iterable):
        raise InvalidInputError("requests must be a sequence of BatchRequest")
    items = [_as_item(value, i) for i, value in enumerate(requests)]
    if not 1 <= len(items) <= MAX_REQUESTS:
        raise InvalidInputError(
            f"a batch takes 1-{MAX_REQUESTS:,} requests, got {len(items):,}; split larger jobs"
        )
    _check_keys(defaults, BATCH_DEFAULT_KEYS, "defaults")
    base = None if defaults is None else as_model(defaults, BatchDefaults, "defaults")
    seen: dict[str, int] = {}
    for i, item in enumerate(items):
        request = effective_request(item, base, model_name=model_name, analysis_mode=mode)
        validated(request, batch_item(i))
        if item.custom_id is not None:
            first = seen.setdefault(item.custom_id, i)
            if first != i:
                raise InvalidInputError(
                    f"requests[{i}].custom_id {item.custom_id!r} is already used by "
                    f"requests[{first}]; custom_id must be unique within a batch"
                )
    body: dict[str, Any] = {
        "model_name": model_name,
        "analysis_mode": mode,
        "requests": unstructure(items),
    }
    if base is not None:
        body["defaults"] = unstructure(base)
    return body
