"""Models shared by every part of the API: pages, errors, token usage, generated output."""

from __future__ import annotations

from enum import StrEnum
from typing import Any, Literal

import attrs

from .._untrusted import shown
from ..errors import ResultNotReadyError

ALWAYS_SENT = "always_sent"
"""Field metadata: the API's responses carry this field even when it is null."""


WIRE_NAME = "wire_name"
"""Field metadata: the key this field has on the wire, when it is not the field's name."""


def wire_name(name: str) -> Any:
    """A required field that the wire names `name` (`_id` for an asset's `asset_id`, say)."""
    return attrs.field(metadata={WIRE_NAME: name})


def always_sent() -> Any:
    """An optional field (None by default) that responses always carry, as null when unset.

    Request bodies leave it out when None, like any unset field; the response preset of the
    converter (`_convert.unstructure_response`, used by the simulator) writes the null.
    """
    return attrs.field(default=None, metadata={ALWAYS_SENT: True})


class AnalysisMode(StrEnum):
    """What an analysis task produces: free text (`general`) or segments (`time_based_metadata`)."""

    GENERAL = "general"
    TIME_BASED_METADATA = "time_based_metadata"


AnalysisModeValue = Literal["general", "time_based_metadata"]
"""The values of `AnalysisMode` as literal strings: what `analysis_mode=` takes besides a member.

Parameters are typed `AnalysisMode | AnalysisModeValue`, so a type checker refuses a typo
(`"segments"`); the library refuses one at run time as well (`InvalidInputError`). What the
API sends back stays open (`AnalysisMode | str`).
"""


class FinishReason(StrEnum):
    """Why generation stopped: `stop` (complete) or `length` (cut off at the token limit)."""

    STOP = "stop"
    LENGTH = "length"


@attrs.frozen
class TokenUsage:
    """Tokens used by a generation."""

    output_tokens: int
    input_tokens: int | None = None


@attrs.frozen
class TaskError:
    """Why a task failed or was canceled, or a warning on a `ready` task (e.g. truncation).

    Match on `code`; the `message` text is not part of the API's contract.
    """

    message: str
    code: str | None = None


@attrs.frozen
class AnalyzeTaskResult:
    """The output of a `ready` task.

    `data` is plain text, or a JSON string for `json_schema` and segmentation output: see
    `parse_json` and `parse_segments`.
    """

    generation_id: str
    data: str
    finish_reason: FinishReason | str
    usage: TokenUsage


@attrs.frozen
class WebhookDelivery:
    """How delivery of this task's webhook to one endpoint went."""

    url: str
    delivered: bool
    attempts: int
    last_error: str | None = None


@attrs.frozen
class PageInfo:
    """Where a page sits in a paginated list."""

    limit_per_page: int | None = None
    page: int | None = None
    total_page: int | None = None
    total_results: int | None = None


def ready_result_of(
    result: AnalyzeTaskResult | None,
    status: str,
    error: TaskError | None,
    *,
    what: str,
    task_id: str,
) -> AnalyzeTaskResult:
    """`result` when `status` is `ready` and it is set, else `ResultNotReadyError` saying why.

    `what` is the kind of object (`task`, `batch item`) and `task_id` its task, for the
    message; server text in it (the id, the status, the error) is shown escaped and cut short.
    """
    if status == "ready" and result is not None:
        return result
    where = f"{what} {shown(task_id, limit=64)}"
    if status == "ready":
        message = f"{where} is ready but the API sent no result with it; retrieve it again"
    elif status == "failed":
        reason = "" if error is None else f" ({_error_text(error)})"
        message = f"{where} failed{reason}: it has no result"
    elif status == "canceled":
        message = f"{where} was canceled: it has no result"
    else:
        message = (
            f"{where} is not ready (status '{shown(str(status), limit=64)}'): wait until it "
            "is (tasks.wait, or a tracker), and check its status before asking for its result"
        )
    raise ResultNotReadyError(message, task_id=task_id, status=str(status))


def _error_text(error: TaskError) -> str:
    code = f"{shown(error.code, limit=64)}: " if error.code else ""
    return code + shown(error.message)
