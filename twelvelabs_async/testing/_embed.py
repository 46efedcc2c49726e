"""The simulator's embeddings v2: `/embed-v2/tasks` (async) and `/embed-v2` (text, sync).

A task is `processing` for a duration drawn from the configured `duration` range, then `ready`
or (at the configured `failure_rate`, seeded) `failed` with `error.message`; `data` is null
until ready. A ready task holds deterministic vectors of the requested dimension (512 unless
`embedding_dimension` says otherwise), one per clip and option plus one per option for the
`asset` scope (video and audio: clips from the segmentation over a duration drawn from
`video_duration`), one for an image, pages or chunks for a document. Its body is rendered
once per status and kept, and each vector is a slice of one shared table of preformatted
numbers, so that serving 1,000 vectors of 1,024 numbers stays cheap.

Errors: create, retrieve (404, also once a task is older than the 7 days the API keeps it) and
the text route answer the nested body `{error: {code, message}}`; the list answers 400 with the
flat body. The list shows the v1-style `MediaEmbeddingTask` items (no vectors), newest first,
filtered by one `status` and `started_at`/`ended_at`, and by default only the last 7 days.

Route names (per-route faults, statistics): `embed_create`, `embed_list`, `embed_retrieve`,
`embed_text`.
"""

from __future__ import annotations

import json
import math
import random
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import attrs
from aiohttp import web

from .._convert import parse_datetime
from ._replies import flat_error, json_reply, nested_error, page_info, page_params

if TYPE_CHECKING:
    from .._clock import WallClock
    from ._config import SimulatorConfig

EMBED_ROUTES = ("embed_create", "embed_list", "embed_retrieve", "embed_text")
"""Route names of the embedding endpoints, for per-route faults and in request statistics."""
KEEP_SECONDS = 7 * 24 * 3600
"""How long the API keeps a task (and the list's default window)."""
_TABLE_SIZE = 4096
_TABLE_RNG = random.Random(20_251_201)
_NUMBERS = [repr(round(_TABLE_RNG.uniform(-0.08, 0.08), 6)) for _ in range(_TABLE_SIZE)]
_TABLE = _NUMBERS + _NUMBERS  # a vector is a window of it: no wrap-around to handle
_MODELS = ("marengo3.0", "marengo3.5")
_INPUTS = ("video", "audio", "image", "document")
_STATUSES = ("processing", "ready", "failed")
_FAILURE = "The media could not be processed: it is corrupt or not a supported format."


class Refused(Exception):
    """A body the API answers 400 (`parameter_invalid`) with this message."""


def vector_json(seed: int, index: int, dimension: int) -> str:
    """Vector `index` of the task seeded `seed`, as a JSON array (the same every time)."""
    start = (seed * 7919 + index * 104_729) % _TABLE_SIZE
    if dimension <= _TABLE_SIZE:
        return "[" + ",".join(_TABLE[start : start + dimension]) + "]"
    return "[" + ",".join(_TABLE[(start + i) % _TABLE_SIZE] for i in range(dimension)) + "]"


def _when(epoch: float) -> str:
    return datetime.fromtimestamp(epoch, UTC).isoformat().replace("+00:00", "Z")


def _pick(body: Mapping[str, Any], key: str, allowed: tuple[str, ...]) -> list[str] | None:
    value = body.get(key)
    if value is None:
        return None
    if not isinstance(value, list) or not value or any(v not in allowed for v in value):
        raise Refused(f"{key} takes a non-empty list of {', '.join(allowed)}.")
    return value


def _media_source(value: Any) -> Mapping[str, Any]:
    if not isinstance(value, Mapping):
        raise Refused("media_source is required.")
    given = [k for k in ("url", "asset_id", "base64_string") if value.get(k) is not None]
    if len(given) != 1:
        raise Refused("media_source takes exactly one of url, asset_id, base64_string.")
    return value


