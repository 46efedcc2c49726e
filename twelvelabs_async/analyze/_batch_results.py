"""A batch's results: JSON Lines into typed `BatchResult` items, read as they arrive."""

from __future__ import annotations

from .._convert import structure
from ..models import BatchResult
from ._lines import LineStream, json_line

JSONL_ACCEPT = "application/jsonl, application/x-ndjson, application/json"
"""The `Accept` header of the results request."""


def parse_result_line(line: bytes) -> BatchResult | None:
    """Turn one JSON Lines line into a `BatchResult`; None for a blank line.

    A line that is not a JSON object, or lacks `task_id`/`status`, raises `DecodeError` (it is
    never dropped silently, unlike the official SDK). An unknown status is kept as its string.
    """
    text = line.strip()
    if not text:
        return None
    data = json_line(text, "a batch result line")
    return structure(data, BatchResult)


class BatchResults(LineStream[BatchResult]):
    """The items of a batch's results, read line by line as they arrive.

    Use it as `async with client.analyze.batches.results(batch_id) as results:` then
    `async for item in results:`; the response is released when the block ends, even on
    `break`. The file is never held in memory whole: each line is parsed as it is read.
    Iterating without `async with` also works and releases the response at the end.
    """

    def _parse(self, line: bytes) -> BatchResult | None:
        return parse_result_line(line)
