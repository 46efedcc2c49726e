"""Models shared by every part of the API: pages, errors, token usage, generated output."""

from __future__ import annotations

from enum import StrEnum
from typing import Any

import attrs

ALWAYS_SENT = "always_sent"
"""Field metadata: the API's responses carry this field even when it is null."""


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