def _segment_length(segmentation: Any, model: str, kind: str) -> float:
    """The clip length the segmentation asks for, refusing the other model's shape."""
    if segmentation is None:
        if kind == "audio" and model == "marengo3.0":
            return 6.0
        return 2.0 * 1.5 if model == "marengo3.5" else 4.0 * 1.5
    if not isinstance(segmentation, Mapping):
        raise Refused("segmentation must be an object.")
    if model == "marengo3.5":
        if set(segmentation) != {"temporal"}:
            raise Refused("segmentation on marengo3.5 takes {temporal: {strategy, ...}}.")
        inner = segmentation["temporal"]
    else:
        if "temporal" in segmentation:
            raise Refused("segmentation on marengo3.0 takes {strategy, ...}, without temporal.")
        inner = segmentation
    if not isinstance(inner, Mapping):
        raise Refused("segmentation.temporal must be an object.")
    strategy = inner.get("strategy")
    if strategy == "dynamic" and not (kind == "audio" and model == "marengo3.0"):
        seconds = (inner.get("dynamic") or {}).get("min_duration_sec")
        factor = 1.5
    elif strategy == "fixed":
        seconds = (inner.get("fixed") or {}).get("duration_sec")
        factor = 1.0
    else:
        raise Refused(f"segmentation strategy {strategy!r} is not supported for {kind}.")
    if isinstance(seconds, bool) or not isinstance(seconds, int) or seconds < 1:
        raise Refused("segmentation durations must be positive integers.")
    return seconds * factor


@attrs.define(eq=False)
class SimEmbedTask:
    """One embedding task: what it embeds, its timeline and how it ends."""

    task_id: str
    seed: int
    model: str
    kind: str
    created: float
    finish_at: float
    outcome: str
    dimension: int
    segments: list[dict[str, Any]]
    options: list[str]
    scopes: list[str]
    duration: float | None
    source: Mapping[str, Any]
    uncertainty: bool
    _rendered: dict[str, bytes] = attrs.field(factory=dict)

    def status_at(self, now: float) -> str:
        """`processing` until `finish_at`, then the outcome."""
        return self.outcome if now >= self.finish_at else "processing"

    def metadata(self) -> dict[str, Any]:
        """The task's `metadata`, by input type."""
        meta: dict[str, Any] = {"input_type": self.kind}
        if "url" in self.source:
            meta["input_url"] = self.source["url"]
            meta["input_filename"] = str(self.source["url"]).rsplit("/", 1)[-1]
        meta["embedding_options"] = self.options
        meta["embedding_scopes"] = self.scopes
        if self.duration is not None:
            meta["duration"] = self.duration
        if self.model == "marengo3.5":
            meta["embedding_dimension"] = self.dimension
        return meta

    def render(self, now: float) -> bytes:
        """`GET /embed-v2/tasks/{id}` at `now`, rendered once per status."""
        status = self.status_at(now)
        cached = self._rendered.get(status)
        if cached is not None:
            return cached
        head: dict[str, Any] = {
            "_id": self.task_id,
            "status": status,
            "created_at": _when(self.created),
            "updated_at": _when(self.finish_at if status != "processing" else self.created),
            "metadata": self.metadata(),
        }
        if status == "failed":
            head["error"] = {"message": _FAILURE}
        if status == "ready" and self.model == "marengo3.5":
            tokens = max(1, int((self.duration or 1) * 10))
            head["usage"] = {"input_tokens": {self.kind: tokens}, "truncated": False}
        if status != "ready":
            body = json.dumps({**head, "data": None}).encode()
        else:
            rows = []
            for index, segment in enumerate(self.segments):
                vector = vector_json(self.seed, index, self.dimension)
                extra = ""
                if self.uncertainty:
                    extra = ',"embedding_uncertainty":' + vector_json(
                        self.seed + 1, index, self.dimension
                    )
                rows.append('{"embedding":' + vector + extra + "," + json.dumps(segment)[1:])
            data = ("[" + ",".join(rows) + "]").encode()
            body = json.dumps(head).encode()[:-1] + b',"data":' + data + b"}"
        self._rendered[status] = body
        return body

    def list_item(self, now: float) -> dict[str, Any]:
        """The task as the list shows it (`MediaEmbeddingTask`, no vectors)."""
        meta: dict[str, Any] = {}
        if "url" in self.source:
            meta["input_url"] = self.source["url"]
        meta[f"{self.kind}_embedding_option"] = self.options
        meta[f"{self.kind}_embedding_scope"] = self.scopes
        if self.duration is not None:
            meta["duration"] = self.duration
        status = self.status_at(now)
        return {
            "_id": self.task_id,
            "model_name": self.model,
            "status": status,
            "created_at": _when(self.created),
            "updated_at": _when(self.finish_at if status != "processing" else self.created),
            f"{self.kind}_embedding": {"metadata": meta},
        }


