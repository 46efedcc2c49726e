"""Checks done before any request: safe ids, numbers, and bodies the API documents as invalid.

Pure functions; each failure is an `InvalidInputError` (a `ConfigurationError` for the client's
and the simulator's settings) that says what was wrong and what to do.
"""

from __future__ import annotations

import math
import re
import unicodedata
import uuid
from collections.abc import Mapping, Sequence
from typing import TypeVar, get_args
from urllib.parse import SplitResult, urlsplit

from ._convert import structure
from .errors import ConfigurationError, DecodeError, InvalidInputError, TwelveLabsError
from .models import (
    AnalysisModeValue,
    AssetVideo,
    Base64Video,
    ImageInput,
    MediaSource,
    PromptV2,
    ResponseFormat,
    SegmentDefinition,
    SegmentField,
    TimeFormat,
    UrlVideo,
)

T = TypeVar("T")

MAX_ID_LENGTH = 128
"""The longest id accepted (the API's are 24 characters; other shapes are kept for tests)."""
_ID = re.compile(rf"[A-Za-z0-9_-]{{1,{MAX_ID_LENGTH}}}")
_CUSTOM_ID = re.compile(r"[A-Za-z0-9_-]{1,64}")
_IMAGE_NAME = re.compile(r"[A-Za-z0-9_]+")
_PLACEHOLDER = re.compile(r"<@([A-Za-z0-9_]+)>")
_REJECTED_SCHEMA_KEYWORDS = frozenset(
    {"minLength", "maxLength", "additionalProperties", "uniqueItems", "maxItems"}
)
_NAMED_SUBSCHEMAS = frozenset({"properties", "$defs", "definitions"})
_RESERVED_FIELD_NAMES = frozenset({"start_time", "end_time", "metadata"})
_TIME_FORMATS = frozenset(get_args(TimeFormat))
TIME_BASED = "time_based_metadata"
ANALYSIS_MODES = frozenset(get_args(AnalysisModeValue))
"""The analysis modes the API takes: `general` and `time_based_metadata`."""


def path_id(value: object, what: str = "task_id") -> str:
    """Validate an id and return it, ready to be one URL path segment as it is.

    An id is 1-128 characters of `A-Z a-z 0-9 _ -` (what the API's ids look like: task and
    batch ids are 24 hex digits). Nothing else passes, so what goes on the wire is exactly what
    was checked and needs no quoting: no `/`, `.`, `;`, `%`, `?` or `#` can reach a proxy or
    server that would read the path differently. The error names the argument and shows the
    value, escaped and cut short.
    """
    if not isinstance(value, str):
        raise InvalidInputError(f"{what} must be a string, got {type(value).__name__}")
    if not value:
        raise InvalidInputError(f"{what} is empty; pass the id the API returned")
    if _ID.fullmatch(value):
        return value
    if len(value) > MAX_ID_LENGTH:
        problem = f"it is {len(value)} characters long, more than {MAX_ID_LENGTH}"
    elif value in (".", "..") or "/" in value or "\\" in value:
        problem = "it contains a path part"
    elif any(c.isspace() or unicodedata.category(c).startswith("C") for c in value):
        problem = "it contains whitespace or a control character; strip the value you read it from"
    else:
        problem = "ids are 1-128 characters from A-Z, a-z, 0-9, '_' and '-'"
    raise InvalidInputError(f"{what} {shown(value)} is not a valid id: {problem}")


def check_analysis_mode(value: object, what: str = "analysis_mode") -> str:
    """`general` or `time_based_metadata` (an `AnalysisMode` member or its value), as a string.

    The API answers any other mode with 400; a typo (`"segments"`) is refused here instead,
    naming `what` and the value, escaped and cut short.
    """
    if isinstance(value, str) and value in ANALYSIS_MODES:
        return str(value)
    raise InvalidInputError(
        f"{what} {shown(value)} is not an analysis mode: use 'general' (text, the default) "
        "or 'time_based_metadata' (segments), or an AnalysisMode member"
    )


def check_custom_id(value: object) -> str:
    """A `custom_id` is 1-64 characters of letters, digits, `_` and `-`."""
    if not isinstance(value, str) or not _CUSTOM_ID.fullmatch(value):
        raise InvalidInputError(
            f"custom_id {value!r} is invalid: use 1-64 characters from A-Z, a-z, 0-9, '_' and '-'"
        )
    return value


