"""The simulator's analyze batches: state, limits and the `/analyze/batches` routes.

Each item of a batch is a task in the `TaskStore` (with `batch_id` set, visible at
`/analyze/tasks/{id}`); the batch keeps only its items and when it was created or canceled.
Like a task's, a batch's status is computed from the clock when read:

- `pending` while every item is queued, `processing` once one has started;
- `completed` when every item has finished (`ready` or `failed`), by the item's own timeline;
- an item still unfinished 24 h after creation is canceled (`batch_expired`), and the batch is
  then `expired`;
- canceling cancels the queued items (`batch_canceled`); items already processing finish;
  the batch is `canceling` until every item has ended, then `canceled`.

At most 5 batches may be active (`pending`, `processing`, `canceling`); creating a sixth is
answered `429` with the nested error body and code `active_batch_limit_exceeded` (the API
documents 429 for this limit but not its code). A batch and its results are kept 30 days.
"""

from __future__ import annotations

import json
import random
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import attrs
from aiohttp import web

from .._convert import structure, unstructure, unstructure_response
from .._validate import check_analysis_mode
from ..analyze._batch_body import batch_body, effective_request
from ..errors import DecodeError, InvalidInputError
from ..models import (
    Batch,
    BatchCreated,
    BatchDefaults,
    BatchItemRef,
    BatchRequest,
    BatchResult,
)
from ._replies import json_reply, nested_error, page_info, page_params, refused_body
from ._store import SimTask, TaskStore

if TYPE_CHECKING:
    from .._clock import WallClock

BATCH_ROUTES = (
    "batch_create", "batch_list", "batch_retrieve", "batch_delete", "batch_results",
    "batch_cancel",
)  # fmt: skip
"""Route names of the batch endpoints, for per-route faults and in request statistics."""
MAX_ACTIVE = 5
"""Active batches allowed per account."""
EXPIRY = 24 * 3600.0
"""Seconds from creation to expiry."""
RETENTION = 30 * 24 * 3600.0
"""Seconds from creation until the batch and its results are gone."""
MODELS = frozenset({"pegasus1.5"})
"""The models batches accept."""
ACTIVE = frozenset({"pending", "processing", "canceling"})
_KEYS = frozenset({"model_name", "analysis_mode", "requests", "defaults"})
_ITEM_STATUS = {"queued": "queued", "pending": "queued"}
"""Task statuses shown differently for a batch item (the others are the same)."""


def _when(epoch: float) -> datetime:
    return datetime.fromtimestamp(epoch, UTC)


@attrs.define(eq=False)
class SimBatch:
    """One batch: its items (tasks in the store), its creation and any cancel request."""

    batch_id: str
    created: float
    analysis_mode: str
    model_name: str
    items: list[SimTask]
    cancel_requested: float | None = None
    lines: dict[str, tuple[str, bytes]] = attrs.field(factory=dict)
    """Each item's last rendered results line, by task id, with the status it was rendered in."""

    @property
    def expires(self) -> float:
        """The epoch second the batch expires."""
        return self.created + EXPIRY

    def item_status(self, task: SimTask, now: float) -> str:
        """An item's status: its task's, with `pending` shown as `queued`."""
        status = task.status_at(now)
        return _ITEM_STATUS.get(status, status)

    def status_at(self, now: float) -> tuple[str, float | None]:
        """The batch's status at `now`, and when it ended (None while it is active)."""
        last = max(task.terminal_at for task in self.items)
        if self.cancel_requested is not None:
            ended = max(last, self.cancel_requested)
            return ("canceled", ended) if now >= ended else ("canceling", None)
        if now >= last:
            expired = any(t.canceled_at is None and t.terminal_at < t.finish_at for t in self.items)
            return ("expired", self.expires) if expired else ("completed", last)
        started = any(self.item_status(t, now) != "queued" for t in self.items)
        return ("processing" if started else "pending"), None

    def receipt(self, now: float) -> BatchCreated:
        """What creating the batch answered: its id, expiry and one task per request."""
        return BatchCreated(
            batch_id=self.batch_id,
            status=self.status_at(now)[0],
            total_items=len(self.items),
            created_at=_when(self.created),
            expires_at=_when(self.expires),
            items=tuple(BatchItemRef(t.task_id, t.body.get("custom_id")) for t in self.items),
        )

    def model(self, now: float) -> Batch:
        """The batch as `GET /analyze/batches/{id}` shows it at `now`."""
        status, ended = self.status_at(now)
        counts = {"queued": 0, "processing": 0, "ready": 0, "failed": 0, "canceled": 0}
        for task in self.items:
            counts[self.item_status(task, now)] += 1
        return Batch(
            batch_id=self.batch_id,
            status=status,
            analysis_mode=self.analysis_mode,
            model_name=self.model_name,
            total_items=len(self.items),
            created_at=_when(self.created),
            expires_at=_when(self.expires),
            completed_at=_when(ended) if status == "completed" and ended else None,
            canceled_at=_when(ended) if status == "canceled" and ended else None,
            expired_at=_when(ended) if status == "expired" and ended else None,
            queued_items=counts["queued"],
            processing_items=counts["processing"],
            ready_items=counts["ready"],
            failed_items=counts["failed"],
            canceled_items=counts["canceled"],
        )