def _segments(
    kind: str, body: Mapping[str, Any], model: str, rng: random.Random, cfg: SimulatorConfig
) -> tuple[list[dict[str, Any]], list[str], list[str], float | None]:
    """The segments a ready task holds, and the options and scopes it used."""
    spec = body[kind]
    if kind == "image":
        return (
            [{"embedding_option": "visual", "embedding_scope": "asset"}],
            ["visual"],
            ["asset"],
            None,
        )
    if kind == "document":
        options = spec.get("embedding_option") or ["text"]
        scopes = spec.get("embedding_scope") or ["local", "asset"]
        pages = rng.randint(1, 8)
        segments: list[dict[str, Any]] = []
        for option in options:
            if "local" in scopes:
                for page in range(1, pages + 1):
                    segments.append(
                        {
                            "embedding_option": option,
                            "embedding_scope": "page",
                            "start_page_number": page,
                            "end_page_number": page,
                        }
                    )
            if "asset" in scopes:
                segments.append({"embedding_option": option, "embedding_scope": "asset"})
        return segments, options, scopes, None
    default = {"video": ["visual", "audio"], "audio": ["audio"]}[kind]
    if model == "marengo3.0":
        default = [*default, "transcription"]
    options = spec.get("embedding_option") or default
    scopes = spec.get("embedding_scope") or ["clip", "asset"]
    start = float(spec.get("start_sec") or 0.0)
    end = spec.get("end_sec")
    total = float(end) - start if end is not None else round(rng.uniform(*cfg.video_duration), 2)
    length = _segment_length(spec.get("segmentation"), model, kind)
    fused = "fused_embedding" in (spec.get("embedding_type") or [])
    separate = "separate_embedding" in (spec.get("embedding_type") or ["separate_embedding"])
    per_clip = ([*options] if separate else []) + (["fused"] if fused else [])
    segments = []
    if "clip" in scopes or "local" in scopes:
        clips = max(1, math.ceil(total / length))
        for clip in range(clips):
            lo, hi = start + clip * length, min(start + total, start + (clip + 1) * length)
            for option in per_clip:
                segments.append(
                    {
                        "embedding_option": option,
                        "embedding_scope": "clip",
                        "start_sec": round(lo, 3),
                        "end_sec": round(hi, 3),
                    }
                )
    if "asset" in scopes:
        for option in per_clip:
            segments.append(
                {
                    "embedding_option": option,
                    "embedding_scope": "asset",
                    "start_sec": start,
                    "end_sec": round(start + total, 3),
                }
            )
    return segments, options, scopes, total


