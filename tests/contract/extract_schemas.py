"""Copy the OpenAPI component schemas the simulator's responses are checked against.

Run from the repository root, with the API description beside the checkout:

    python tests/contract/extract_schemas.py ../shared/api/openapi-v1.3.json

It writes `tests/contract/openapi_schemas.json`: the schemas named in `ROOTS` and everything
they `$ref`, transitively, under `components.schemas` (so the `#/components/schemas/...`
references keep working), then applies `adjust()`. That file is committed, and so is the API
description it comes from, gzipped (`tests/contract/openapi-v1.3.json.gz`): a test checks in
every clone that the one is what this script makes of the other.

The OpenAPI export is older than the official SDK (twelvelabs 1.3.6). Where the two disagree,
the contract follows the SDK, and each adjustment below says so.
"""

from __future__ import annotations

import argparse
import copy
import json
from pathlib import Path
from typing import Any

ROOTS = (
    "AnalyzeTaskResponse",
    "analyzeAsync_tasks_list_Response_200",
    "CreateAnalyzeTaskResponse",
    "NonStreamAnalyzeResponse",
    "StreamAnalyzeResponse",
    # Error bodies: nested (create, retrieve, delete) and flat (list 400, /analyze 400).
    "ErrorResponse",
    "List-async-analysis-tasksRequestBadRequestError",
    "Generate-text-representationRequestBadRequestError",
    # Assets: the create answer, one asset, the list, and their flat error bodies.
    "Asset",
    "AssetDetail",
    "assets_list_Response_200",
    "Create-assetRequestBadRequestError",
    "List-assetsRequestBadRequestError",
    "Delete-assetRequestConflictError",
    # Embeddings v2: a task (create answer, retrieve), the list, its flat 400, text embeddings.
    "EmbeddingTaskResponse",
    "embed_v2_tasks_create_Response_202",
    "embed_v2_tasks_list_Response_200",
    "List-async-embedding-tasksRequestBadRequestError",
    "EmbeddingSuccessResponse",
    # Indexes and indexed assets: every answer with a body, and their flat error bodies.
    "indexes_create_Response_201",
    "indexes_list_Response_200",
    "Index",
    "Create-indexRequestBadRequestError",
    "Retrieve-indexRequestBadRequestError",
    "indexes_indexed_assets_create_Response_202",
    "indexes_indexed_assets_list_Response_200",
    "indexedAssetDetailed",
    "indexes_indexed_assets_list_by_asset_Response_200",
    "Create-indexed-assetRequestBadRequestError",
    "Create-indexed-assetRequestNotFoundError",
    "Retrieve-indexed-asset-informationRequestNotFoundError",
    "List-indexed-assetsRequestBadRequestError",
    # Multipart uploads: every answer, and the flat error bodies of each route.
    "CreateAssetUploadResponse",
    "GetUploadStatusResponse",
    "ReportChunkBatchResponse",
    "RequestAdditionalPresignedURLsResponse",
    "ListIncompleteUploadsResponse",
    "Create-multipart-uploadRequestBadRequestError",
    "Create-multipart-uploadRequestInternalServerError",
    "Get-upload-statusRequestBadRequestError",
    "Report-chunk-batchRequestBadRequestError",
    "Request-additional-presigned-urlsRequestBadRequestError",
    "List-incomplete-uploadsRequestBadRequestError",
)
OUTPUT = Path(__file__).with_name("openapi_schemas.json")
_PREFIX = "#/components/schemas/"
_TIME_FORMATS = ["seconds", "hh:mm:ss", "hh:mm:ss.fff"]


def referenced(schemas: dict[str, Any], roots: tuple[str, ...]) -> dict[str, Any]:
    """The root schemas and every schema they reference, transitively, in name order."""
    found: dict[str, Any] = {}
    pending = list(roots)
    while pending:
        name = pending.pop()
        if name in found:
            continue
        found[name] = schemas[name]
        pending.extend(_refs(schemas[name]))
    return dict(sorted(found.items()))


def _refs(node: Any) -> list[str]:
    if isinstance(node, dict):
        names = []
        for key, value in node.items():
            if key == "$ref" and isinstance(value, str) and value.startswith(_PREFIX):
                names.append(value.removeprefix(_PREFIX))
            else:
                names.extend(_refs(value))
        return names
    if isinstance(node, list):
        return [name for item in node for name in _refs(item)]
    return []


