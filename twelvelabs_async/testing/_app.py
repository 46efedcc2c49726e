"""The simulator's aiohttp.web application: routes, auth, rate limiting, faults and statistics."""

from __future__ import annotations

import asyncio
import json
import random
from collections import Counter
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

import attrs
from aiohttp import web

from .._clock import WallClock
from .._convert import structure, unstructure_response
from .._validate import check_analysis_mode
from ..analyze._body import validated
from ..analyze._request import SYNC, SYNC_KEYS, TASK, TASK_KEYS, AnalysisRequest
from ..errors import DecodeError, InvalidInputError
from ..models import AssetVideo, Base64Video, TaskRef, UrlVideo, VideoInput
from ._assets import AssetRoutes
from ._batches import BatchRoutes
from ._config import Faults, SimulatorConfig
from ._embed import EmbedRoutes
from ._indexes import IndexRoutes
from ._ratelimit import TokenBucket
from ._replies import flat_error, json_reply, nested_error, page_params, refused_body
from ._results import free_text, json_for_schema
from ._store import TaskStore
from ._uploads import UploadRoutes
from ._webhooks import WebhookStats

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]

_LIST_FILTERS = ("status", "video_url", "asset_id", "analysis_mode")
RESET = 0
"""The status recorded in the statistics for a connection reset without any response."""
_RATE_HEADERS = web.RequestKey("rate_headers", dict[str, str])
"""The `X-Ratelimit-*` headers of a request, added when its response is prepared."""


@attrs.define
class SimulatorStats:
    """What the simulator saw: requests by route and status.

    `requests[("retrieve", 200)]` counts successful task retrievals; a connection reset
    without a response is counted with status `0`. `webhooks` counts webhook deliveries.
    """

    requests: Counter[tuple[str, int]] = attrs.field(factory=Counter)
    webhooks: WebhookStats = attrs.field(factory=WebhookStats)

    @property
    def total(self) -> int:
        """All requests received."""
        return sum(self.requests.values())

    def count(self, route: str | None = None, status: int | None = None) -> int:
        """Requests for a route and/or with a status (None matches any)."""
        return sum(
            n
            for (r, s), n in self.requests.items()
            if (route is None or r == route) and (status is None or s == status)
        )


def _video(value: Any) -> VideoInput | str | None:
    if value is None:
        return None
    if not isinstance(value, Mapping):
        raise InvalidInputError("video must be an object with a type")
    kind = str(value.get("type"))
    classes: dict[str, type[VideoInput]] = {
        "url": UrlVideo,
        "asset_id": AssetVideo,
        "base64_string": Base64Video,
    }
    cls = classes.get(kind)
    if cls is None:
        raise InvalidInputError(f"video.type {kind!r} is not one of url, asset_id, base64_string")
    try:
        return structure(value, cls)
    except DecodeError as exc:
        raise InvalidInputError(f"video: {exc.message}") from None


def validate_body(body: Any, *, sync: bool) -> None:
    """Validate a request body as the API does; raises `InvalidInputError` saying why."""
    if not isinstance(body, Mapping):
        raise InvalidInputError("the request body must be a JSON object")
    route, allowed = (SYNC, SYNC_KEYS) if sync else (TASK, TASK_KEYS)
    unknown = sorted(set(body) - allowed)
    if unknown:
        raise InvalidInputError(f"unknown parameter(s): {', '.join(unknown)}")
    fields = {k: v for k, v in body.items() if k in route.names}
    validated(AnalysisRequest(**{**fields, "video": _video(body.get("video"))}), route)


async def _valid_body(
    request: web.Request, *, sync: bool, shape: Callable[[int, str, str], web.Response]
) -> Any:
    """The request's JSON body if the API would take it, else the error `shape` answers with."""
    try:
        body = await request.json()
        validate_body(body, sync=sync)
    except (ValueError, InvalidInputError) as exc:
        return refused_body(exc, shape)
    return body