def idempotency_header(key: str | None) -> dict[str, str]:
    """The `Idempotency-Key` header of a create: `key` (1-255 printable characters), else random.

    Sent with every try of the same request, so that a retried POST cannot create twice.
    """
    value = key if key is not None else uuid.uuid4().hex
    if not value or not value.isprintable() or len(value) > 255:
        raise InvalidInputError("idempotency_key must be 1-255 printable characters")
    return {"Idempotency-Key": value}


def check_http_url(value: str, what: str, *, https_only: bool = False) -> str:
    """A URL with an http(s) scheme and a host (https only when `https_only`)."""
    parts = urlsplit(value)
    schemes = ("https",) if https_only else ("http", "https")
    if parts.scheme not in schemes or not parts.netloc:
        wanted = "an https://" if https_only else "an http:// or https://"
        raise InvalidInputError(f"{what} {value!r} is not {wanted} URL")
    return value


def check_base_url(value: object, what: str = "base_url") -> str:
    """The client's API root: an http(s) URL with a host, a path at most; no trailing `/`.

    Every request URL is the root plus `/` and a path, so the root may hold nothing that would
    swallow that path or change where it goes: no query (`?`) and no fragment (`#`), no user
    name or password (sent as Basic auth, and printed by `repr`), a port from 1 to 65535 if
    any, and no whitespace or control characters. The message never shows a password.

    Raises:
        ConfigurationError: naming `what` (`base_url`, or the environment variable).
    """
    if not isinstance(value, str):
        raise ConfigurationError(f"{what} must be a string, got {type(value).__name__}")
    url = value.rstrip("/")
    # Everything from `//` to the last `@` may be user info: hidden, even if unparseable.
    safe = shown(re.sub(r"(?<=//)[\s\S]*@", "***@", url), limit=200)
    if not url.isprintable() or any(c.isspace() for c in url):
        problem = "it contains whitespace or control characters"
    else:
        try:
            parts = urlsplit(url)
            port = parts.port
        except ValueError:  # `http://[::1`, `http://h:99999`; its text may show a password
            problem = (
                "it is not a valid URL: check the host (an IPv6 address in [brackets]) and "
                "the port (1-65535)"
            )
        else:
            problem = _base_url_problem(url, parts, port)
    if problem:
        raise ConfigurationError(f"{what} {safe} is refused: {problem}")
    return url


def _base_url_problem(url: str, parts: SplitResult, port: int | None) -> str:
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return "it is not an http:// or https:// URL with a host"
    if parts.username is not None or parts.password is not None:
        return "it contains a user name or password; pass the API key as api_key= instead"
    if "?" in url or "#" in url:
        return "it contains a query (?) or a fragment (#), which would swallow the request path"
    if port == 0 or (parts.port is None and parts.netloc.endswith(":")):
        return "its port must be a number from 1 to 65535"
    return ""


def video_input(video: object) -> UrlVideo | AssetVideo | Base64Video:
    """Accept a URL string or a typed video input (`UrlVideo`, `AssetVideo`, `Base64Video`)."""
    if isinstance(video, str):
        return UrlVideo(check_http_url(video, "video"))
    if isinstance(video, UrlVideo):
        check_http_url(video.url, "video.url")
        return video
    if isinstance(video, AssetVideo | Base64Video):
        field = "asset_id" if isinstance(video, AssetVideo) else "base64_string"
        if not getattr(video, field):
            raise InvalidInputError(f"video.{field} is empty")
        return video
    raise InvalidInputError(
        "video must be a URL string, UrlVideo, AssetVideo or Base64Video, "
        f"got {type(video).__name__}"
    )


def as_model(value: object, cls: type[T], what: str) -> T:
    """Take an instance of `cls`, or a mapping in its wire shape, and return an instance."""
    if isinstance(value, cls):
        return value
    if isinstance(value, Mapping):
        try:
            return structure(value, cls)
        except DecodeError as exc:
            raise InvalidInputError(f"{what} is not valid: {exc.message}") from None
    raise InvalidInputError(f"{what} must be a {cls.__name__} or a mapping")


def _one_source(item: ImageInput | MediaSource, what: str) -> None:
    sources = [s for s in (item.url, item.asset_id, item.base64_string) if s]
    if len(sources) != 1:
        raise InvalidInputError(f"{what} needs exactly one of url, asset_id or base64_string")
    if item.url:
        check_http_url(item.url, f"{what}.url", https_only=True)


