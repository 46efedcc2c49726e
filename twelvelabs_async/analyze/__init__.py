"""`client.analyze`: synchronous and streamed analysis, `client.analyze.tasks` and `.batches`."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator, Mapping, Sequence
from contextlib import AsyncExitStack, asynccontextmanager
from typing import Any

import attrs

from .._http import HTTPTransport
from .._wire import json_as
from ..assets import Assets
from ..models import (
    AnalyzeResult,
    ImageInput,
    LocalVideo,
    PromptV2,
    ResponseFormat,
    VideoInput,
)
from ._batch_results import BatchResults
from ._body import request_body
from ._local import checked_as, local_of, noted, uploaded
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

    def __init__(self, transport: HTTPTransport, assets: Assets) -> None:
        self._http = transport
        self._assets = assets
        self.tasks = AnalyzeTasks(transport, assets)
        """Asynchronous analysis tasks: create, retrieve, list, cancel, delete, wait."""
        self.batches = AnalyzeBatches(transport)
        """Analyze batches: create, retrieve, list, results, cancel, delete, track."""

    async def generate(
        self,
        *,
        video: str | VideoInput | os.PathLike[str] | LocalVideo | None = None,
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

        A local file (`video=Path("clip.mp4")`, or `LocalVideo(...)` for options) is
        uploaded first and waited for until its asset is `ready`, then analyzed; the rest of
        the request is checked before the upload.

        Args:
            video: a URL string, or `UrlVideo`, `AssetVideo`, `Base64Video`; or a local file:
                a `Path` or a `LocalVideo`.
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
        local = local_of(video)
        request = AnalysisRequest(
            video=checked_as(video, local), prompt=prompt, image=image, prompt_v2=prompt_v2,
            model_name=model_name, temperature=temperature, max_tokens=max_tokens,
            response_format=response_format, start_time=start_time, end_time=end_time,
        )  # fmt: skip
        body = request_body(request, SYNC)  # checked before any upload
        if local is None:
            return await self._generate(body)
        asset = await uploaded(self._assets, local)
        try:
            return await self._generate(request_body(attrs.evolve(request, video=asset), SYNC))
        except Exception as exc:
            noted(exc, asset)
            raise

    async def _generate(self, body: dict[str, Any]) -> AnalyzeResult:
        # A sync analysis is paid work with no idempotency key, so not idempotent: a reset,
        # a timeout or a 2xx with a bad body is reported, not silently run again.
        body = {**body, "stream": False}
        return await self._http.request("POST", "analyze", _result, json_body=body)

    def stream(
        self,
        *,
        video: str | VideoInput | os.PathLike[str] | LocalVideo | None = None,
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
        you iterate (or enter `async with`); errors before the first line are retried. A local
        file is uploaded, and waited for until `ready`, when the stream is opened.

        ```python
        async with client.analyze.stream(video=url, prompt="Summarize") as stream:
            async for event in stream:
                if isinstance(event, TextGeneration):
                    print(event.text, end="")
        ```
        """
        local = local_of(video)
        request = AnalysisRequest(
            video=checked_as(video, local), prompt=prompt, image=image, prompt_v2=prompt_v2,
            model_name=model_name, temperature=temperature, max_tokens=max_tokens,
            response_format=response_format, start_time=start_time, end_time=end_time,
        )  # fmt: skip
        body = {**request_body(request, SYNC), "stream": True}
        if local is None:
            return AnalyzeStream(lambda: self._http.stream("POST", "analyze", json_body=body))

        @asynccontextmanager
        async def upload_then_stream() -> AsyncIterator[AsyncIterator[bytes]]:
            asset = await uploaded(self._assets, local)
            sent = {**request_body(attrs.evolve(request, video=asset), SYNC), "stream": True}
            async with AsyncExitStack() as stack:
                try:
                    opened = self._http.stream("POST", "analyze", json_body=sent)
                    lines = await stack.enter_async_context(opened)
                except Exception as exc:
                    noted(exc, asset)
                    raise
                yield lines

        return AnalyzeStream(upload_then_stream)