def adjust(schemas: dict[str, Any]) -> dict[str, Any]:
    """Bring the older OpenAPI schemas in line with the official SDK 1.3.6 (see each comment)."""
    s = copy.deepcopy(schemas)
    # SDK: AnalyzeTaskStatus has `canceled` (cancel endpoint); the OpenAPI enum stops at failed.
    s["AnalyzeTaskStatus"]["enum"].append("canceled")
    # SDK: AnalyzeTaskError has an optional `code` (e.g. user_canceled); OpenAPI: message only.
    s["AnalyzeTaskError"]["properties"]["code"] = {"type": "string"}
    # SDK: AnalyzeTaskResponse has `batch_id` for tasks created by a batch.
    s["AnalyzeTaskResponse"]["properties"]["batch_id"] = {"type": "string"}
    params = s["AnalyzeTaskResponseRequestParams"]["properties"]
    # SDK: request_params.max_tokens is an integer or the string "unlimited".
    params["max_tokens"] = {
        "anyOf": [{"type": "integer"}, {"const": "unlimited"}, {"type": "null"}]
    }
    # SDK: request_params.image echoes image inputs (AnalyzeTaskMediaSource: no base64).
    params["image"] = {"type": "array", "items": {"$ref": f"{_PREFIX}AnalyzeTaskMediaSource"}}
    s["AnalyzeTaskMediaSource"] = {
        "type": "object",
        "properties": {
            "name": {"type": "string"},
            "media_type": {"type": "string"},
            "url": {"type": "string"},
            "asset_id": {"type": "string"},
        },
        "required": ["name", "media_type"],
        "title": "AnalyzeTaskMediaSource (from the SDK)",
    }
    # SDK: response_format.segment_time_format is echoed when it was set.
    response_format = s["AnalyzeTaskResponseRequestParamsResponseFormat"]["properties"]
    response_format["segment_time_format"] = {"enum": _TIME_FORMATS}
    # SDK: a segment field has `format` (timestamp fields) ...
    field = s["AnalyzeTaskResponseRequestParamsResponseFormatSegmentDefinitionsItemsFieldsItems"]
    field["properties"]["format"] = {"enum": _TIME_FORMATS}
    # ... and its `items` may hold the event `fields` of a `time_array` field.
    items = s[
        "AnalyzeTaskResponseRequestParamsResponseFormatSegmentDefinitionsItemsFieldsItemsItems"
    ]
    items["properties"]["fields"] = {
        "type": "array",
        "items": {"$ref": f"{_PREFIX}AnalyzeTaskTimeArrayItemField"},
    }
    s["AnalyzeTaskTimeArrayItemField"] = {
        "type": "object",
        "properties": {
            "name": {"type": "string"},
            "type": {"type": "string"},
            "description": {"type": "string"},
            "enum": {"type": "array", "items": {"type": "string"}},
            "items": {"type": "object", "properties": {"type": {"type": "string"}}},
        },
        "required": ["name", "type"],
        "title": "AnalyzeTaskTimeArrayItemField (from the SDK)",
    }
    # SDK: the cancel endpoint (absent from the OpenAPI export) answers
    # CancelAnalyzeTaskResponse {task_id, status: "canceled"}.
    s["CancelAnalyzeTaskResponse"] = {
        "type": "object",
        "properties": {"task_id": {"type": "string"}, "status": {"const": "canceled"}},
        "required": ["task_id", "status"],
        "title": "CancelAnalyzeTaskResponse (from the SDK)",
    }
    # SDK: FlatErrorResponse (401 and the flat 400s) requires both code and message.
    for flat in (
        "List-async-analysis-tasksRequestBadRequestError",
        "Generate-text-representationRequestBadRequestError",
    ):
        s[flat]["required"] = ["code", "message"]
    _adjust_embeddings(s)
    # SDK: an indexed asset may be `validating` (first status); the OpenAPI enums lack it.
    for status in ("IndexedAssetStatus", "IndexedAssetDetailedStatus"):
        s[status]["enum"].append("validating")
    return dict(sorted(s.items()))


