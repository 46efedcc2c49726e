"""The one validation of an analysis request, and the JSON body it becomes.

`validated(request, route)` checks an `AnalysisRequest` as the API documents it for the route
and returns it normalized; `request_body` writes that with the one converter (unset fields
left out). The client (`generate`, `stream`, `tasks.create`), batches (each item's effective
request) and the simulator (both routes, and batch items) all validate through it.

Messages name each field as the route's callers do and start with the route's location, so a
batch item's read `requests[3]: ... prompt ...` where a single task's say `prompt_v2`.
"""

from __future__ import annotations

from typing import Any

from .._convert import unstructure
from .._validate import (
    TIME_BASED,
    check_analysis_mode,
    check_custom_id,
    check_images,
    check_max_tokens,
    check_prompt_v2,
    check_range,
    check_response_format,
    check_window,
    video_input,
)
from ..errors import InvalidInputError
from ._request import AnalysisRequest, Route

_MAX_ASYNC_WINDOW = 2 * 3600.0


def request_body(request: AnalysisRequest, route: Route) -> dict[str, Any]:
    """The JSON body of `request` on `route`, validated first (unset fields are left out)."""
    body: dict[str, Any] = unstructure(validated(request, route))
    return body


def validated(request: AnalysisRequest, route: Route) -> AnalysisRequest:
    """Check `request` as the API documents it for `route`, and return it normalized.

    Normalized: `video` a typed video, `image`, `prompt_v2` and `response_format` models,
    `model_name` and `analysis_mode` plain strings; everything else as given.

    Raises:
        InvalidInputError: what is wrong and what to do, in the route's names, after the
            route's location (`requests[3]: ...`) when it has one.
    """
    try:
        return _validated(request, route)
    except InvalidInputError as exc:
        if not route.where:
            raise
        raise type(exc)(f"{route.where}: {exc}") from None  # the same kind of error


def _validated(request: AnalysisRequest, route: Route) -> AnalysisRequest:
    name = route.name
    if route.batch:  # a batch has always checked its items' own scalars before the rules
        _custom_id(request.custom_id)
        _integer_tokens(request.max_tokens)
    mode = "general"
    if request.analysis_mode is not None:
        mode = check_analysis_mode(request.analysis_mode, name("analysis_mode"))
    prompt, prompt_v2, image = request.prompt, request.prompt_v2, request.image
    if (request.video is None) == (image is None):
        raise InvalidInputError(f"pass exactly one of {name('video')}= or {name('image')}=")
    video = None if request.video is None else video_input(request.video)
    if prompt is not None and prompt_v2 is not None:
        raise InvalidInputError(
            f"{name('prompt')} and {name('prompt_v2')} are mutually exclusive; pass one"
        )
    if prompt is not None and (not isinstance(prompt, str) or not prompt.strip()):
        raise InvalidInputError(f"{name('prompt')} must be a non-empty string")
    images = None
    if image is not None:
        if prompt_v2 is not None:
            raise InvalidInputError(
                f"{name('image')} cannot be combined with {name('prompt_v2')}; use {name('prompt')}"
            )
        images = check_images(image, prompt)
    v2 = None if prompt_v2 is None else check_prompt_v2(prompt_v2, name("prompt_v2"))
    _check_prompt_for_mode(request, route, mode)
    fmt, time_ranges = None, False
    if request.response_format is not None:
        fmt = check_response_format(request.response_format, mode=mode, sync=route.sync)
        time_ranges = any(d.time_ranges for d in fmt.segment_definitions or ())
    check_range(request.temperature, name("temperature"), 0, 1)
    if route.sync:
        check_range(_integer_tokens(request.max_tokens), name("max_tokens"), 1, 98_304)
    else:
        check_max_tokens(request.max_tokens, mode, time_ranges)
    _check_segment_durations(request, route, mode, time_ranges)
    if time_ranges and (request.start_time is not None or request.end_time is not None):
        raise InvalidInputError(
            f"{name('start_time')}/{name('end_time')} cannot be combined with time_ranges"
        )
    max_window = None if route.sync else _MAX_ASYNC_WINDOW
    check_window(request.start_time, request.end_time, max_window=max_window)
    return AnalysisRequest(
        model_name=None if request.model_name is None else str(request.model_name),
        video=video,
        prompt=prompt,
        image=images,
        prompt_v2=v2,
        analysis_mode=None if request.analysis_mode is None else mode,
        response_format=fmt,
        temperature=request.temperature,
        max_tokens=request.max_tokens,
        min_segment_duration=request.min_segment_duration,
        max_segment_duration=request.max_segment_duration,
        start_time=request.start_time,
        end_time=request.end_time,
        custom_id=_custom_id(request.custom_id),
    )


def _check_prompt_for_mode(request: AnalysisRequest, route: Route, mode: str) -> None:
    """Segmentation takes no prompt and needs segment definitions; a general analysis a prompt."""
    prompts = route.alternatives("prompt", "prompt_v2")  # a batch item has one, `prompt`
    given = request.prompt is not None or request.prompt_v2 is not None
    if mode == TIME_BASED:
        if given:
            raise InvalidInputError(
                f"{route.name('analysis_mode')}='time_based_metadata' takes no "
                f"{' or '.join(prompts)}: describe what to extract in the segment definitions"
            )
        if request.response_format is None:
            raise InvalidInputError(
                f"{route.name('analysis_mode')}='time_based_metadata' needs "
                f"{route.name('response_format')}=ResponseFormat.segments(...)"
            )
    elif not given:
        needs = prompts[0] + "".join(f" (or {other})" for other in prompts[1:])
        raise InvalidInputError(f"a general analysis needs {needs}")


def _check_segment_durations(
    request: AnalysisRequest, route: Route, mode: str, time_ranges: bool
) -> None:
    low, high = request.min_segment_duration, request.max_segment_duration
    if low is None and high is None:
        return
    low_name, high_name = route.name("min_segment_duration"), route.name("max_segment_duration")
    if mode != TIME_BASED:
        raise InvalidInputError(
            f"{low_name}/{high_name} need {route.name('analysis_mode')}='time_based_metadata'"
        )
    if time_ranges:
        raise InvalidInputError("segment durations cannot be combined with time_ranges")
    check_range(low, low_name, 2, float("inf"))
    check_range(high, high_name, 2, float("inf"))
    if low is not None and high is not None and high < low:
        raise InvalidInputError(f"{high_name} must be >= {low_name}")


def _custom_id(value: str | None) -> str | None:
    return None if value is None else check_custom_id(value)


def _integer_tokens(value: int | str | None) -> int | None:
    """`max_tokens` where only an integer is allowed (`POST /analyze`, batch items)."""
    if value is None or (isinstance(value, int) and not isinstance(value, bool)):
        return value
    raise InvalidInputError(f"max_tokens must be an integer, got {value!r}")
