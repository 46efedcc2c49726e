"""The arguments of the index endpoints, checked before any request and put in wire form."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import UTC, datetime

from .._validate import check_number, check_user_metadata, shown
from ..errors import InvalidInputError
from ..models import IndexModel, Range

MODEL_OPTIONS = ("visual", "audio")
"""What a Marengo model analyzes (the API documents these two and no others)."""
EMBEDDING_OPTIONS = ("visual", "audio", "transcription", "visual-text")
SORT_BY = ("created_at", "updated_at")
SORT_OPTIONS = ("desc", "asc")
MODEL_FAMILIES = ("marengo", "pegasus")
RANGES = ("duration", "fps", "width", "height", "size")


def one_of(value: object, what: str, allowed: tuple[str, ...]) -> str:
    """`value` when it is one of `allowed`, else `InvalidInputError` listing them."""
    if value not in allowed:
        choices = ", ".join(repr(a) for a in allowed)
        raise InvalidInputError(f"{what} must be one of {choices}, got {shown(value)}")
    return str(value)


def strings(value: str | Iterable[str] | None, what: str) -> list[str]:
    """One string or several, as a list of non-empty strings (`[]` for None)."""
    if value is None:
        return []
    if not isinstance(value, str | Iterable):
        raise InvalidInputError(
            f"{what} must be a string or a list of strings, got {type(value).__name__}"
        )
    items = [value] if isinstance(value, str) else list(value)
    for item in items:
        if not isinstance(item, str) or not item:
            raise InvalidInputError(f"{what} must hold non-empty strings, got {shown(item)}")
    return items


def index_name(value: object) -> str:
    """A name an index can take: a non-empty string, not only spaces, printable."""
    if not isinstance(value, str) or not value.strip():
        raise InvalidInputError(f"index_name must be a non-empty string, got {shown(value)}")
    if not value.isprintable():
        raise InvalidInputError(f"index_name {shown(value)} contains a control character")
    return value


def models_body(models: object) -> list[dict[str, object]]:
    """The `models` of `POST /indexes`: at least one, each with its options checked.

    The model name is kept open (a name this library does not know is sent as given); the
    options of a Marengo model must be `visual` and/or `audio`, as the API documents.
    """
    if isinstance(models, Mapping):
        given = [IndexModel(name, _options_tuple(opts, name)) for name, opts in models.items()]
    elif isinstance(models, Iterable) and not isinstance(models, str | bytes):
        given = list(models)
    else:
        raise InvalidInputError(
            'models must be a mapping such as {"marengo3.0": ["visual", "audio"]} or a list '
            f"of IndexModel, got {type(models).__name__}"
        )
    if not given:
        raise InvalidInputError(
            'models is empty: an index needs a model, e.g. {"marengo3.0": ["visual", "audio"]}'
        )
    body: list[dict[str, object]] = []
    names: set[str] = set()
    for model in given:
        if not isinstance(model, IndexModel):
            raise InvalidInputError(f"models must hold IndexModel, got {type(model).__name__}")
        name = model.model_name
        if not isinstance(name, str) or not name.strip():
            raise InvalidInputError(f"model_name must be a non-empty string, got {shown(name)}")
        if name in names:
            raise InvalidInputError(f"model {shown(name)} is given twice")
        names.add(name)
        options = list(model.model_options or ())
        if not options:
            raise InvalidInputError(
                f"model {shown(name)} has no model_options: pass 'visual', 'audio' or both"
            )
        if len(set(options)) != len(options):
            raise InvalidInputError(f"model {shown(name)} repeats a model option: {options}")
        if name.startswith("marengo"):
            for option in options:
                one_of(option, f"a model option of {name}", MODEL_OPTIONS)
        body.append({"model_name": name, "model_options": options})
    return body


def _options_tuple(options: object, name: object) -> tuple[str, ...]:
    if isinstance(options, str) or not isinstance(options, Iterable):
        raise InvalidInputError(
            f"the options of model {shown(name)} must be a list such as ['visual', 'audio'], "
            f"got {shown(options)}"
        )
    return tuple(options)


def timestamp(value: str | datetime | None, what: str) -> list[tuple[str, str]]:
    """A date filter: a datetime (a naive one is taken as UTC) or an RFC 3339 string."""
    if value is None:
        return []
    if isinstance(value, datetime):
        moment = value if value.tzinfo is not None else value.replace(tzinfo=UTC)
        return [(what, moment.isoformat().replace("+00:00", "Z"))]
    if not isinstance(value, str):
        raise InvalidInputError(
            f"{what} must be a datetime or an RFC 3339 string, got {type(value).__name__}"
        )
    try:
        datetime.fromisoformat(value)
    except ValueError:
        raise InvalidInputError(
            f"{what} {shown(value)} is not an RFC 3339 date and time (e.g. 2026-01-31T00:00:00Z)"
        ) from None
    return [(what, value)]


def _number_text(value: float) -> str:
    return str(int(value)) if isinstance(value, float) and value.is_integer() else str(value)


def range_filter(value: Range | None, what: str) -> list[tuple[str, str]]:
    """`what[gte]` and `what[lte]` of a range filter, each bound a finite number >= 0."""
    if value is None:
        return []
    if not isinstance(value, Range):
        raise InvalidInputError(
            f"{what} must be a Range, e.g. Range(gte=60), got {type(value).__name__}"
        )
    if value.gte is None and value.lte is None:
        raise InvalidInputError(f"{what} is a Range with no bound: set gte, lte or both")
    params = []
    for bound in ("gte", "lte"):
        number = getattr(value, bound)
        if number is not None:
            check_number(number, f"{what}.{bound}", low=0)
            params.append((f"{what}[{bound}]", _number_text(number)))
    if value.gte is not None and value.lte is not None and value.gte > value.lte:
        raise InvalidInputError(f"{what} is empty: gte {value.gte:g} is above lte {value.lte:g}")
    return params


def metadata_filter(value: Mapping[str, object] | None) -> list[tuple[str, str]]:
    """`user_metadata[key]=value` pairs: keys without brackets, values strings, numbers, bools."""
    if value is None:
        return []
    if not isinstance(value, Mapping):
        raise InvalidInputError(
            f"user_metadata must be a mapping of names to values, got {type(value).__name__}"
        )
    params = []
    for key, item in value.items():
        if not isinstance(key, str) or not key or "[" in key or "]" in key:
            raise InvalidInputError(
                f"user_metadata keys must be non-empty strings without brackets, got {shown(key)}"
            )
        if isinstance(item, bool):
            text = "true" if item else "false"
        elif isinstance(item, str):
            text = item
        elif isinstance(item, int | float):
            check_number(item, f"user_metadata[{key!r}]")
            text = _number_text(item)
        else:
            raise InvalidInputError(
                f"user_metadata[{key!r}] must be a string, a number or a bool to filter by, "
                f"got {type(item).__name__}"
            )
        params.append((f"user_metadata[{key}]", text))
    return params


def metadata_update(value: object) -> dict[str, object]:
    """The `user_metadata` of a PATCH: as an asset's metadata, where None deletes a key."""
    if not isinstance(value, Mapping):
        raise InvalidInputError(
            f"user_metadata must be a mapping of names to values, got {type(value).__name__}"
        )
    for key in value:
        if not isinstance(key, str) or not key:
            raise InvalidInputError(
                f"user_metadata keys must be non-empty strings, got {shown(key)}"
            )
    kept = check_user_metadata({k: v for k, v in value.items() if v is not None})
    return {key: kept.get(key) for key in value}


def flag(value: object, what: str) -> bool:
    """A bool argument (a truthy string would hide a mistake)."""
    if not isinstance(value, bool):
        raise InvalidInputError(f"{what} must be True or False, got {shown(value)}")
    return value


def sorting(sort_by: object, sort_option: object) -> list[tuple[str, str]]:
    """`sort_by` and `sort_option`, each checked; nothing for None (the API's defaults)."""
    params = []
    if sort_by is not None:
        params.append(("sort_by", one_of(sort_by, "sort_by", SORT_BY)))
    if sort_option is not None:
        params.append(("sort_option", one_of(sort_option, "sort_option", SORT_OPTIONS)))
    return params