def check_task_body(body: Any) -> tuple[str, str, int]:
    """The input type, model and dimension of a body the API takes, else `Refused`."""
    if not isinstance(body, Mapping):
        raise Refused("The request body must be a JSON object.")
    model, kind = body.get("model_name"), body.get("input_type")
    if model not in _MODELS:
        raise Refused("model_name must be marengo3.0 or marengo3.5.")
    if kind not in _INPUTS:
        raise Refused("input_type must be video, audio, image or document.")
    unknown = set(body) - {
        "input_type",
        "model_name",
        "embedding_dimension",
        "embedding_uncertainty",
        *_INPUTS,
    }
    if unknown:
        raise Refused(f"Unknown parameter(s): {', '.join(sorted(unknown))}.")
    if [k for k in _INPUTS if k in body] != [kind]:
        raise Refused(f"input_type {kind} takes exactly the {kind} object.")
    dimension = body.get("embedding_dimension", 512)
    if model == "marengo3.0" and ("embedding_dimension" in body or "embedding_uncertainty" in body):
        raise Refused("embedding_dimension and embedding_uncertainty need marengo3.5.")
    if isinstance(dimension, bool) or not isinstance(dimension, int) or dimension < 1:
        raise Refused("embedding_dimension must be a positive integer.")
    if kind in ("image", "document") and model != "marengo3.5":
        raise Refused(f"{kind} input needs marengo3.5.")
    spec = body[kind]
    if not isinstance(spec, Mapping):
        raise Refused(f"{kind} must be an object.")
    _media_source(spec.get("media_source"))
    if kind in ("video", "audio"):
        allowed = (
            ("visual", "audio", "transcription") if kind == "video" else ("audio", "transcription")
        )
        options = _pick(spec, "embedding_option", allowed)
        scopes = _pick(spec, "embedding_scope", ("clip", "local", "asset"))
        types = _pick(spec, "embedding_type", ("separate_embedding", "fused_embedding"))
        if options and "transcription" in options and model == "marengo3.5":
            raise Refused("transcription is available only on marengo3.0.")
        if body.get("embedding_uncertainty") and (scopes is None or "asset" in scopes):
            raise Refused("embedding_uncertainty needs embedding_scope without asset.")
        count = len(options) if options else (3 if model == "marengo3.0" else 2)
        if kind == "audio" and not options:
            count -= 1
        if types is not None and count < 2:
            raise Refused("embedding_type needs at least two embedding options.")
        fused = types is not None and "fused_embedding" in types
        if fused and model == "marengo3.5" and not spec.get("time_based_metadata"):
            raise Refused("fused_embedding on marengo3.5 needs time_based_metadata.")
        _segment_length(spec.get("segmentation"), model, kind)
    elif kind == "image":
        for key, only in (
            ("embedding_option", "visual"),
            ("embedding_type", "separate_embedding"),
            ("embedding_scope", "asset"),
        ):
            if key in spec and spec[key] != [only]:
                raise Refused(f"image.{key} takes only [{only}].")
    else:
        _pick(spec, "embedding_option", ("visual", "text"))
        _pick(spec, "embedding_scope", ("local", "asset"))
        _pick(spec, "embedding_type", ("separate_embedding",))
    return str(kind), str(model), dimension