def check_images(images: Sequence[object], prompt: str | None) -> tuple[ImageInput, ...]:
    """1-20 uniquely named images, one source each, referenced by the prompt all or not at all."""
    items = tuple(as_model(img, ImageInput, f"image[{i}]") for i, img in enumerate(images))
    if not 1 <= len(items) <= 20:
        raise InvalidInputError(f"image takes 1-20 images, got {len(items)}")
    names = [img.name for img in items]
    for i, img in enumerate(items):
        if not _IMAGE_NAME.fullmatch(img.name):
            raise InvalidInputError(
                f"image[{i}].name {img.name!r} may contain only letters, digits and '_'"
            )
        _one_source(img, f"image[{i}]")
    if len(set(names)) != len(names):
        raise InvalidInputError("image names must be unique within the request")
    if not prompt:
        raise InvalidInputError("image requires prompt")
    referenced = set(_PLACEHOLDER.findall(prompt)) & set(names)
    if referenced and referenced != set(names):
        missing = ", ".join(sorted(set(names) - referenced))
        raise InvalidInputError(
            f"the prompt must reference all images as <@name> or none of them; missing: {missing}"
        )
    return items


def check_prompt_v2(value: object, what: str = "prompt_v2") -> PromptV2:
    """`input_text` plus at most four media sources, each with exactly one source.

    `what` is the name the caller knows the field by (a batch item calls it `prompt`).
    """
    prompt = as_model(value, PromptV2, what)
    if not prompt.input_text:
        raise InvalidInputError(f"{what}.input_text is empty")
    _check_media_sources(prompt.media_sources, f"{what}.media_sources")
    return prompt


def _check_media_sources(sources: Sequence[MediaSource], what: str) -> None:
    if len(sources) > 4:
        raise InvalidInputError(f"{what} takes at most 4 sources, got {len(sources)}")
    for i, source in enumerate(sources):
        _one_source(source, f"{what}[{i}]")


class UnsupportedSchemaKeyword(InvalidInputError):
    """A JSON-schema keyword the API answers with 422 (the simulator does the same).

    Callers see an `InvalidInputError`; the class only lets the simulator pick the status.
    """


def check_json_schema(schema: object, path: str = "json_schema") -> None:
    """Refuse the JSON-schema keywords the API rejects with 422, wherever they appear.

    Keys of `properties` and `$defs` are names, not keywords: a property may be called
    `maxItems`.
    """
    if isinstance(schema, Mapping):
        for key, value in schema.items():
            if key in _REJECTED_SCHEMA_KEYWORDS:
                raise UnsupportedSchemaKeyword(
                    f"{path}.{key}: the API does not support the {key!r} keyword; remove it"
                )
            if key in _NAMED_SUBSCHEMAS and isinstance(value, Mapping):
                for name, sub in value.items():
                    check_json_schema(sub, f"{path}.{key}.{name}")
            else:
                check_json_schema(value, f"{path}.{key}")
    elif isinstance(schema, list):
        for i, value in enumerate(schema):
            check_json_schema(value, f"{path}[{i}]")


def check_response_format(value: object, *, mode: str, sync: bool) -> ResponseFormat:
    """`json_schema` output, or (async, `time_based_metadata`) `segment_definitions`."""
    fmt = as_model(value, ResponseFormat, "response_format")
    if fmt.type == "json_schema":
        if not isinstance(fmt.json_schema, Mapping) or not fmt.json_schema:
            raise InvalidInputError("response_format of type json_schema needs json_schema")
        check_json_schema(fmt.json_schema)
        if fmt.segment_definitions or fmt.segment_time_format:
            raise InvalidInputError(
                "segment_definitions and segment_time_format need type segment_definitions"
            )
        if mode == TIME_BASED:
            raise InvalidInputError(
                "analysis_mode='time_based_metadata' needs response_format type "
                "'segment_definitions' (use ResponseFormat.segments(...))"
            )
        return fmt
    if sync:
        raise InvalidInputError(
            "generate() accepts only response_format type 'json_schema'; omit it for free text"
        )
    if fmt.type != "segment_definitions":
        raise InvalidInputError(
            f"response_format type {fmt.type!r} is unknown; use 'json_schema' or "
            "'segment_definitions'"
        )
    if mode != TIME_BASED:
        raise InvalidInputError(
            "segment_definitions output needs analysis_mode='time_based_metadata'"
        )
    if fmt.segment_time_format is not None and fmt.segment_time_format not in _TIME_FORMATS:
        raise InvalidInputError(
            f"segment_time_format must be one of {sorted(_TIME_FORMATS)}, "
            f"got {fmt.segment_time_format!r}"
        )
    definitions = fmt.segment_definitions or ()
    if not 1 <= len(definitions) <= 20:
        raise InvalidInputError(
            f"segment_definitions takes 1-20 definitions, got {len(definitions)}"
        )
    for i, definition in enumerate(definitions):
        _check_definition(definition, f"segment_definitions[{i}]")
    return fmt


