"""Deterministic response bodies shaped like `GET /analyze/tasks[/{id}]` (REFERENCE.md §2.4, §2.5).

The full task sets every optional field at once, a superset the server would not send in one
response (for example `prompt` next to `prompt_v2`), so that both parsers structure everything.
"""

from __future__ import annotations

import json
from typing import Any

_CREATED = "2025-06-01T12:00:00.123456Z"
_COMPLETED = "2025-06-01T12:04:31.5+00:00"


def _segments_data(count: int = 24) -> str:
    """A realistic segmentation `result.data`: a JSON string of a few KB."""
    segments = [
        {
            "start_time": 15.0 * i,
            "end_time": 15.0 * i + 14.5,
            "metadata": {
                "summary": f"Scene {i}: the presenter walks through step {i} of the demo.",
                "mood": ["calm", "tense", "upbeat"][i % 3],
                "people": i % 4,
                "logo_visible": i % 2 == 0,
                "topics": ["product", "pricing", "roadmap"][: 1 + i % 3],
                "events": [{"start_time": 15.0 * i + 2, "end_time": 15.0 * i + 5, "label": "cut"}],
            },
        }
        for i in range(count)
    ]
    return json.dumps({"scene": segments, "chapter": segments[::6]})


def _field(name: str, kind: str, **extra: Any) -> dict[str, Any]:
    return {"name": name, "type": kind, "description": f"The {name} of the segment.", **extra}


_FIELDS = [
    _field("summary", "string"),
    _field("mood", "string", enum=["calm", "tense", "upbeat"]),
    _field("people", "integer"),
    _field("logo_visible", "boolean"),
    _field("first_seen", "timestamp", format="hh:mm:ss.fff"),
    _field("topics", "array", items={"type": "string"}),
    _field(
        "events",
        "time_array",
        items={"type": "object", "fields": [_field("label", "string", enum=["cut", "fade"])]},
    ),
]

_LOGO = {"name": "logo", "media_type": "image", "url": "https://cdn.example.com/logo.png"}


def full_task(index: int = 0, segments: int = 24) -> dict[str, Any]:
    """Every field of an `AnalyzeTaskResponse` (`segments` sizes `result.data`)."""
    return {
        "task_id": f"6830a1b2c3d4e5f6a7b8c9{index:03d}",
        "custom_id": f"job-{index}",
        "batch_id": "b_6830a1b2c3d4e5f6",
        "status": "ready",
        "created_at": _CREATED,
        "completed_at": _COMPLETED,
        "video_source": {
            "type": "url",
            "url": "https://cdn.example.com/videos/keynote.mp4",
            "asset_id": "asset_01",
            "video_id": "vid_01",
            "index_id": "idx_01",
            "system_metadata": {"duration": 3600.5},
        },
        "request_params": {
            "analysis_mode": "time_based_metadata",
            "prompt": "Split the keynote into scenes and chapters, and describe each one.",
            "prompt_v2": {"input_text": "Find <@logo> in each scene.", "media_sources": [_LOGO]},
            "image": [_LOGO],
            "response_format": {
                "type": "segment_definitions",
                "json_schema": {"type": "object", "properties": {"x": {"type": "string"}}},
                "segment_time_format": "seconds",
                "segment_definitions": [
                    {
                        "id": "scene",
                        "description": "A continuous shot or scene.",
                        "fields": _FIELDS,
                        "media_sources": [_LOGO],
                        "time_ranges": [{"start_time": 0, "end_time": 1800.0}],
                    },
                    {"id": "chapter", "description": "A chapter of the talk.", "fields": _FIELDS},
                ],
            },
            "temperature": 0.2,
            "max_tokens": 32768,
            "min_segment_duration": 2,
            "max_segment_duration": 60.0,
            "start_time": 0,
            "end_time": 3600.0,
        },
        "result": {
            "generation_id": "gen_6830a1b2",
            "data": _segments_data(segments),
            "finish_reason": "stop",
            "usage": {"output_tokens": 5120, "input_tokens": 81234},
        },
        "error": {"code": "incomplete_results", "message": "Some segments could not be recovered."},
        "webhooks": [
            {"url": "https://hooks.example.com/a", "delivered": True, "attempts": 1},
            {
                "url": "https://hooks.example.com/b",
                "delivered": False,
                "attempts": 3,
                "last_error": "HTTP 503",
            },
        ],
    }


def list_item(index: int) -> dict[str, Any]:
    """A task as the list returns it: prompts cut to 30 characters, no `json_schema`, only the
    first segment definition (§2.4), a shorter result; every fifth task is still processing."""
    task = full_task(index, segments=4)
    params = task["request_params"]
    params["prompt"] = params["prompt"][:30]
    params["prompt_v2"]["input_text"] = params["prompt_v2"]["input_text"][:30]
    del params["response_format"]["json_schema"]
    params["response_format"]["segment_definitions"] = params["response_format"][
        "segment_definitions"
    ][:1]
    if index % 5 == 0:
        task["status"] = "processing"
        for key in ("completed_at", "result", "error"):
            del task[key]
    return task


def task_page(size: int = 50) -> dict[str, Any]:
    """One full page of `GET /analyze/tasks` (`page_limit` is at most 50)."""
    return {
        "data": [list_item(i) for i in range(size)],
        "page_info": {"limit_per_page": size, "page": 1, "total_page": 4, "total_results": 187},
    }
