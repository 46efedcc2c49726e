"""The one cattrs converter that knows the wire format.

Built by `make_converter()`: RFC 3339 datetimes (always timezone-aware), open enums (an unknown
value is kept as its string), unknown keys ignored, `None` fields left out of request bodies,
and fields renamed where the wire's key is no Python name (`_id`, marked with `wire_name`).
`structure()` uses a fast converter and, only when that fails, re-runs a detailed one to
report the JSON path of the problem as a `DecodeError`. `unstructure_response()` uses the
`keep_nulls` preset, which writes the fields a model marks `always_sent` even when null, as
the API's responses do: the simulator renders with it.
"""

from __future__ import annotations

import types
import typing
from array import array
from collections.abc import Mapping
from datetime import UTC, datetime
from enum import Enum
from typing import Any, TypeVar

import attrs
import cattrs
import cattrs.cols
from cattrs.gen import make_dict_structure_fn, make_dict_unstructure_fn, override

from ._models.common import ALWAYS_SENT, WIRE_NAME
from ._models.embed import (
    EmbeddingMetadata,
    EmbeddingVector,
    FileEmbeddingMetadata,
    MediaEmbeddingMetadata,
)
from ._untrusted import shown
from .errors import DecodeError

T = TypeVar("T")

_PRIMITIVES = (str, int, float, bool)


def parse_datetime(value: Any) -> datetime:
    """An RFC 3339 string (or a datetime) as a timezone-aware datetime (UTC when none is given).

    Raises:
        TypeError: `value` is neither a string nor a datetime.
        ValueError: the string is not a date and time.
    """
    if isinstance(value, datetime):
        parsed = value
    elif isinstance(value, str):
        parsed = datetime.fromisoformat(value)
    else:
        raise TypeError(f"expected an RFC 3339 string, got {type(value).__name__}")
    return parsed if parsed.tzinfo is not None else parsed.replace(tzinfo=UTC)


def _format_datetime(value: datetime) -> str:
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.isoformat().replace("+00:00", "Z")


def _union_members(tp: Any) -> tuple[Any, ...]:
    if typing.get_origin(tp) in (typing.Union, types.UnionType):
        return typing.get_args(tp)
    return ()


def _is_open_enum(tp: Any) -> bool:
    members = [m for m in _union_members(tp) if m is not type(None)]
    return (
        len(members) == 2
        and str in members
        and any(isinstance(m, type) and issubclass(m, Enum) for m in members)
    )


def _open_enum_hook(tp: Any) -> Any:
    members = _union_members(tp)
    enum_cls = next(m for m in members if isinstance(m, type) and issubclass(m, Enum))
    optional = type(None) in members
    by_value = {member.value: member for member in enum_cls}

    def structure(value: Any, _: Any) -> Any:
        if value is None and optional:
            return None
        if not isinstance(value, str):
            raise TypeError(f"expected a string, got {type(value).__name__}")
        return by_value.get(value, value)

    return structure


def _is_primitive_union(tp: Any) -> bool:
    members = [m for m in _union_members(tp) if m is not type(None)]
    return len(members) > 1 and all(m in _PRIMITIVES for m in members)


def _primitive_union_hook(tp: Any) -> Any:
    members = _union_members(tp)
    allowed = tuple(m for m in members if m is not type(None))
    optional = type(None) in members
    # JSON has no int/float distinction worth failing on: accept an int where a float is allowed.
    accepts_int_as_float = float in allowed

    def structure(value: Any, _: Any) -> Any:
        if value is None and optional:
            return None
        if isinstance(value, bool) and bool not in allowed:
            raise TypeError(f"expected one of {_names(allowed)}, got bool")
        if isinstance(value, allowed) or (accepts_int_as_float and isinstance(value, int)):
            return value
        raise TypeError(f"expected one of {_names(allowed)}, got {type(value).__name__}")

    return structure


def _names(types_: tuple[Any, ...]) -> str:
    return ", ".join(t.__name__ for t in types_)


