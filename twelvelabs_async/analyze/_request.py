"""The analysis request: every parameter of `POST /analyze/tasks`, in one model.

`AnalysisRequest` is what `generate`, `stream` and `tasks.create` build from their keyword
arguments, what a batch item becomes, and what the simulator reads a body into. It knows no
HTTP and holds the values as given; `_body.validated` checks them and returns the request
normalized (typed models, plain strings), which the converter writes as the JSON body.

Each field's metadata says where it applies, and every key set is derived from it:

- `async_only`: `POST /analyze` does not take it (`SYNC_KEYS` leaves it out);
- `per_batch`: a batch sets it once, for every item (`PER_BATCH_KEYS`);
- `batch`: what a batch item calls it, or None where items have no such field
  (`BATCH_ITEM_NAMES`; the item and default keys are `BatchRequest`'s and `BatchDefaults`'
  own fields).

A `Route` is where a request is validated: `SYNC`, `TASK`, or `batch_item(i)`. It carries the
names the route's callers use, so that messages are written in their words.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from types import MappingProxyType
from typing import Any

import attrs

from ..models import (
    AnalysisMode,
    BatchDefaults,
    BatchRequest,
    ImageInput,
    PromptV2,
    ResponseFormat,
    VideoInput,
)

_ASYNC_ONLY = "async_only"
_PER_BATCH = "per_batch"
_BATCH = "batch"


def _applies(
    *, async_only: bool = False, per_batch: bool = False, batch: str | None = ""
) -> dict[str, Any]:
    """The metadata of a request field that does not apply everywhere under its own name.

    Args:
        async_only: only `POST /analyze/tasks` takes it.
        per_batch: a batch sets it for all its items; items and defaults cannot.
        batch: what a batch item calls it ("" for its own name), None when items have none.
    """
    return {_ASYNC_ONLY: async_only, _PER_BATCH: per_batch, _BATCH: batch}


@attrs.frozen(kw_only=True)
class AnalysisRequest:
    """The parameters of one analysis, as `POST /analyze/tasks` takes them (all optional).

    Field order is the order of the JSON body. Values are as the caller gave them (a URL
    string for `video`, mappings for models) until `_body.validated` normalizes them.
    """

    model_name: str | None = attrs.field(default=None, metadata=_applies(per_batch=True))
    video: str | VideoInput | None = None
    prompt: str | None = attrs.field(default=None, metadata=_applies(batch=None))
    image: Sequence[ImageInput | Mapping[str, Any]] | None = attrs.field(
        default=None, metadata=_applies(batch=None)
    )
    prompt_v2: PromptV2 | Mapping[str, Any] | None = attrs.field(
        default=None, metadata=_applies(batch="prompt")
    )
    analysis_mode: AnalysisMode | str | None = attrs.field(
        default=None, metadata=_applies(async_only=True, per_batch=True)
    )
    response_format: ResponseFormat | Mapping[str, Any] | None = None
    temperature: float | None = None
    max_tokens: int | str | None = None
    min_segment_duration: float | None = attrs.field(
        default=None, metadata=_applies(async_only=True)
    )
    max_segment_duration: float | None = attrs.field(
        default=None, metadata=_applies(async_only=True)
    )
    start_time: float | None = None
    end_time: float | None = None
    custom_id: str | None = attrs.field(default=None, metadata=_applies(async_only=True))


_FIELDS = attrs.fields(AnalysisRequest)
BATCH_ITEM_KEYS = frozenset(a.name for a in attrs.fields(BatchRequest))
"""The keys a batch item may set: `BatchRequest`'s fields."""
BATCH_DEFAULT_KEYS = frozenset(a.name for a in attrs.fields(BatchDefaults))
"""The keys batch defaults may set: `BatchDefaults`' fields."""


def _async_only(field: attrs.Attribute[Any]) -> bool:
    return bool(field.metadata.get(_ASYNC_ONLY, False))


def _per_batch(field: attrs.Attribute[Any]) -> bool:
    return bool(field.metadata.get(_PER_BATCH, False))


def _batch_name(field: attrs.Attribute[Any]) -> str | None:
    name: str | None = field.metadata.get(_BATCH, "")
    return field.name if name == "" else name


BATCH_ITEM_NAMES: Mapping[str, str] = MappingProxyType(
    {a.name: name for a in _FIELDS if not _per_batch(a) and (name := _batch_name(a)) is not None}
)
"""Request field to the `BatchRequest` field that sets it (a batch `prompt` is `prompt_v2`)."""
PER_BATCH_KEYS = frozenset(a.name for a in _FIELDS if _per_batch(a))
"""The fields a batch sets once for all items (`model_name`, `analysis_mode`)."""


@attrs.frozen(kw_only=True)
class Route:
    """Where a request is validated: the route's rules and what its callers call each field.

    Attributes:
        sync: `POST /analyze` rules (integer `max_tokens` 1-98,304, `json_schema` output
            only, no limit on the window); else `POST /analyze/tasks` rules.
        names: the fields the route takes, each with the name its callers use for it.
        batch: a batch item: its `custom_id` and integer `max_tokens` are checked first.
        where: the place of the request in a larger body (e.g. `requests[3]`), put in front
            of every message.
    """

    sync: bool
    names: Mapping[str, str]
    batch: bool = False
    where: str = ""

    @property
    def keys(self) -> frozenset[str]:
        """The keys a body sent to this route may hold."""
        return frozenset(self.names.values())

    def name(self, field: str) -> str:
        """What the route's callers call `field`."""
        return self.names.get(field, field)

    def alternatives(self, *fields: str) -> list[str]:
        """The names of those of `fields` the route takes, in order (a batch has one prompt)."""
        return [self.names[f] for f in fields if f in self.names]


def _names(fields: Sequence[str]) -> Mapping[str, str]:
    return MappingProxyType({name: name for name in fields})


TASK = Route(sync=False, names=_names([a.name for a in _FIELDS]))
"""`POST /analyze/tasks` (`tasks.create`)."""
SYNC = Route(sync=True, names=_names([a.name for a in _FIELDS if not _async_only(a)]))
"""`POST /analyze` (`generate`, `stream`)."""
_BATCH_NAMES = MappingProxyType({**_names(sorted(PER_BATCH_KEYS)), **BATCH_ITEM_NAMES})

TASK_KEYS = TASK.keys
"""The keys of a `POST /analyze/tasks` body."""
SYNC_KEYS = SYNC.keys | {"stream"}
"""The keys of a `POST /analyze` body: the request's, but for the async-only ones, and `stream`."""


def batch_item(index: int) -> Route:
    """The route of the `index`-th item of a batch: its names, and `requests[index]` in front."""
    return Route(sync=False, names=_BATCH_NAMES, batch=True, where=f"requests[{index}]")
