"""Results that look real: free text, JSON that fits a schema, segments that follow definitions."""

from __future__ import annotations

import json
import math
import random
import uuid
from collections.abc import Mapping
from typing import Any

_TEXT = (
    "a person walks through a sunlit market, stops at a fruit stall and talks with the vendor; "
    "the camera follows a cyclist across a bridge while traffic moves below; two presenters "
    "discuss the product on a studio set, then a close-up shows the device being unboxed"
)
_WORDS = tuple(_TEXT.split(" "))


def free_text(prompt: str | None, rng: random.Random, words: int = 60) -> str:
    """A deterministic paragraph answering `prompt`."""
    start = rng.randrange(len(_WORDS))
    body = " ".join(_WORDS[(start + i) % len(_WORDS)] for i in range(words))
    topic = (prompt or "the video").strip().rstrip("?.")[:80]
    return f"Regarding {topic!r}: {body}."


def format_time(seconds: float, fmt: str | None) -> float | str:
    """Seconds as a number (`seconds`, the default) or `hh:mm:ss` / `hh:mm:ss.fff` text."""
    if fmt in (None, "seconds"):
        return round(seconds, 3)
    whole = int(seconds)
    text = f"{whole // 3600:02d}:{whole % 3600 // 60:02d}:{whole % 60:02d}"
    if fmt == "hh:mm:ss.fff":
        text += f".{round((seconds - whole) * 1000) % 1000:03d}"
    return text


def value_for_schema(
    schema: Any, rng: random.Random, defs: Mapping[str, Any], depth: int = 0
) -> Any:
    """A value that fits a JSON schema's types, enums and required properties."""
    if not isinstance(schema, Mapping) or depth > 8:
        return None
    if "$ref" in schema:
        name = str(schema["$ref"]).rsplit("/", 1)[-1]
        return value_for_schema(defs.get(name, {}), rng, defs, depth + 1)
    if "const" in schema:
        return schema["const"]
    if schema.get("enum"):
        return rng.choice(list(schema["enum"]))
    if schema.get("anyOf"):
        return value_for_schema(schema["anyOf"][0], rng, defs, depth + 1)
    kind = schema.get("type", "object")
    if isinstance(kind, list):
        kind = next((k for k in kind if k != "null"), "null")
    if kind == "object":
        props = schema.get("properties", {})
        names = list(schema.get("required", [])) or list(props)
        return {n: value_for_schema(props.get(n, {}), rng, defs, depth + 1) for n in names}
    if kind == "array":
        count = rng.randint(1, 3)
        return [
            value_for_schema(schema.get("items", {}), rng, defs, depth + 1) for _ in range(count)
        ]
    if kind == "timestamp":
        return format_time(rng.uniform(0, 300), schema.get("format"))
    return _scalar(kind, schema, rng)


def _number(kind: str, schema: Mapping[str, Any], rng: random.Random) -> int | float:
    """A number within the schema's `minimum`/`maximum` and `exclusiveMinimum`/`Maximum`."""
    gap = 1.0 if kind == "integer" else 0.001
    lows = [float(schema["minimum"])] if "minimum" in schema else []
    highs = [float(schema["maximum"])] if "maximum" in schema else []
    if "exclusiveMinimum" in schema:
        lows.append(float(schema["exclusiveMinimum"]) + gap)
    if "exclusiveMaximum" in schema:
        highs.append(float(schema["exclusiveMaximum"]) - gap)
    ceiling = min(highs, default=0.0)
    low = max(lows) if lows else (0.0 if ceiling >= 0 else ceiling - 100.0)
    high = min(highs) if highs else low + 100.0
    if kind == "integer":
        bottom = math.ceil(low)
        return rng.randint(bottom, max(bottom, math.floor(high)))
    return min(high, max(low, round(rng.uniform(low, high), 2)))


def _scalar(kind: str, schema: Mapping[str, Any], rng: random.Random) -> Any:
    if kind in ("integer", "number"):
        return _number(kind, schema, rng)
    if kind == "boolean":
        return rng.random() < 0.5
    if kind == "null":
        return None
    fmt = schema.get("format")
    if fmt == "date-time":
        return "2026-01-01T12:00:00Z"
    if fmt == "date":
        return "2026-01-01"
    if fmt == "time":
        return "12:00:00"
    if fmt == "uuid":
        return str(uuid.UUID(int=rng.getrandbits(128), version=4))
    return rng.choice(_WORDS)


def json_for_schema(schema: Mapping[str, Any], rng: random.Random) -> str:
    """JSON text that fits `schema` (its required properties, types and enums)."""
    return json.dumps(value_for_schema(schema, rng, schema.get("$defs", {})))


def _field_value(
    field: Mapping[str, Any], start: float, end: float, rng: random.Random, fmt: str | None
) -> Any:
    kind = field.get("type", "string")
    if field.get("enum"):
        return rng.choice(list(field["enum"]))
    if kind == "timestamp":
        return format_time(rng.uniform(start, end), field.get("format"))
    if kind == "array":
        items = field.get("items") or {}
        return [_scalar(items.get("type", "string"), {}, rng) for _ in range(rng.randint(1, 3))]
    if kind == "time_array":
        sub = (field.get("items") or {}).get("fields", [])
        events = []
        points = sorted(rng.uniform(start, end) for _ in range(2 * rng.randint(1, 3)))
        for a, b in zip(points[::2], points[1::2], strict=True):
            event: dict[str, Any] = {
                "start_time": format_time(a, fmt),
                "end_time": format_time(b, fmt),
            }
            event.update({f["name"]: _field_value(f, a, b, rng, fmt) for f in sub})
            events.append(event)
        return events
    return _scalar(kind, {}, rng)


def segments_json(
    response_format: Mapping[str, Any],
    duration: float,
    rng: random.Random,
    window: tuple[float, float] | None = None,
) -> str:
    """Segmentation output: for each definition id, segments inside the video with its fields."""
    fmt = response_format.get("segment_time_format")
    low, high = window or (0.0, duration)
    out: dict[str, list[dict[str, Any]]] = {}
    for definition in response_format.get("segment_definitions") or []:
        ranges = [(r["start_time"], r["end_time"]) for r in definition.get("time_ranges") or []]
        if not ranges:
            ranges = [(low, high)]
        segments = []
        for a, b in ranges:
            cuts = sorted(rng.uniform(a, b) for _ in range(2 * rng.randint(1, 3)))
            for start, end in zip(cuts[::2], cuts[1::2], strict=True):
                metadata = {
                    f["name"]: _field_value(f, start, end, rng, fmt)
                    for f in definition.get("fields") or []
                }
                segments.append(
                    {
                        "start_time": format_time(start, fmt),
                        "end_time": format_time(end, fmt),
                        "metadata": metadata,
                    }
                )
        out[str(definition.get("id"))] = segments
    return json.dumps(out)
