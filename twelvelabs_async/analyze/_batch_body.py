"""Builds and validates the JSON body of `POST /analyze/batches`.

Each item is checked as the single task it becomes: its *effective* fields (the item's own,
else the batch defaults, object fields replaced whole) go through `_body.validated`, the same
rules `tasks.create` applies. The body sent is the items and defaults as given; the server does
the merge. Pure: the simulator validates batch bodies with the same function.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

import attrs

from .._convert import unstructure
from .._validate import as_model, check_custom_id
from ..errors import InvalidInputError
from ..models import AnalysisMode, AssetVideo, BatchDefaults, BatchRequest
from ._body import validated
from ._request import TASK, AnalysisRequest

MAX_REQUESTS = 1000
"""The most requests one batch takes."""

_PER_BATCH = frozenset({"model_name", "analysis_mode"})
_ITEM_FIELDS = frozenset(a.name for a in attrs.fields(BatchRequest))
_DEFAULT_FIELDS = frozenset(a.name for a in attrs.fields(BatchDefaults))
_INHERITED = tuple(a.name for a in attrs.fields(BatchDefaults))
_RENAMES = (
    ("prompt or prompt_v2", "prompt"),
    ("prompt (or prompt_v2)", "prompt"),
    ("prompt_v2", "prompt"),
)
"""Single-task wording in the validation's messages, as a batch item calls it."""


def _check_keys(value: object, allowed: frozenset[str], what: str) -> None:
    """A mapping given for a model may hold only that model's wire fields."""
    if not isinstance(value, Mapping):
        return
    per_batch = sorted(_PER_BATCH & set(value))
    if per_batch:
        raise InvalidInputError(
            f"{what}: {', '.join(per_batch)} apply to the whole batch and cannot be set here"
        )
    unknown = sorted(set(value) - allowed)
    if unknown:
        raise InvalidInputError(f"{what}: unknown field(s) {', '.join(unknown)}")


def _as_item(value: object, index: int) -> BatchRequest:
    what = f"requests[{index}]"
    _check_keys(value, _ITEM_FIELDS, what)
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


def effective_fields(item: BatchRequest, defaults: BatchDefaults | None) -> dict[str, Any]:
    """The fields the item's task is created with: its own, else the default (whole objects)."""
    fields: dict[str, Any] = {}
    for name in _INHERITED:
        own = getattr(item, name)
        fields[name] = own if own is not None or defaults is None else getattr(defaults, name)
    return fields


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
    if not isinstance(model_name, str) or not model_name:
        raise InvalidInputError("model_name must be a non-empty string, e.g. 'pegasus1.5'")
    if isinstance(requests, str | bytes | Mapping) or not isinstance(requests, Iterable):
        raise InvalidInputError("requests must be a sequence of BatchRequest")
    items = [_as_item(value, i) for i, value in enumerate(requests)]
    if not 1 <= len(items) <= MAX_REQUESTS:
        raise InvalidInputError(
            f"a batch takes 1-{MAX_REQUESTS:,} requests, got {len(items):,}; split larger jobs"
        )
    _check_keys(defaults, _DEFAULT_FIELDS, "defaults")
    base = None if defaults is None else as_model(defaults, BatchDefaults, "defaults")
    mode = str(analysis_mode)
    seen: dict[str, int] = {}
    for i, item in enumerate(items):
        _check_item(item, i, base, mode, model_name)
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


def _check_item(
    item: BatchRequest, index: int, defaults: BatchDefaults | None, mode: str, model: str
) -> None:
    fields = effective_fields(item, defaults)
    try:
        if item.custom_id is not None:
            check_custom_id(item.custom_id)
        max_tokens = fields["max_tokens"]
        if max_tokens is not None and (
            isinstance(max_tokens, bool) or not isinstance(max_tokens, int)
        ):
            raise InvalidInputError(f"max_tokens must be an integer, got {max_tokens!r}")
        # A batch `prompt` is the object single tasks call `prompt_v2`.
        request = AnalysisRequest(
            model_name=model,
            video=item.video,
            prompt_v2=fields["prompt"],
            analysis_mode=mode,
            response_format=fields["response_format"],
            temperature=fields["temperature"],
            max_tokens=max_tokens,
            min_segment_duration=fields["min_segment_duration"],
            max_segment_duration=fields["max_segment_duration"],
            start_time=fields["start_time"],
            end_time=fields["end_time"],
        )
        validated(request, TASK)
    except InvalidInputError as exc:
        message = str(exc)
        for single, batch in _RENAMES:
            message = message.replace(single, batch)
        raise type(exc)(f"requests[{index}]: {message}") from None  # the same kind of error
