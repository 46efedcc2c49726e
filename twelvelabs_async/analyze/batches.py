"""`client.analyze.batches`: create, retrieve, list, read, cancel, delete and track batches."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from .._http import HTTPTransport, no_body
from .._pagination import AsyncPaginator
from .._validate import check_analysis_mode, path_id
from .._wire import json_about, json_as, paginate, post_once
from ..errors import InvalidInputError
from ..models import (
    AnalysisMode,
    AnalysisModeValue,
    Batch,
    BatchCreated,
    BatchDefaults,
    BatchPage,
    BatchRequest,
    BatchStatus,
    BatchStatusValue,
)
from ..tracking import BatchPolicy, BatchTracker
from ._batch_body import batch_body
from ._batch_results import JSONL_ACCEPT, BatchResults

BatchList = AsyncPaginator[Batch, BatchPage]
"""What `batches.list()` returns: iterate batches with `async for`, or pages with `.pages()`."""


_batch = json_as(Batch)
_created = json_as(BatchCreated)
_page = json_as(BatchPage)


async def _retrieve(http: HTTPTransport, batch_id: str, *, retries: int | None = None) -> Batch:
    path = f"analyze/batches/{path_id(batch_id, 'batch_id')}"
    return await http.request("GET", path, json_about(Batch, "batch_id", batch_id), retries=retries)


def _results(http: HTTPTransport, batch_id: str, *, retries: int | None = None) -> BatchResults:
    path = f"analyze/batches/{path_id(batch_id, 'batch_id')}/results"
    return BatchResults(lambda: http.stream("GET", path, accept=JSONL_ACCEPT, retries=retries))


class _Source:
    """A batch as the batch tracker sees it (a `tracking` `BatchSource`): one attempt each."""

    def __init__(self, http: HTTPTransport) -> None:
        self._http = http

    async def fetch(self, batch_id: str) -> Batch:
        return await _retrieve(self._http, batch_id, retries=0)

    def results(self, batch_id: str) -> BatchResults:
        return _results(self._http, batch_id, retries=0)


def _filter(key: str, value: str | Iterable[str] | None) -> list[tuple[str, str]]:
    """A list filter sent as repeated keys: one value, or several (`status=a&status=b`)."""
    if value is None:
        return []
    values = [value] if isinstance(value, str) else list(value)
    for one in values:
        if not isinstance(one, str) or not one:
            raise InvalidInputError(f"{key} filters must be non-empty strings, got {one!r}")
    return [(key, str(one)) for one in values]


class AnalyzeBatches:
    """Analyze batches (`/analyze/batches`). Reach it as `client.analyze.batches`.

    A batch runs up to 1,000 analyses with one model and one analysis mode; each item becomes
    an analysis task (with `batch_id` set). At most 5 batches are active per account; a batch
    expires 24 h after creation (unfinished items are canceled) and its results are kept for
    30 days.
    """

    def __init__(self, transport: HTTPTransport) -> None:
        self._http = transport

    async def create(
        self,
        *,
        requests: Iterable[BatchRequest | Mapping[str, Any]],
        analysis_mode: AnalysisMode | AnalysisModeValue,
        model_name: str = "pegasus1.5",
        defaults: BatchDefaults | Mapping[str, Any] | None = None,
        idempotency_key: str | None = None,
    ) -> BatchCreated:
        """Create a batch; returns its id, expiry and one `task_id` per request, in order.

        Validated before any request, as the API documents it: 1-1,000 requests; videos
        uploaded as assets (`AssetVideo`); each `custom_id` valid and unique within the batch;
        and every item's effective fields (its own, else `defaults`, objects replaced whole)
        valid for `analysis_mode` by the rules of `tasks.create`. Failures raise
        `InvalidInputError` naming the item. The request carries an `Idempotency-Key` (random
        unless you pass one), reused on every retry. Having 5 active batches already is
        answered with 429 (`RateLimitError`).

        Args:
            requests: the items (`BatchRequest`, or mappings in its wire shape).
            analysis_mode: `general` or `time_based_metadata`, for every item (any other
                value raises `InvalidInputError`).
            model_name: the model for every item (batches require `pegasus1.5`).
            defaults: values every item uses unless it sets its own.
            idempotency_key: the `Idempotency-Key` header value to send.
        """
        body = batch_body(
            requests=requests,
            analysis_mode=analysis_mode,
            model_name=model_name,
            defaults=defaults,
        )
        return await post_once(self._http, "analyze/batches", _created, body, idempotency_key)

    async def retrieve(self, batch_id: str) -> Batch:
        """Get a batch's status and item counts (`NotFoundError` if unknown).

        A reply about another batch is malformed: retried, then raised as `DecodeError`.
        """
        return await _retrieve(self._http, batch_id)

    def list(
        self,
        *,
        status: BatchStatus
        | BatchStatusValue
        | Iterable[BatchStatus | BatchStatusValue]
        | None = None,
        analysis_mode: AnalysisMode
        | AnalysisModeValue
        | Iterable[AnalysisMode | AnalysisModeValue]
        | None = None,
        page_limit: int = 50,
    ) -> BatchList:
        """List batches, newest first, optionally filtered; iterate with `async for`.

        Every batch on every page is yielded; no request is made past the last page. Use
        `.pages()` for whole pages with their `page_info`, or `await .page(n)` for one.

        Args:
            status: only batches in this status, or in any of several.
            analysis_mode: only batches of this mode, or of any of several (any other value
                than `general` or `time_based_metadata` raises `InvalidInputError`).
            page_limit: batches per page, 1-50.
        """
        modes = _filter("analysis_mode", analysis_mode)
        for _, mode in modes:
            check_analysis_mode(mode)
        filters = _filter("status", status) + modes
        return paginate(
            self._http, "analyze/batches", _page, page_limit=page_limit, filters=filters
        )

    def results(self, batch_id: str) -> BatchResults:
        """The batch's results, one `BatchResult` per item, streamed (JSON Lines).

        Readable at any time, also while the batch is `pending` or `processing` (items not
        finished yet are listed as `queued` or `processing`). Nothing is sent until you
        iterate or enter `async with`; errors before the first line are retried. The file is
        parsed line by line and never held in memory whole.

        ```python
        async with client.analyze.batches.results(batch_id) as results:
            async for item in results:
                if item.status == "ready":
                    print(item.custom_id, item.ready_result().data)
        ```
        """
        return _results(self._http, batch_id)

    async def cancel(self, batch_id: str) -> Batch:
        """Cancel a `pending` or `processing` batch; returns it as it is now (`canceling`).

        Queued items are canceled; items already processing finish first, then the batch is
        `canceled`. A batch that already ended raises `ConflictError`.
        """
        path = f"analyze/batches/{path_id(batch_id, 'batch_id')}/cancel"
        # Cancelling a batch twice is harmless (the second finds it `canceling`).
        return await self._http.request("POST", path, _batch, idempotent=True)

    async def delete(self, batch_id: str) -> None:
        """Delete an ended batch and its tasks (`ConflictError` while it is still active)."""
        path = f"analyze/batches/{path_id(batch_id, 'batch_id')}"
        await self._http.request("DELETE", path, no_body)

    def track(
        self,
        batch_id: str,
        *,
        timeout: float | None = None,
        poll_interval: float = 5.0,
        max_poll_interval: float = 60.0,
        max_retries: int = 5,
        buffer: int = 256,
    ) -> BatchTracker:
        """Follow a batch and yield each item, once, as soon as it is terminal.

        ```python
        async with client.analyze.batches.track(batch_id, timeout=86_400) as tracker:
            async for item in tracker:           # a BatchResult per item, each exactly once
                ...
        ```

        Driven by the batch's counts, not by polling each task: the tracker retrieves the
        batch every interval and reads the results stream only when more items have finished
        than it has yielded, so a 1,000-item batch costs a few requests per interval. The
        interval starts at `poll_interval`, grows by half while nothing changes, up to
        `max_poll_interval`, with +-10 % jitter. `ready`, `failed` and `canceled` items are
        all yielded. Iteration ends when the batch is `completed`, `canceled` or `expired` and
        every item was yielded.

        Transient failures (429, 408, 5xx, connection errors, malformed bodies) are retried
        with backoff, honouring a server-requested delay, up to `max_retries` times in a row;
        then, and on any other error (401, 403, 404, ...), the plain exception is raised.
        Leaving the block (by `break`, an error or cancellation) stops everything at once.

        Args:
            batch_id: the batch to follow.
            timeout: overall deadline in seconds (None or `math.inf` for none); past it
                `TrackingTimeout` is raised with the task ids of the items not yet yielded in
                `.pending`.
            poll_interval: the first (and shortest) interval between two looks, in seconds.
            max_poll_interval: the longest interval, in seconds.
            max_retries: transient failures in a row retried before giving up.
            buffer: finished items held for a slow consumer before polling pauses.
        """
        path_id(batch_id, "batch_id")
        policy = BatchPolicy(poll_interval, max_poll_interval, max_retries)
        return BatchTracker(
            _Source(self._http),
            batch_id,
            clock=self._http.clock,
            rng=self._http.rng,
            timeout=timeout,
            policy=policy,
            buffer=buffer,
        )