class EmbedRoutes:
    """The `/embed-v2` endpoints, over the simulator's clock and settings."""

    def __init__(self, config: SimulatorConfig, clock: WallClock) -> None:
        self.config = config
        self.clock = clock
        self._rng = random.Random(config.seed + 5)
        self._tasks: dict[str, SimEmbedTask] = {}

    def add_routes(self, app: web.Application) -> None:
        """Register every embedding route under `/v1.3`."""
        add = app.router.add_route
        add("POST", "/v1.3/embed-v2/tasks", self.create, name="embed_create")
        add("GET", "/v1.3/embed-v2/tasks", self.list, name="embed_list")
        add("GET", "/v1.3/embed-v2/tasks/{task_id}", self.retrieve, name="embed_retrieve")
        add("POST", "/v1.3/embed-v2", self.text, name="embed_text")

    def get(self, task_id: str) -> SimEmbedTask | None:
        """The task, or None when there is none with this id."""
        return self._tasks.get(task_id)

    def new_task(self, body: Mapping[str, Any], now: float | None = None) -> SimEmbedTask:
        """A task for a body the API takes (`Refused` otherwise), stored."""
        kind, model, dimension = check_task_body(body)
        rng, cfg = self._rng, self.config
        now = self.clock.time() if now is None else now
        segments, options, scopes, duration = _segments(kind, body, model, rng, cfg)
        task = SimEmbedTask(
            task_id=f"{rng.getrandbits(96):024x}",
            seed=rng.getrandbits(31),
            model=model,
            kind=kind,
            created=now,
            finish_at=now + rng.uniform(*cfg.duration),
            outcome="failed" if rng.random() < cfg.failure_rate else "ready",
            dimension=dimension,
            segments=segments,
            options=list(options),
            scopes=list(scopes),
            duration=duration,
            source=body[kind]["media_source"],
            uncertainty=bool(body.get("embedding_uncertainty")),
        )
        self._tasks[task.task_id] = task
        return task

    async def create(self, request: web.Request) -> web.StreamResponse:
        """`POST /embed-v2/tasks`: check the body, answer 202 `processing` with `data: null`."""
        try:
            task = self.new_task(await request.json())
        except (ValueError, Refused) as exc:
            return nested_error(400, "parameter_invalid", str(exc))
        reply: dict[str, Any] = {"_id": task.task_id, "status": "processing", "data": None}
        if task.model == "marengo3.5":
            reply["metadata"] = {"embedding_dimension": task.dimension}
        return json_reply(202, reply)

    async def retrieve(self, request: web.Request) -> web.StreamResponse:
        """`GET /embed-v2/tasks/{task_id}`: the task now; 404 (nested) once expired."""
        task_id = request.match_info["task_id"]
        task = self._tasks.get(task_id)
        now = self.clock.time()
        if task is None or now - task.created > KEEP_SECONDS:
            return nested_error(
                404, "resource_not_exist", f"Resource with id {task_id} does not exist."
            )
        return web.Response(status=200, body=task.render(now), content_type="application/json")

    async def list(self, request: web.Request) -> web.StreamResponse:
        """`GET /embed-v2/tasks`: newest first, one status, a date window (7 days by default)."""
        now = self.clock.time()
        try:
            page, limit = page_params(request)
            status = request.query.get("status")
            if status is not None and status not in _STATUSES:
                raise ValueError("status must be one of processing, ready, failed.")
            low, high = now - KEEP_SECONDS, math.inf
            if "started_at" in request.query or "ended_at" in request.query:
                low = _epoch(request.query.get("started_at"), -math.inf)
                high = _epoch(request.query.get("ended_at"), math.inf)
        except ValueError as exc:
            return flat_error(400, "parameter_invalid", str(exc))
        matching = [
            task
            for task in reversed(self._tasks.values())
            if low <= task.created <= high and (status is None or task.status_at(now) == status)
        ]
        rows = [t.list_item(now) for t in matching[(page - 1) * limit : page * limit]]
        info = page_info(page, limit, len(matching))
        return json_reply(200, {"data": rows, "page_info": attrs.asdict(info)})

    async def text(self, request: web.Request) -> web.StreamResponse:
        """`POST /embed-v2`: a text embedding now (3.0 `text`, 3.5 `multi_input`)."""
        try:
            body = await request.json()
            text, model, dimension = _text_body(body)
        except (ValueError, Refused) as exc:
            return nested_error(400, "parameter_invalid", str(exc))
        seed = sum(text.encode()) % 100_000
        row = '{"embedding":' + vector_json(seed, 0, dimension)
        if body.get("embedding_uncertainty"):
            row += ',"embedding_uncertainty":' + vector_json(seed + 1, 0, dimension)
        row += ',"embedding_option":null,"embedding_scope":null}'
        tail: dict[str, Any] = {}
        if model == "marengo3.5":
            tokens = max(1, len(text.split()))
            tail = {
                "usage": {"input_tokens": {"text": tokens}, "truncated": False},
                "metadata": {"input_type": "multi_input", "embedding_dimension": dimension},
            }
        payload = b'{"data":[' + row.encode() + b"]," + json.dumps(tail).encode()[1:]
        if not tail:
            payload = b'{"data":[' + row.encode() + b"]}"
        return web.Response(status=200, body=payload, content_type="application/json")


def _text_body(body: Any) -> tuple[str, str, int]:
    if not isinstance(body, Mapping):
        raise Refused("The request body must be a JSON object.")
    model, kind = body.get("model_name"), body.get("input_type")
    if model not in _MODELS:
        raise Refused("model_name must be marengo3.0 or marengo3.5.")
    if model == "marengo3.5":
        if kind != "multi_input":
            raise Refused("marengo3.5 takes only input_type multi_input.")
        spec = body.get("multi_input")
    else:
        if kind != "text":
            raise Refused("this simulator embeds text only: input_type text on marengo3.0.")
        if any(
            k in body for k in ("embedding_dimension", "embedding_uncertainty", "auto_truncate")
        ):
            raise Refused("embedding_dimension, embedding_uncertainty, auto_truncate need 3.5.")
        spec = body.get("text")
    text = spec.get("input_text") if isinstance(spec, Mapping) else None
    if not isinstance(text, str) or not text:
        raise Refused(f"{kind}.input_text is required.")
    dimension = body.get("embedding_dimension", 512)
    if isinstance(dimension, bool) or not isinstance(dimension, int) or dimension < 1:
        raise Refused("embedding_dimension must be a positive integer.")
    return text, str(model), dimension


def _epoch(value: str | None, default: float) -> float:
    if value is None:
        return default
    try:
        return parse_datetime(value).timestamp()
    except (TypeError, ValueError):
        raise ValueError("started_at and ended_at must be RFC 3339 date-times.") from None
