"""Our converter versus the official SDK's pydantic models, on the same analyze-task bodies.

Ours: `twelvelabs_async._convert.structure(data, AnalyzeTask)`. Official: the SDK's own wire
path, `parse_obj_as(AnalyzeTaskResponse, body)` (REFERENCE.md §7a). Before timing anything, both
results are checked field by field against the body and each other, and the SDK's models must
hold no `model_extra` leftovers, so both really structured every field.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import datetime
from enum import Enum
from importlib.metadata import version
from typing import Any

import attrs
from _fixtures import full_task, task_page
from _harness import Table, per_call_us

from twelvelabs_async._convert import structure
from twelvelabs_async.models import AnalyzeTask, TaskPage

try:
    import pydantic
    from twelvelabs.analyze_async.tasks.types.tasks_list_response import TasksListResponse
    from twelvelabs.core.pydantic_utilities import parse_obj_as
    from twelvelabs.core.serialization import convert_and_respect_annotation_metadata
    from twelvelabs.types.analyze_task_response import AnalyzeTaskResponse
except ModuleNotFoundError as exc:  # pragma: no cover - a hint, not a code path
    raise SystemExit(f"{exc}: the official SDK is installed only by `nox -s bench`") from None

# Wire name -> SDK attribute, where they differ (the SDK maps them in `parse_obj_as`).
_SDK_NAMES: dict[str, str] = {"prompt_v2": "prompt_v_2"}

COLUMNS = ["case", "ours (µs)", "official (µs)", "official/ours", "pydantic only (µs)"]


def check_same(body: Any, ours: Any, sdk: Any, path: str = "$") -> None:
    """Assert that both parsers kept every field of `body`, with equal values."""
    if isinstance(body, dict) and attrs.has(type(ours)):
        assert isinstance(sdk, pydantic.BaseModel), f"{path}: the SDK gave {type(sdk)}"
        assert not sdk.model_extra, f"{path}: the SDK left {sorted(sdk.model_extra)} unparsed"
        ours_fields = attrs.fields_dict(type(ours))
        for key, value in body.items():
            sdk_name = _SDK_NAMES.get(str(key), str(key))
            assert key in ours_fields, f"{path}.{key}: unknown to {type(ours).__name__}"
            assert sdk_name in type(sdk).model_fields, f"{path}.{key}: unknown to the SDK"
            check_same(value, getattr(ours, key), getattr(sdk, sdk_name), f"{path}.{key}")
    elif isinstance(body, list):
        assert len(body) == len(ours) == len(sdk), f"{path}: lengths differ"
        for index, (b, o, s) in enumerate(zip(body, ours, sdk, strict=True)):
            check_same(b, o, s, f"{path}[{index}]")
    elif isinstance(ours, datetime):
        assert ours.tzinfo is not None, f"{path}: naive datetime"
        assert sdk.tzinfo is not None, f"{path}: naive datetime from the SDK"
        assert ours == sdk == datetime.fromisoformat(body), f"{path}: {ours} != {sdk}"
    else:
        assert ours == body, f"{path}: {ours!r} != {body!r}"
        assert sdk == body, f"{path}: the SDK's {sdk!r} != {body!r}"
        same_type = isinstance(ours, Enum) or type(ours) is type(sdk)
        assert same_type, f"{path}: {type(ours).__name__} vs {type(sdk).__name__}"


def _bench_case(
    label: str, fixture: dict[str, Any], ours_cls: type[Any], sdk_cls: type[Any], quick: bool
) -> list[dict[str, Any]]:
    raw = json.dumps(fixture).encode()
    body = json.loads(raw)
    # The floor of the SDK's models: pydantic-core alone, TypeAdapter built once and wire
    # aliases mapped beforehand. Not a path the SDK takes; it shows where its time goes.
    adapter = pydantic.TypeAdapter(sdk_cls)
    mapped = convert_and_respect_annotation_metadata(
        object_=body, annotation=sdk_cls, direction="read"
    )
    mapped_raw = json.dumps(mapped).encode()
    for sdk_result in (parse_obj_as(sdk_cls, body), adapter.validate_python(mapped)):
        check_same(body, structure(body, ours_cls), sdk_result)

    variants: dict[str, tuple[Callable[[], object], ...]] = {
        "decoded dict": (
            lambda: structure(body, ours_cls),
            lambda: parse_obj_as(sdk_cls, body),
            lambda: adapter.validate_python(mapped),
        ),
        "json.loads(bytes) + parse": (
            lambda: structure(json.loads(raw), ours_cls),
            lambda: parse_obj_as(sdk_cls, json.loads(raw)),
            lambda: adapter.validate_python(json.loads(mapped_raw)),
        ),
    }
    rows = []
    for variant, (ours_fn, sdk_fn, floor_fn) in variants.items():
        ours_us = per_call_us(ours_fn, quick=quick)
        sdk_us = per_call_us(sdk_fn, quick=quick)
        rows.append(
            {
                "case": f"{label} ({len(raw) / 1024:.0f} KB), {variant}",
                "ours (µs)": ours_us,
                "official (µs)": sdk_us,
                "official/ours": sdk_us / ours_us,
                "pydantic only (µs)": per_call_us(floor_fn, quick=quick),
            }
        )
    return rows


def run(*, quick: bool) -> list[Table]:
    rows = [
        *_bench_case("task, every field", full_task(), AnalyzeTask, AnalyzeTaskResponse, quick),
        *_bench_case("list page, 50 tasks", task_page(50), TaskPage, TasksListResponse, quick),
    ]
    return [
        Table(
            title="Structuring analyze-task responses: twelvelabs_async vs the official SDK",
            columns=COLUMNS,
            rows=rows,
            notes=[
                "best per-call time of "
                + ("3 repeats of >= 0.05 s" if quick else "7 repeats of >= 0.2 s")
                + "; official/ours > 1 means ours is faster",
                "official = `parse_obj_as(Model, body)`, the SDK's wire path; both results "
                "checked field by field first (no SDK `model_extra` leftovers)",
                "pydantic only = a cached `TypeAdapter.validate_python` on a body whose wire "
                "aliases were mapped beforehand: the SDK's models without its per-call alias "
                "walk; not a path the SDK takes",
            ],
            meta={p: version(p) for p in ("twelvelabs", "pydantic", "cattrs", "attrs")},
        )
    ]
