"""Builds and validates the JSON body shared by `POST /analyze` and `POST /analyze/tasks`."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from .._convert import unstructure
from .._validate import (
    TIME_BASED,
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
from ..models import AnalysisMode, ImageInput, PromptV2, ResponseFormat, VideoInput

_MAX_ASYNC_WINDOW = 2 * 3600.0


def analysis_body(
    *,
    sync: bool,
    video: str | VideoInput | None,
    image: Sequence[ImageInput | Mapping[str, Any]] | None,
    prompt: str | None,
    prompt_v2: PromptV2 | Mapping[str, Any] | None,
    model_name: str | None,
    temperature: float | None,
    max_tokens: int | str | None,
    response_format: ResponseFormat | Mapping[str, Any] | None,
    start_time: float | None,
    end_time: float | None,
    analysis_mode: AnalysisMode | str | None = None,
    min_segment_duration: float | None = None,
    max_segment_duration: float | None = None,
    custom_id: str | None = None,
) -> dict[str, Any]:
    """Validate the arguments as the API documents them and return the request body.

    Unset (None) fields are left out of the body, as the official SDK does.
    """
    mode = str(analysis_mode) if analysis_mode is not None else "general"
    body: dict[str, Any] = {}
    if model_name is not None:
        body["model_name"] = str(model_name)
    if (video is None) == (image is None):
        raise InvalidInputError("pass exactly one of video= or image=")
    if video is not None:
        body["video"] = unstructure(video_input(video))
    if prompt is not None and prompt_v2 is not None:
        raise InvalidInputError("prompt and prompt_v2 are mutually exclusive; pass one")
    if prompt is not None:
        if not isinstance(prompt, str) or not prompt.strip():
            raise InvalidInputError("prompt must be a non-empty string")
        body["prompt"] = prompt
    if image is not None:
        if prompt_v2 is not None:
            raise InvalidInputError("image cannot be combined with prompt_v2; use prompt")
        body["image"] = unstructure(check_images(image, prompt))
    if prompt_v2 is not None:
        body["prompt_v2"] = unstructure(check_prompt_v2(prompt_v2))
    if mode == TIME_BASED:
        if prompt is not None or prompt_v2 is not None:
            raise InvalidInputError(
                "analysis_mode='time_based_metadata' takes no prompt or prompt_v2: describe "
                "what to extract in the segment definitions"
            )
        if response_format is None:
            raise InvalidInputError(
                "analysis_mode='time_based_metadata' needs "
                "response_format=ResponseFormat.segments(...)"
            )
    elif prompt is None and prompt_v2 is None:
        raise InvalidInputError("a general analysis needs prompt (or prompt_v2)")
    if analysis_mode is not None:
        body["analysis_mode"] = mode
    time_ranges = False
    if response_format is not None:
        fmt = check_response_format(response_format, mode=mode, sync=sync)
        time_ranges = any(d.time_ranges for d in fmt.segment_definitions or ())
        body["response_format"] = unstructure(fmt)
    check_range(temperature, "temperature", 0, 1)
    if temperature is not None:
        body["temperature"] = temperature
    if sync:
        if max_tokens is not None and (
            isinstance(max_tokens, bool) or not isinstance(max_tokens, int)
        ):
            raise InvalidInputError(f"max_tokens must be an integer, got {max_tokens!r}")
        check_range(max_tokens, "max_tokens", 1, 98_304)
    else:
        check_max_tokens(max_tokens, mode, time_ranges)
    if max_tokens is not None:
        body["max_tokens"] = max_tokens
    _segment_durations(body, mode, time_ranges, min_segment_duration, max_segment_duration)
    if time_ranges and (start_time is not None or end_time is not None):
        raise InvalidInputError("start_time/end_time cannot be combined with time_ranges")
    check_window(start_time, end_time, max_window=None if sync else _MAX_ASYNC_WINDOW)
    for key, value in (("start_time", start_time), ("end_time", end_time)):
        if value is not None:
            body[key] = value
    if custom_id is not None:
        body["custom_id"] = check_custom_id(custom_id)
    return body


def _segment_durations(
    body: dict[str, Any],
    mode: str,
    time_ranges: bool,
    low: float | None,
    high: float | None,
) -> None:
    if low is None and high is None:
        return
    if mode != TIME_BASED:
        raise InvalidInputError(
            "min_segment_duration/max_segment_duration need analysis_mode='time_based_metadata'"
        )
    if time_ranges:
        raise InvalidInputError("segment durations cannot be combined with time_ranges")
    check_range(low, "min_segment_duration", 2, float("inf"))
    check_range(high, "max_segment_duration", 2, float("inf"))
    if low is not None and high is not None and high < low:
        raise InvalidInputError("max_segment_duration must be >= min_segment_duration")
    if low is not None:
        body["min_segment_duration"] = low
    if high is not None:
        body["max_segment_duration"] = high