def _strict_primitive(kind: type) -> Any:
    def structure(value: Any, _: Any) -> Any:
        if isinstance(value, bool) and kind is not bool:
            raise TypeError(f"expected {kind.__name__}, got bool")
        if kind is float and isinstance(value, int):
            return float(value)
        if not isinstance(value, kind):
            raise TypeError(f"expected {kind.__name__}, got {type(value).__name__}")
        return value

    return structure


def _is_homogeneous_tuple(tp: Any) -> bool:
    args = typing.get_args(tp)
    return typing.get_origin(tp) is tuple and len(args) == 2 and args[1] is Ellipsis


def _array_hook(tp: Any, converter: cattrs.Converter) -> Any:
    # cattrs would take any iterable (a string, an object's keys): a JSON array is required.
    elements = cattrs.cols.homogenous_tuple_structure_factory(tp, converter)

    def structure(value: Any, _: Any) -> Any:
        if not isinstance(value, list | tuple):
            raise TypeError(f"expected an array, got {_json_kind(value)}")
        return elements(value, tp)

    return structure


def _vector(value: Any, _: Any) -> EmbeddingVector:
    # One `array('d')` per vector, filled straight from the decoded list (which is then
    # dropped): exact, and 8 bytes a number instead of a float object each.
    if not isinstance(value, list | tuple):
        raise TypeError(f"expected an array of numbers, got {_json_kind(value)}")
    try:
        return EmbeddingVector._adopt(array("d", value))
    except TypeError:
        raise TypeError("expected an array of numbers") from None


_MEDIA_INPUTS = frozenset({"video", "audio"})


def _metadata_hook(converter: cattrs.Converter) -> Any:
    # A union on `input_type`: video and audio carry the required durations; image, document,
    # a just-created task (no `input_type`) and any type added later decode as a file's.
    def structure(value: Any, tp: Any) -> Any:
        if value is None and type(None) in _union_members(tp):
            return None
        if not isinstance(value, Mapping):
            raise TypeError(f"expected an object, got {_json_kind(value)}")
        media = value.get("input_type") in _MEDIA_INPUTS
        cls = MediaEmbeddingMetadata if media else FileEmbeddingMetadata
        return converter.structure(value, cls)

    return structure


def make_converter(*, detailed: bool = False, keep_nulls: bool = False) -> cattrs.Converter:
    """Build a converter for the TwelveLabs wire format.

    Args:
        detailed: collect every error with its JSON path (slower; used to explain a failure).
        keep_nulls: write the fields marked `always_sent` (e.g. `custom_id`) as null when
            unset, as the API's responses do: the preset the simulator renders with. Other
            unset fields are left out either way.
    """
    converter = cattrs.Converter(detailed_validation=detailed, forbid_extra_keys=False)
    for kind in _PRIMITIVES:
        converter.register_structure_hook(kind, _strict_primitive(kind))
    converter.register_structure_hook(datetime, lambda value, _: parse_datetime(value))
    converter.register_unstructure_hook(datetime, _format_datetime)
    converter.register_structure_hook(Any, lambda value, _: value)
    converter.register_structure_hook_factory(_is_open_enum, _open_enum_hook)
    converter.register_structure_hook_factory(_is_primitive_union, _primitive_union_hook)
    converter.register_structure_hook_func(
        lambda tp: tp == Mapping[str, Any], lambda value, _: _expect_mapping(value)
    )
    converter.register_structure_hook_factory(
        _is_homogeneous_tuple, lambda tp: _array_hook(tp, converter)
    )
    converter.register_structure_hook_factory(
        _has_wire_names, lambda cls: _renaming_structure_fn(cls, converter)
    )
    converter.register_unstructure_hook_factory(
        attrs.has, lambda cls: _omit_none_unstructure_fn(cls, converter, keep_nulls)
    )
    converter.register_unstructure_hook(Enum, lambda member: member.value)
    converter.register_structure_hook(EmbeddingVector, _vector)
    converter.register_unstructure_hook(EmbeddingVector, lambda vector: vector.tolist())
    metadata = _metadata_hook(converter)
    converter.register_structure_hook_func(
        lambda tp: tp in (EmbeddingMetadata, EmbeddingMetadata | None), metadata
    )
    return converter


def _has_wire_names(cls: Any) -> bool:
    return attrs.has(cls) and any(WIRE_NAME in a.metadata for a in attrs.fields(cls))