def _check_definition(definition: SegmentDefinition, what: str) -> None:
    if not definition.id or not definition.description:
        raise InvalidInputError(f"{what} needs an id and a description")
    if len(definition.fields) > 20:
        raise InvalidInputError(f"{what}.fields takes at most 20 fields")
    for j, field in enumerate(definition.fields):
        _check_field(field, f"{what}.fields[{j}]")
    _check_media_sources(definition.media_sources, f"{what}.media_sources")
    for k, time_range in enumerate(definition.time_ranges):
        check_number(time_range.start_time, f"{what}.time_ranges[{k}].start_time")
        check_number(time_range.end_time, f"{what}.time_ranges[{k}].end_time")
    ranges = sorted(definition.time_ranges, key=lambda r: r.start_time)
    for k, time_range in enumerate(ranges):
        if time_range.start_time < 0 or time_range.end_time < time_range.start_time + 2:
            raise InvalidInputError(
                f"{what}.time_ranges: each range must start at >= 0 and last at least 2 s"
            )
        if k and time_range.start_time < ranges[k - 1].end_time:
            raise InvalidInputError(f"{what}.time_ranges must not overlap (they may touch)")


def _check_field(field: SegmentField, what: str) -> None:
    if field.name in _RESERVED_FIELD_NAMES:
        raise InvalidInputError(f"{what}.name {field.name!r} is reserved; choose another name")
    if field.type == "timestamp":
        if field.format not in _TIME_FORMATS:
            raise InvalidInputError(
                f"{what}: a timestamp field needs format in {sorted(_TIME_FORMATS)}"
            )
        if field.enum is not None:
            raise InvalidInputError(f"{what}: enum is not allowed on a timestamp field")
    elif field.format is not None:
        raise InvalidInputError(f"{what}: format is allowed only on a timestamp field")
    if field.enum is not None and len(field.enum) > 100:
        raise InvalidInputError(f"{what}.enum takes at most 100 values")
    if field.type in ("array", "time_array") and field.items is None:
        raise InvalidInputError(f"{what}: a field of type {field.type!r} needs items")
    if field.type == "time_array" and field.items is not None:
        if not field.items.fields:
            raise InvalidInputError(f"{what}.items needs at least one field")
        if any(sub.type == "time_array" for sub in field.items.fields):
            raise InvalidInputError(f"{what}.items cannot contain another time_array")


def shown(value: object, limit: int = 64) -> str:
    """`value` as a message may show it: escaped to ASCII (`ascii()`), cut to about `limit`.

    A long string is cut before it is escaped, and its length is given instead of the rest.
    """
    if isinstance(value, str) and len(value) > limit:
        return f"{value[:limit]!a}... ({len(value)} characters)"
    try:
        text = ascii(value)
    except ValueError:  # an int past Python's limit of digits for str()
        return f"<{type(value).__name__} too large to show>"
    return text if len(text) <= limit else f"{text[:limit]}..."


def is_number(value: object, *, integer: bool = False) -> bool:
    """A finite `int` or `float` (only an `int` when `integer`); a bool is not a number.

    NaN, the infinities and an int too large for a float are not finite numbers.
    """
    if isinstance(value, bool) or not isinstance(value, int if integer else int | float):
        return False
    try:
        return math.isfinite(value)
    except OverflowError:
        return False


