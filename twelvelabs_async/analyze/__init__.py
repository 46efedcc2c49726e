"""`client.analyze`: synchronous and streamed analysis, `client.analyze.tasks` and `.batches`."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from .._http import HTTPTransport
from .._wire import json_as
from ..models import AnalyzeResult, ImageInput, PromptV2, ResponseFormat, VideoInput
from ._batch_results import BatchResults
from ._body import request_body
from ._request import SYNC, AnalysisRequest
from ._stream import AnalyzeStream, parse_event
from .batches import AnalyzeBatches, BatchList
from .tasks import AnalyzeTasks, TaskList

__all__ = [
    "Analyze",
    "AnalyzeBatches",
    "AnalyzeStream",
    "AnalyzeTasks",
    "BatchList",
    "BatchResults",
    "TaskList",
    "parse_event",
]


_result = json_as(AnalyzeResult)


class Analyze:
    """The Analyze API. Reach it as `client.analyze`; tasks live at `client.analyze.tasks`."""

    def __init__(self, transport: HTTPTransport) -> None:
        self._http = transport
        self.tasks = AnalyzeTasks(transport)
        """Asynchronous analysis tasks: create, retrieve, list, cancel, delete, wait."""
        self.batches = AnalyzeBatches(transport)
        """Analyze batches: create, retrieve, list, results, cancel, delete, track."""

    async def generate(
        self,
        *,
        video: str | VideoInput | None = None,
        prompt: str | None = None,
        image: Sequence[ImageInput | Mapping[str, Any]] | None = None,
        prompt_v2: PromptV2 | Mapping[str, Any] | None = None,
        model_name: str | None = None,
        temperature: float | None = None,
        max_tokens: int | None = None,
        response_format: ResponseFormat | Mapping[str, Any] | None = None,
        start_time: float | None = None,
        end_time: float | None = None,
    ) -> AnalyzeResult:
        """Analyze a video and wait for the whole answer (`POST /analyze` with `stream: false`).

        The body is validated as the API documents it before any request. Only
        `ResponseFormat.schema(...)` is accepted as `response_format`; omit it for free text.
        A response cut off at the token limit has `finish_reason == "length"` and a warning
        in `error`.

        Args:
            video: a URL string, or `UrlVideo`, `AssetVideo`, `Base64Video`.
            prompt: the instructions.
            image: 1-20 images instead of a video (pegasus1.6).
            prompt_v2: a prompt with reference images instead of `prompt`.
            model_name: e.g. `pegasus1.5` (the server's default when None).
            temperature: 0-1.
            max_tokens: the most tokens to generate.
            response_format: `ResponseFormat.schema(...)` for structured JSON.
            start_time: analyze from this second on.
            end_time: analyze up to this second.
        """
        request = AnalysisRequest(
            video=video, prompt=prompt, image=image, prompt_v2=prompt_v2, model_name=model_name,
            temperature=temperature, max_tokens=max_tokens, response_format=response_format,
            start_time=start_time, end_time=end_time,
        )  # fmt: skip
        # A sync analysis is paid work with no idempotency key, so not idempotent: a reset,
        # a timeout or a 2xx with a bad body is reported, not silently run again.
        body = {**request_body(request, SYNC), "stream": False}
        return await self._http.request("POST", "analyze", _result, json_body=body)

    def stream(
        self,
        *,
        video: str | VideoInput | None = None,
        prompt: str | None = None,
        image: Sequence[ImageInput | Mapping[str, Any]] | None = None,
        prompt_v2: PromptV2 | Mapping[str, Any] | None = None,
        model_name: str | None = None,
        temperature: float | None = None,
        max_tokens: int | None = None,
        response_format: ResponseFormat | Mapping[str, Any] | None = None,
        start_time: float | None = None,
        end_time: float | None = None,
    ) -> AnalyzeStream:
        """Analyze a video and read the answer as it is generated (`stream: true`).

        Arguments are those of `generate` and are validated right away. Nothing is sent until
        you iterate (or enter `async with`); errors before the first line are retried.

        ```python
        async with client.analyze.stream(video=url, prompt="Summarize") as stream:
            async for event in stream:
                if isinstance(event, TextGeneration):
                    print(event.text, end="")
        ```
        """
        request = AnalysisRequest(
            video=video, prompt=prompt, image=image, prompt_v2=prompt_v2, model_name=model_name,
            temperature=temperature, max_tokens=max_tokens, response_format=response_format,
            start_time=start_time, end_time=end_time,
        )  # fmt: skip
        body = {**request_body(request, SYNC), "stream": True}
        return AnalyzeStream(lambda: self._http.stream("POST", "analyze", json_body=body))