class BatchRoutes:
    """The batch endpoints, over the simulator's task store and clock."""

    def __init__(self, store: TaskStore, clock: WallClock, seed: int) -> None:
        self.store = store
        self.clock = clock
        self._rng = random.Random(seed + 3)
        self._batches: dict[str, SimBatch] = {}
        self._idempotency: dict[str, str] = {}

    def add_routes(self, app: web.Application) -> None:
        """Register every batch route under `/v1.3`."""
        add = app.router.add_route
        add("POST", "/v1.3/analyze/batches", self.create, name="batch_create")
        add("GET", "/v1.3/analyze/batches", self.list, name="batch_list")
        add("GET", "/v1.3/analyze/batches/{batch_id}", self.retrieve, name="batch_retrieve")
        add("DELETE", "/v1.3/analyze/batches/{batch_id}", self.delete, name="batch_delete")
        add("GET", "/v1.3/analyze/batches/{batch_id}/results", self.results, name="batch_results")
        add("POST", "/v1.3/analyze/batches/{batch_id}/cancel", self.cancel, name="batch_cancel")

    def get(self, batch_id: str, now: float) -> SimBatch | None:
        """The batch, or None when there is none with this id (or it is past retention)."""
        batch = self._batches.get(batch_id)
        if batch is None or now >= batch.created + RETENTION:
            return None
        return batch

    def active(self, now: float) -> int:
        """How many batches are active at `now`."""
        return sum(1 for b in self._batches.values() if b.status_at(now)[0] in ACTIVE)

    # --- create -----------------------------------------------------------------------------

    def new_batch(self, body: Mapping[str, Any], now: float) -> SimBatch:
        """Store a validated batch and one task per request, each with its effective body."""
        mode, model = str(body["analysis_mode"]), str(body["model_name"])
        defaults = structure(body["defaults"], BatchDefaults) if body.get("defaults") else None
        batch_id = f"{self._rng.getrandbits(96):024x}"
        items = []
        for wire in body["requests"]:
            item = structure(wire, BatchRequest)
            effective = effective_request(item, defaults, model_name=model, analysis_mode=mode)
            task_body = unstructure(effective)
            items.append(
                self.store.create(task_body, now, batch_id=batch_id, expires_at=now + EXPIRY)
            )
        batch = SimBatch(batch_id, now, mode, model, items)
        self._batches[batch_id] = batch
        return batch

    async def create(self, request: web.Request) -> web.StreamResponse:
        """`POST /analyze/batches`: validate, enforce the active limit, answer 201."""
        now = self.clock.time()
        try:
            body = await request.json()
            validate(body)
        except (ValueError, InvalidInputError, DecodeError) as exc:
            return refused_body(exc, nested_error)
        key = request.headers.get("Idempotency-Key")
        batch = self._batches.get(self._idempotency.get(key, "")) if key else None
        if batch is None:
            if self.active(now) >= MAX_ACTIVE:
                return nested_error(
                    429,
                    "active_batch_limit_exceeded",
                    f"You already have {MAX_ACTIVE} active batches; wait for one to end.",
                )
            batch = self.new_batch(body, now)
            if key:
                self._idempotency[key] = batch.batch_id
        return json_reply(201, unstructure_response(batch.receipt(now)))

    # --- read -------------------------------------------------------------------------------

    async def list(self, request: web.Request) -> web.StreamResponse:
        """`GET /analyze/batches`: newest first, paginated, `status`/`analysis_mode` repeatable."""
        try:
            page, limit = page_params(request)
            modes = {check_analysis_mode(m) for m in request.query.getall("analysis_mode", [])}
        except (ValueError, InvalidInputError) as exc:
            return nested_error(400, "parameter_invalid", str(exc))
        now = self.clock.time()
        statuses = set(request.query.getall("status", []))
        models = []
        for batch in reversed(self._batches.values()):
            if self.get(batch.batch_id, now) is None:
                continue
            if modes and batch.analysis_mode not in modes:
                continue
            model = batch.model(now)
            if not statuses or str(model.status) in statuses:
                models.append(model)
        total = len(models)
        data = [unstructure_response(m) for m in models[(page - 1) * limit : page * limit]]
        info = page_info(page, limit, total)
        return json_reply(200, {"data": data, "page_info": unstructure_response(info)})

    def _found(self, request: web.Request) -> SimBatch | web.Response:
        batch_id = request.match_info["batch_id"]
        batch = self.get(batch_id, self.clock.time())
        if batch is None:
            return nested_error(
                404,
                "resource_not_exist",
                f"Resource with id {batch_id} does not exist in analyze batches.",
            )
        return batch

    async def retrieve(self, request: web.Request) -> web.StreamResponse:
        """`GET /analyze/batches/{batch_id}`: the batch and its item counts now."""
        batch = self._found(request)
        if isinstance(batch, web.Response):
            return batch
        return json_reply(200, unstructure_response(batch.model(self.clock.time())))

    def result_line(self, batch: SimBatch, task: SimTask, now: float) -> bytes:
        """One item's results line (cached per item status, like a task's full render)."""
        status = batch.item_status(task, now)
        cached = batch.lines.get(task.task_id)
        if cached is None or cached[0] != status:
            full = self.store.model(task, now)
            item = BatchResult(
                task_id=task.task_id,
                status=status,
                custom_id=full.custom_id,
                data=full.result if status == "ready" else None,
                error=full.error if status == "failed" else None,
            )
            line = json.dumps(unstructure_response(item)).encode() + b"\n"
            cached = batch.lines[task.task_id] = (status, line)
        return cached[1]

    async def results(self, request: web.Request) -> web.StreamResponse:
        """`GET /analyze/batches/{batch_id}/results`: JSON Lines, one per item, in order."""
        batch = self._found(request)
        if isinstance(batch, web.Response):
            return batch
        now = self.clock.time()
        response = web.StreamResponse(headers={"Content-Type": "application/jsonl"})
        await response.prepare(request)
        chunk = bytearray()
        for task in batch.items:
            chunk += self.result_line(batch, task, now)
            if len(chunk) >= 16_384:
                await response.write(bytes(chunk))
                chunk.clear()
        await response.write(bytes(chunk))
        await response.write_eof()
        return response

    # --- change -----------------------------------------------------------------------------

    async def cancel(self, request: web.Request) -> web.StreamResponse:
        """`POST /analyze/batches/{batch_id}/cancel`: 202 `canceling`; 409 once it ended."""
        batch = self._found(request)
        if isinstance(batch, web.Response):
            return batch
        now = self.clock.time()
        status, _ = batch.status_at(now)
        if status not in ACTIVE:
            return nested_error(409, f"batch_{status}", f"The batch is already {status}.")
        if batch.cancel_requested is None:
            batch.cancel_requested = now
            for task in batch.items:
                if batch.item_status(task, now) == "queued":
                    self.store.cancel(task, now, code="batch_canceled")
        return json_reply(202, unstructure_response(batch.model(now)))

    async def delete(self, request: web.Request) -> web.StreamResponse:
        """`DELETE /analyze/batches/{batch_id}`: the batch and its tasks; 409 while active."""
        batch = self._found(request)
        if isinstance(batch, web.Response):
            return batch
        status, _ = batch.status_at(self.clock.time())
        if status in ACTIVE:
            return nested_error(
                409,
                "batch_not_terminal",
                f"The batch is {status}; cancel it and wait until it has ended.",
            )
        for task in batch.items:
            if self.store.get(task.task_id) is task:
                self.store.delete(task)
        del self._batches[batch.batch_id]
        return web.Response(status=200)


def validate(body: Any) -> None:
    """Validate a batch creation body as the API does; raises `InvalidInputError` saying why."""
    if not isinstance(body, Mapping):
        raise InvalidInputError("the request body must be a JSON object")
    unknown = sorted(set(body) - _KEYS)
    if unknown:
        raise InvalidInputError(f"unknown parameter(s): {', '.join(unknown)}")
    for key in ("model_name", "analysis_mode", "requests"):
        if key not in body:
            raise InvalidInputError(f"{key} is required")
    if body["model_name"] not in MODELS:
        raise InvalidInputError(f"model_name must be one of {sorted(MODELS)} for batches")
    check_analysis_mode(body["analysis_mode"])
    if not isinstance(body["requests"], list):
        raise InvalidInputError("requests must be an array")
    batch_body(
        requests=body["requests"],
        analysis_mode=body["analysis_mode"],
        model_name=body["model_name"],
        defaults=body.get("defaults"),
    )