def _adjust_embeddings(s: dict[str, Any]) -> None:
    """Embeddings v2: the SDK 1.3.6 knows Marengo 3.5's fields, which the export predates."""
    integer, text = {"type": "integer"}, {"type": "string"}
    strings = {"type": "array", "items": text}
    numbers = {"type": "array", "items": {"type": "number"}}
    # SDK: a task's metadata is a union on input_type (audio, video, image, document), each
    # with `embedding_dimension`; the export has audio and video only, told apart by nothing.
    variants = s["EmbeddingTaskMediaMetadata"]["oneOf"]
    for variant, kind in zip(variants, ("audio", "video"), strict=True):
        variant["properties"]["input_type"] = {"const": kind}
        variant["properties"]["embedding_dimension"] = integer
    for kind in ("image", "document"):
        variants.append(
            {
                "type": "object",
                "properties": {
                    "input_type": {"const": kind},
                    "input_url": text,
                    "input_filename": text,
                    "embedding_options": strings,
                    "embedding_scopes": strings,
                    "embedding_dimension": integer,
                },
                "required": ["input_type"],
                "title": f"EmbeddingTaskMediaMetadata_{kind.title()} (from the SDK)",
            }
        )
    # SDK: 3.5 reports `usage` on tasks and on synchronous embeddings.
    s["EmbeddingUsage"] = {
        "type": "object",
        "properties": {
            "input_tokens": {"type": "object", "additionalProperties": integer},
            "truncated": {"type": "boolean"},
            "truncation_reason": text,
        },
        "required": ["input_tokens", "truncated"],
        "title": "EmbeddingUsage (from the SDK)",
    }
    usage = {"$ref": f"{_PREFIX}EmbeddingUsage"}
    s["EmbeddingTaskResponse"]["properties"]["usage"] = usage
    s["EmbeddingSuccessResponse"]["properties"]["usage"] = usage
    # SDK: the create answer carries `metadata.embedding_dimension` (3.5).
    s["embed_v2_tasks_create_Response_202"]["properties"]["metadata"] = {
        "type": "object",
        "properties": {"embedding_dimension": integer},
    }
    # SDK: a vector may carry its uncertainty, PDF pages, a quadrant, a text chunk's index;
    # options add `text`, scopes `page` and `chunk`.
    data = s["EmbeddingData"]["properties"]
    data["embedding_uncertainty"] = numbers
    for key in ("start_page_number", "end_page_number", "chunk_index"):
        data[key] = {"type": ["integer", "null"]}
    data["quadrant"] = {"enum": ["top_left", "top_right", "bottom_left", "bottom_right", None]}
    s["EmbeddingDataEmbeddingOption"]["enum"].append("text")
    s["EmbeddingDataEmbeddingScope"]["enum"] += ["page", "chunk"]
    # SDK: synchronous metadata is a union on input_type that adds multi_input (3.5).
    s["EmbeddingMediaMetadata"]["oneOf"].append(
        {
            "type": "object",
            "properties": {"input_type": {"const": "multi_input"}, "embedding_dimension": integer},
            "required": ["input_type"],
            "title": "EmbeddingMediaMetadata_MultiInput (from the SDK)",
        }
    )
    s["List-async-embedding-tasksRequestBadRequestError"]["required"] = ["code", "message"]
    # SDK: list items name their lists `<kind>_embedding_option` and `_scope` (singular), the
    # video's options too, and image and document tasks have their own metadata objects.
    audio = s["AudioEmbeddingMetadata"]["properties"]
    audio["audio_embedding_option"] = audio.pop("audio_embedding_options")
    audio["audio_embedding_scope"] = audio.pop("audio_embedding_scopes")
    s["VideoEmbeddingMetadata"]["properties"]["video_embedding_option"] = strings
    for kind in ("image", "document"):
        name = f"{kind.title()}EmbeddingMetadata"
        s[name] = {
            "type": "object",
            "properties": {
                "input_url": text,
                "input_filename": text,
                f"{kind}_embedding_option": strings,
                f"{kind}_embedding_scope": strings,
            },
            "title": f"{name} (from the SDK)",
        }
        s["MediaEmbeddingTask"]["properties"][f"{kind}_embedding"] = {
            "type": "object",
            "properties": {"metadata": {"$ref": f"{_PREFIX}{name}"}},
        }


def extract(openapi: dict[str, Any]) -> dict[str, Any]:
    """The document written to `openapi_schemas.json`."""
    schemas = adjust(referenced(openapi["components"]["schemas"], ROOTS))
    return {
        "$comment": (
            "Generated by tests/contract/extract_schemas.py from the TwelveLabs OpenAPI v1.3 "
            "export, adjusted to the official SDK 1.3.6 where they disagree. Do not edit."
        ),
        "components": {"schemas": schemas},
    }


def main() -> None:
    """Read the OpenAPI description and write the extracted schemas."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("openapi", type=Path, help="path to openapi-v1.3.json")
    args = parser.parse_args()
    document = extract(json.loads(args.openapi.read_text("utf-8")))
    OUTPUT.write_text(json.dumps(document, indent=1, ensure_ascii=False) + "\n", "utf-8")
    print(f"wrote {len(document['components']['schemas'])} schemas to {OUTPUT}")


if __name__ == "__main__":
    main()