def check_number(
    value: object,
    what: str,
    *,
    low: float | None = None,
    above: float | None = None,
    high: float | None = None,
    below: float | None = None,
    integer: bool = False,
    unit: str = "",
    hint: str = "",
    error: type[TwelveLabsError] = InvalidInputError,
) -> None:
    """`value` is a finite number (an int when `integer`) within the bounds given.

    `low` and `high` are inclusive bounds, `above` and `below` exclusive ones. NaN and the
    infinities are refused everywhere: an option that can mean "no limit" takes None for it.
    A failure raises `error` (`InvalidInputError` unless given) saying what was expected:
    `timeout must be a finite number of seconds >= 0, got nan; pass None for no deadline`
    (`unit` "seconds", `hint` the part after the semicolon).
    """
    if is_number(value, integer=integer):
        number: float = value  # type: ignore[assignment]
        if (
            (low is None or number >= low)
            and (above is None or number > above)
            and (high is None or number <= high)
            and (below is None or number < below)
        ):
            return
    kind = "an integer" if integer else "a number"
    if not integer and isinstance(value, float) and not math.isfinite(value):
        kind = "a finite number"
    if unit:
        kind += f" of {unit}"
    if low is not None and high is not None:
        bounds = [f"between {low:g} and {high:g}"]
    else:
        bounds = [
            f"{sign} {bound:g}"
            for sign, bound in ((">=", low), (">", above), ("<=", high), ("<", below))
            if bound is not None
        ]
    if isinstance(value, int) and not isinstance(value, bool) and not is_number(value):
        bounds.append("that fits a float")  # an int past 1.8e308: no time or rate is that long
    expected = f"{kind} {' and '.join(bounds)}".rstrip()
    raise error(f"{what} must be {expected}, got {shown(value)}" + (f"; {hint}" if hint else ""))


def check_range(value: float | None, what: str, low: float, high: float) -> None:
    """`value` is None or a finite number within [low, high] (`high` may be infinite)."""
    if value is None:
        return
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise InvalidInputError(f"{what} must be a number, got {type(value).__name__}")
    if not is_number(value) and low <= value <= high:
        raise InvalidInputError(f"{what} must be a finite number, got {shown(value)}")
    if not low <= value <= high:
        raise InvalidInputError(f"{what} must be between {low:g} and {high:g}, got {shown(value)}")


def check_window(start: float | None, end: float | None, *, max_window: float | None) -> None:
    """`start_time < end_time`, at least 1 s apart, and (async) at most `max_window` apart."""
    check_range(start, "start_time", 0, float("inf"))
    check_range(end, "end_time", 0, float("inf"))
    if start is not None and end is not None:
        if end - start < 1:
            raise InvalidInputError("end_time must be at least 1 s after start_time")
        if max_window is not None and end - start > max_window:
            raise InvalidInputError(
                f"the start_time/end_time window may be at most {max_window:g} s"
            )


def check_max_tokens(value: int | str | None, mode: str, has_time_ranges: bool) -> None:
    """general: 512-98,304; time_based_metadata: 2,048-98,304 or "unlimited"."""
    if value is None:
        return
    if value == "unlimited":
        if mode != TIME_BASED:
            raise InvalidInputError(
                "max_tokens='unlimited' needs analysis_mode='time_based_metadata'"
            )
        if has_time_ranges:
            raise InvalidInputError("max_tokens='unlimited' cannot be used with time_ranges")
        return
    if isinstance(value, bool) or not isinstance(value, int):
        raise InvalidInputError(f"max_tokens must be an integer or 'unlimited', got {value!r}")
    low = 2048 if mode == TIME_BASED else 512
    check_range(value, "max_tokens", low, 98_304)


MAX_SAFE_INTEGER = 2**53 - 1
"""The widest integer a JSON number carries exactly everywhere (JavaScript's safe range)."""


def check_user_metadata(value: object, what: str = "user_metadata") -> dict[str, object]:
    """An asset's metadata: an object of string keys to a string, number, bool or string list.

    These are the values the API documents. Refused: a key that is not a non-empty string; a
    null, an object or a list holding anything but strings; NaN and the infinities; an integer
    wider than 53 bits (the API asks for those as strings, which keep every digit). Returns a
    plain dict, lists as lists, ready for `json.dumps`.
    """
    if not isinstance(value, Mapping):
        raise InvalidInputError(
            f"{what} must be a mapping of names to values, got {type(value).__name__}"
        )
    out: dict[str, object] = {}
    for key, item in value.items():
        if not isinstance(key, str) or not key:
            raise InvalidInputError(f"{what} keys must be non-empty strings, got {shown(key)}")
        where = f"{what}[{key!r}]"
        if isinstance(item, str | bool):
            out[key] = item
        elif isinstance(item, int):
            if abs(item) > MAX_SAFE_INTEGER:
                raise InvalidInputError(
                    f"{where} is wider than 53 bits; send it as a string to keep every digit"
                )
            out[key] = item
        elif isinstance(item, float):
            check_number(item, where)
            out[key] = item
        elif isinstance(item, list | tuple) and all(isinstance(v, str) for v in item):
            out[key] = list(item)
        else:
            raise InvalidInputError(
                f"{where} must be a string, a number, a bool or a list of strings, "
                f"got {type(item).__name__}"
            )
    return out
