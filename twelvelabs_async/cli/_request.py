"""`tasks create`'s request options: the body of `POST /analyze/tasks` from flags and a file.

The request is checked by the library's own validation (`validated`, the one every create
goes through) when the command line is parsed, before a key is even looked for, so a wrong
option never costs a request. Its messages are turned into flag terms.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from .._validate import TIME_BASED, check_response_format
from ..analyze._body import validated
from ..analyze._request import SYNC, TASK, AnalysisRequest
from ..errors import InvalidInputError
from ..models import AnalysisMode, ResponseFormat
from ._flags import UsageError, choice, finite, in_flag_terms

MODES = tuple(str(m) for m in AnalysisMode)


def add_request_options(parser: argparse.ArgumentParser) -> None:
    """The create body's options: video, prompt, mode, output format and the scalars."""
    parser.add_argument(
        "--video-url", required=True, metavar="URL", help="a public http(s) link to the video file"
    )
    parser.add_argument("--prompt", help="the instructions (a general analysis needs them)")
    parser.add_argument(
        "--analysis-mode",
        type=choice("--analysis-mode", MODES),
        metavar="MODE",
        help="general (free text or JSON; the default) or time_based_metadata (segments)",
    )
    parser.add_argument(
        "--response-format",
        metavar="FILE",
        help="a JSON file: a JSON schema the output follows (general), or a list of segment "
        "definitions (time_based_metadata)",
    )
    parser.add_argument(
        "--custom-id", metavar="ID", help="your id for the task: 1-64 of A-Z a-z 0-9 _ -"
    )
    parser.add_argument("--model-name", metavar="NAME", help="e.g. pegasus1.5 (default: the API's)")
    parser.add_argument("--temperature", type=finite, metavar="T", help="0-1")
    parser.add_argument(
        "--max-tokens",
        type=_max_tokens,
        metavar="N",
        help="general 512-98304; time_based_metadata 2048-98304 or unlimited",
    )
    parser.add_argument(
        "--start-time",
        type=finite,
        metavar="SECONDS",
        help="analyze from this second of the video on",
    )
    parser.add_argument(
        "--end-time",
        type=finite,
        metavar="SECONDS",
        help="analyze up to this second (1 s to 2 h after --start-time)",
    )
    parser.add_argument(
        "--min-segment-duration",
        type=finite,
        metavar="SECONDS",
        help="time_based_metadata: the shortest segment (>= 2)",
    )
    parser.add_argument(
        "--max-segment-duration",
        type=finite,
        metavar="SECONDS",
        help="time_based_metadata: the longest segment",
    )


def _max_tokens(text: str) -> int | str:
    if text.strip().lower() == "unlimited":
        return "unlimited"
    try:
        return int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"--max-tokens must be an integer or 'unlimited', got {text!r}"
        ) from None


def request_from(args: argparse.Namespace) -> dict[str, Any]:
    """The keyword arguments of `tasks.create` the flags describe, checked.

    Raises:
        UsageError: what is wrong, in flags, before any request.
    """
    mode = args.analysis_mode or str(AnalysisMode.GENERAL)
    fields: dict[str, Any] = {
        "video": args.video_url,
        "prompt": args.prompt,
        "model_name": args.model_name,
        "analysis_mode": AnalysisMode(args.analysis_mode) if args.analysis_mode else None,
        "response_format": None,
        "temperature": args.temperature,
        "max_tokens": args.max_tokens,
        "min_segment_duration": args.min_segment_duration,
        "max_segment_duration": args.max_segment_duration,
        "start_time": args.start_time,
        "end_time": args.end_time,
        "custom_id": args.custom_id,
    }
    if args.response_format is not None:
        fields["response_format"] = read_response_format(args.response_format, mode)
    if mode == TIME_BASED:
        if args.prompt is not None:
            raise UsageError(
                "--prompt: a time_based_metadata analysis takes no prompt; describe what to "
                "extract in the segment definitions of --response-format FILE"
            )
        if args.response_format is None:
            raise UsageError(
                "--analysis-mode time_based_metadata needs --response-format FILE, "
                "a JSON list of segment definitions"
            )
    elif args.prompt is None:
        raise UsageError(
            "--prompt is required for a general analysis (or pass --analysis-mode "
            "time_based_metadata with --response-format FILE)"
        )
    check(AnalysisRequest(**fields), sync=False)
    return {name: value for name, value in fields.items() if value is not None}


def check(request: AnalysisRequest, *, sync: bool) -> None:
    """The library's validation of `request`; its refusal as a `UsageError` in flag terms."""
    try:
        validated(request, SYNC if sync else TASK)
    except InvalidInputError as exc:
        raise UsageError(in_flag_terms(str(exc))) from None


def read_response_format(path: str, mode: str) -> ResponseFormat:
    """The output format in the JSON file at `path`, for an analysis in `mode`, checked.

    The file holds a JSON schema (an object) for a general analysis, or segment definitions
    (a list) for a time_based_metadata one; a whole `response_format` object as the API takes
    it (`{"type": "json_schema", "json_schema": {...}}`) is accepted too.
    """
    flag = f"--response-format {path}"
    try:
        text = Path(path).read_text("utf-8")
    except OSError as exc:
        raise UsageError(f"{flag}: cannot read it: {exc.strerror or exc}") from None
    except UnicodeDecodeError:
        raise UsageError(f"{flag}: it is not UTF-8 text") from None
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise UsageError(
            f"{flag} is not JSON: {exc.msg} at line {exc.lineno}, column {exc.colno}"
        ) from None
    fmt: dict[str, Any]
    if isinstance(data, list):
        fmt = {"type": "segment_definitions", "segment_definitions": data}
    elif isinstance(data, dict) and data.keys() & {"json_schema", "segment_definitions"}:
        fmt = data  # a whole response_format object
    elif isinstance(data, dict):
        fmt = {"type": "json_schema", "json_schema": data}
    else:
        raise UsageError(
            f"{flag} must hold a JSON schema (an object) or segment definitions (a list)"
        )
    kind = fmt.get("type")
    if mode == TIME_BASED and kind == "json_schema":
        raise UsageError(
            f"{flag} holds a JSON schema, but --analysis-mode time_based_metadata takes "
            "segment definitions (a JSON list)"
        )
    if mode != TIME_BASED and kind == "segment_definitions":
        raise UsageError(
            f"{flag} holds segment definitions: pass --analysis-mode time_based_metadata too"
        )
    try:
        return check_response_format(fmt, mode=mode, sync=False)
    except InvalidInputError as exc:
        raise UsageError(f"{flag}: {in_flag_terms(str(exc))}") from None