class SimulatorApp:
    """Builds the `aiohttp.web.Application` and holds the state it serves."""

    def __init__(self, config: SimulatorConfig, clock: WallClock) -> None:
        self.config = config
        self.clock = clock
        self.store = TaskStore(config)
        self.stats = SimulatorStats()
        self._fault_rng = random.Random(config.seed + 1)
        self._bucket = TokenBucket(config.rpm, clock.time()) if config.rpm else None
        self._idempotency: dict[str, str] = {}
        self.seed_rng = random.Random(config.seed + 2)
        self.batches = BatchRoutes(self.store, clock, config.seed)
        """The `/analyze/batches` routes and their state (`_batches.py`)."""
        self.assets = AssetRoutes(config, clock)
        """The `/assets` routes and their state (`_assets.py`)."""
        self.embed = EmbedRoutes(config, clock)
        """The `/embed-v2` routes and their state (`_embed.py`)."""
        self.indexes = IndexRoutes(config, clock, self.assets)
        """The `/indexes` and indexed-asset routes and their state (`_indexes.py`)."""
        self.uploads = UploadRoutes(config.multipart, clock, self.assets, config.seed)
        """The multipart-upload routes and the storage they point at (`_uploads.py`)."""

    def build(self) -> web.Application:
        """The application, with every route under `/v1.3`."""
        app = web.Application(middlewares=[self._middleware])
        app.on_response_prepare.append(_add_rate_headers)
        add = app.router.add_route
        add("POST", "/v1.3/analyze/tasks", self.create, name="create")
        add("GET", "/v1.3/analyze/tasks", self.list, name="list")
        add("GET", "/v1.3/analyze/tasks/{task_id}", self.retrieve, name="retrieve")
        add("DELETE", "/v1.3/analyze/tasks/{task_id}", self.delete, name="delete")
        add("POST", "/v1.3/analyze/tasks/{task_id}/cancel", self.cancel, name="cancel")
        add("POST", "/v1.3/analyze", self.analyze, name="analyze")
        self.batches.add_routes(app)
        self.uploads.add_routes(app)  # first: /assets/{asset_id} would match its paths
        self.assets.add_routes(app)
        self.embed.add_routes(app)
        self.indexes.add_routes(app)
        return app

    # --- middleware: stats, auth, rate limit, faults ----------------------------------------

    @web.middleware
    async def _middleware(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        route = request.match_info.route.name or "unknown"
        now = self.clock.time()
        if route == "storage_put":  # storage: no API key, no API rate limit, its own faults
            return await self._storage(request, handler)
        if request.headers.get("x-api-key") != self.config.api_key:
            return self._record(
                route, flat_error(401, "api_key_invalid", "The API key is missing or invalid.")
            )
        headers: dict[str, str] = {}
        if self._bucket is not None:
            allowed = self._bucket.take(now)
            headers = self._bucket.headers(now)
            request[_RATE_HEADERS] = headers  # also on streamed responses, sent before we return
            if not allowed:
                if self.config.retry_after:
                    headers["Retry-After"] = str(self._bucket.retry_after(now))
                return self._record(route, web.Response(status=429, headers=headers))
        faults = self.config.faults_for(route)
        if faults.any:
            faulty = await self._fault(request, faults)
            if faulty is not None:
                faulty.headers.update(headers)
                return self._record(route, faulty)
        try:
            response = await handler(request)
        except web.HTTPException as exc:  # no such route or method: count it too
            self._record(route, exc)
            raise
        response.headers.update(headers)
        if faults.malformed and self._fault_rng.random() < faults.malformed:
            response = _cut_off(response)
        return self._record(route, response)

    async def _storage(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        """A chunk PUT to presigned storage: authorized by its URL, faults of `storage_put`."""
        faults = self.config.faults_for("storage_put")
        storage = self.uploads.storage
        storage.entered()
        try:
            if faults.any:
                try:
                    faulty = await self._fault(request, faults)
                except asyncio.CancelledError:  # a reset: no answer
                    storage.refused(request, RESET)
                    raise
                if faulty is not None:
                    storage.refused(request, faulty.status)
                    return self._record("storage_put", faulty)
            return self._record("storage_put", await handler(request))
        finally:
            storage.left()

    def _record(self, route: str, response: web.StreamResponse) -> web.StreamResponse:
        self.stats.requests[(route, response.status)] += 1
        return response

    async def _fault(self, request: web.Request, faults: Faults) -> web.StreamResponse | None:
        rng = self._fault_rng
        if faults.latency and rng.random() < faults.latency:
            await asyncio.sleep(rng.uniform(*faults.latency_seconds))
        if faults.reset and rng.random() < faults.reset:
            route = request.match_info.route.name or "unknown"
            self.stats.requests[(route, RESET)] += 1
            if request.transport is not None:
                request.transport.abort()
            raise asyncio.CancelledError  # aiohttp drops the request without answering
        if faults.error_5xx and rng.random() < faults.error_5xx:
            status = rng.choice((500, 502, 503))
            route = request.match_info.route.name or ""
            shape = flat_error if route.startswith(("upload_", "storage_")) else nested_error
            return shape(status, "internal_error", "Simulated server error; retry.")
        return None

    # --- routes -----------------------------------------------------------------------------

    async def create(self, request: web.Request) -> web.StreamResponse:
        """`POST /analyze/tasks`: validate, honour `Idempotency-Key`, answer 202."""
        body = await _valid_body(request, sync=False, shape=nested_error)
        if isinstance(body, web.Response):
            return body
        key = request.headers.get("Idempotency-Key")
        task = self.store.get(self._idempotency.get(key, "")) if key else None
        if task is None:
            task = self.store.create(body, self.clock.time())
            if key:
                self._idempotency[key] = task.task_id
        ref = TaskRef(task_id=task.task_id, status=task.status_at(self.clock.time()))
        return json_reply(202, unstructure_response(ref))

    async def list(self, request: web.Request) -> web.StreamResponse:
        """`GET /analyze/tasks`: newest first, paginated, filtered, items cut down."""
        try:
            page, limit = page_params(request)
            if "analysis_mode" in request.query:
                check_analysis_mode(request.query["analysis_mode"])
        except (ValueError, InvalidInputError) as exc:
            return flat_error(400, "parameter_invalid", str(exc))
        filters = {k: request.query[k] for k in _LIST_FILTERS if k in request.query}
        now = self.clock.time()
        items, info = self.store.page(now, page, limit, filters)
        # Each item's JSON is rendered once per status (as a retrieve's is): a list page costs
        # its 50 items, not 50 renders.
        data = b",".join(self.store.render_list_json(t, now) for t in items)
        info_json = json.dumps(unstructure_response(info)).encode()
        body = b'{"data":[' + data + b'],"page_info":' + info_json + b"}"
        return web.Response(status=200, body=body, content_type="application/json")

    async def retrieve(self, request: web.Request) -> web.StreamResponse:
        """`GET /analyze/tasks/{task_id}`: the task now, rendered once per status it is seen in."""
        task = self.store.get(request.match_info["task_id"])
        if task is None:
            return _not_found(request.match_info["task_id"])
        body = self.store.render_json(task, self.clock.time())
        return web.Response(status=200, body=body, content_type="application/json")

    async def delete(self, request: web.Request) -> web.StreamResponse:
        """`DELETE /analyze/tasks/{task_id}`: 409 while the task is processing."""
        task = self.store.get(request.match_info["task_id"])
        if task is None:
            return _not_found(request.match_info["task_id"])
        if task.status_at(self.clock.time()) == "processing":
            return nested_error(
                409, "task_in_progress", "The task is being processed; cancel it or wait."
            )
        self.store.delete(task)
        return web.Response(status=200)

    async def cancel(self, request: web.Request) -> web.StreamResponse:
        """`POST /analyze/tasks/{task_id}/cancel`: idempotent; 409 once ready or failed."""
        task = self.store.get(request.match_info["task_id"])
        if task is None:
            return _not_found(request.match_info["task_id"])
        if task.batch_id is not None:  # the API: cancel a batch's tasks through the batch
            return nested_error(
                409, "task_in_batch", "This task belongs to a batch; cancel the batch instead."
            )
        if not self.store.cancel(task, self.clock.time()):
            return nested_error(409, "task_not_cancelable", "The task has already finished.")
        return json_reply(
            200, unstructure_response(TaskRef(task_id=task.task_id, status="canceled"))
        )

    async def analyze(self, request: web.Request) -> web.StreamResponse:
        """`POST /analyze`: JSON when `stream` is false, NDJSON events otherwise (the default)."""
        body = await _valid_body(request, sync=True, shape=flat_error)
        if isinstance(body, web.Response):
            return body
        rng = random.Random(self._fault_rng.random())
        fmt = body.get("response_format") or {}
        if fmt.get("type") == "json_schema":
            text = json_for_schema(fmt.get("json_schema") or {}, rng)
        else:
            text = free_text(body.get("prompt"), rng)
        generation_id = f"gen_{rng.getrandbits(64):016x}"
        usage = {"output_tokens": max(1, len(text) // 4), "input_tokens": rng.randint(500, 5000)}
        if body.get("stream") is False:
            payload = {"id": generation_id, "data": text, "finish_reason": "stop", "usage": usage}
            return json_reply(200, payload)
        response = web.StreamResponse(headers={"Content-Type": "application/x-ndjson"})
        await response.prepare(request)
        events: list[dict[str, Any]] = [
            {"event_type": "stream_start", "metadata": {"generation_id": generation_id}}
        ]
        events += [
            {"event_type": "text_generation", "text": text[i : i + 17]}
            for i in range(0, len(text), 17)
        ]
        events.append(
            {
                "event_type": "stream_end",
                "finish_reason": "stop",
                "metadata": {"generation_id": generation_id, "usage": usage},
            }
        )
        for event in events:
            await response.write(json.dumps(event).encode() + b"\n")
        await response.write_eof()
        return response


def _not_found(task_id: str) -> web.Response:
    return nested_error(
        404, "resource_not_exist", f"Resource with id {task_id} does not exist in analyze tasks."
    )


async def _add_rate_headers(request: web.Request, response: web.StreamResponse) -> None:
    response.headers.update(request.get(_RATE_HEADERS, {}))


def _cut_off(response: web.StreamResponse) -> web.StreamResponse:
    """A 2xx whose JSON body is cut off halfway (streamed and empty bodies are left alone)."""
    ok = 200 <= response.status < 300
    if not isinstance(response, web.Response) or not ok or not response.body:
        return response
    body = bytes(response.body)  # type: ignore[arg-type]
    half = body[: max(1, len(body) // 2)]
    return web.Response(status=response.status, body=half, headers=response.headers)