def _renames(cls: Any) -> dict[str, str]:
    """Field name to wire key, for the fields whose key on the wire is another (`wire_name`)."""
    return {a.name: a.metadata[WIRE_NAME] for a in attrs.fields(cls) if WIRE_NAME in a.metadata}


def _renaming_structure_fn(cls: Any, converter: cattrs.Converter) -> Any:
    renames = {name: override(rename=key) for name, key in _renames(cls).items()}
    return make_dict_structure_fn(cls, converter, **renames)  # type: ignore[arg-type]


def _omit_none_unstructure_fn(cls: Any, converter: cattrs.Converter, keep_nulls: bool) -> Any:
    # Unset optional fields (None, or an empty collection) are left out of request bodies;
    # fixed tags (`init=False`, such as a video's `type`) and scalar defaults the API requires
    # (`MediaSource.media_type = "image"`) are always written, and with `keep_nulls` so are
    # the fields the model marks `always_sent`.
    renames = _renames(cls)
    keep = {
        a.name: override(omit_if_default=False, rename=renames.get(a.name))
        for a in attrs.fields(cls)
        if not a.init
        or isinstance(a.default, str | int | float)
        or (keep_nulls and a.metadata.get(ALWAYS_SENT, False))
        or a.name in renames
    }
    return make_dict_unstructure_fn(
        cls,
        converter,
        _cattrs_omit_if_default=True,
        _cattrs_include_init_false=True,
        **keep,  # type: ignore[arg-type]
    )


def _expect_mapping(value: Any) -> Mapping[str, Any]:
    if not isinstance(value, Mapping):
        raise TypeError(f"expected an object, got {type(value).__name__}")
    return value


_FAST = make_converter()
_DETAILED = make_converter(detailed=True)
_RESPONSES = make_converter(keep_nulls=True)


def structure(data: Any, cls: type[T], *, status_code: int | None = None) -> T:
    """Decode JSON data into `cls`, or raise `DecodeError` naming the JSON path at fault.

    Nothing else escapes: whatever goes wrong inside cattrs, while structuring or while
    explaining why structuring failed (a `RecursionError`, say), is a `DecodeError`, whose
    message quotes the data only cut short and escaped.
    """
    if attrs.has(cls) and not isinstance(data, Mapping):
        raise DecodeError(
            f"unexpected response body for {cls.__name__}: expected a JSON object, "
            f"got {_json_kind(data)}",
            status_code=status_code,
        )
    try:
        return _FAST.structure(data, cls)
    except Exception:  # any failure is re-run below to find its path
        pass
    problem, path = _explain(data, cls)
    raise DecodeError(
        f"unexpected response body for {cls.__name__}: {shown(problem)}",
        path=path,
        status_code=status_code,
    )


def _explain(data: Any, cls: type[Any]) -> tuple[str, str]:
    """What is wrong with `data` as a `cls`, and the JSON path of it (`$` when unknown)."""
    try:
        _DETAILED.structure(data, cls)
    except cattrs.BaseValidationError as exc:
        try:
            messages = cattrs.transform_error(exc, path="$")
        except Exception as failure:  # explaining failed as well: say what is known
            return f"{exc} ({type(failure).__name__} while locating the problem)", "$"
        first = messages[0] if messages else str(exc)
        return first, first.rsplit(" @ ", 1)[-1] if " @ " in first else "$"
    except Exception as exc:  # not a validation error: a RecursionError, say
        return f"{type(exc).__name__}: {exc}", "$"
    return "it does not fit", "$"  # pragma: no cover - the fast and detailed converters disagree


def _json_kind(data: Any) -> str:
    kinds = {list: "an array", str: "a string", bool: "a boolean", type(None): "null"}
    return kinds.get(type(data), "a number")


def unstructure(value: Any) -> Any:
    """Encode a model (or a mapping/sequence of them) as JSON-ready data, leaving out Nones."""
    return _FAST.unstructure(value)


def unstructure_response(value: Any) -> Any:
    """Encode a model as the API's responses write it (the simulator renders with this).

    As `unstructure`, but the fields the model marks `always_sent` are written, as null when
    unset.
    """
    return _RESPONSES.unstructure(value)
