"""Typed access to JSON output: `json_schema` results and segmentation segments.

The API returns both as a JSON *string* in `result.data`; these functions parse it.
"""

from __future__ import annotations

from typing import Any, TypeVar, overload

from ._convert import structure
from ._untrusted import loads
from .errors import DecodeError, InvalidInputError
from .models import AnalyzeResult, AnalyzeTask, AnalyzeTaskResult, Segment

T = TypeVar("T")

Source = AnalyzeTask | AnalyzeTaskResult | AnalyzeResult


def _data(source: Source) -> tuple[str, str | None]:
    if isinstance(source, AnalyzeTask):
        source = source.ready_result()
    if source.data is None:
        raise InvalidInputError("this result has no data")
    return source.data, None if source.finish_reason is None else str(source.finish_reason)


@overload
def parse_json(source: Source) -> Any: ...
@overload
def parse_json(source: Source, into: type[T]) -> T: ...
def parse_json(source: Source, into: type[T] | None = None) -> Any:
    """Parse the JSON text of a result, optionally into an attrs class (or other typed shape).

    Args:
        source: a ready `AnalyzeTask`, its `result`, or a `generate()` result.
        into: a type to structure the JSON into (e.g. an attrs class mirroring your schema).

    Raises:
        DecodeError: the text is not JSON (with `finish_reason == "length"` the output was cut
            off at the token limit), or does not fit `into` (naming the JSON path).
        ResultNotReadyError: the task is not `ready` (an `InvalidInputError`).
        InvalidInputError: the result has no data.
    """
    text, finish_reason = _data(source)
    try:
        data = loads(text)
    except ValueError as exc:
        hint = (
            " (the output was cut off: finish_reason is 'length')"
            if finish_reason == "length"
            else ""
        )
        raise DecodeError(f"the result is not JSON{hint}: {exc}") from None
    if into is None:
        return data
    return structure(data, into)


def parse_segments(source: Source) -> dict[str, tuple[Segment, ...]]:
    """Parse segmentation output: each segment definition id to its segments, in order.

    Each `Segment` has `start_time`, `end_time` (seconds, or strings per the requested
    `segment_time_format`) and `metadata` (the fields you defined, by name).
    """
    data = parse_json(source)
    if not isinstance(data, dict):
        raise DecodeError("segmentation output is not a JSON object of definition ids")
    return {str(key): _segments(str(key), value) for key, value in data.items()}


def _segments(key: str, value: Any) -> tuple[Segment, ...]:
    if not isinstance(value, list):
        raise DecodeError(f"segments of {key!r} are not a JSON array", path=f"$.{key}")
    try:
        return structure(value, tuple[Segment, ...])
    except DecodeError as exc:
        # `structure` saw only this list: re-root its path at the definition id.
        path = f"$.{key}{exc.path[1:]}"
        detail = exc.message.split(": ", 1)[-1].rsplit(" @ ", 1)[0]
        message = f"segments of {key!r} are malformed: {detail} @ {path}"
        raise DecodeError(message, path=path) from None
