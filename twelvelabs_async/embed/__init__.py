"""`client.embed`: synchronous text embeddings and `client.embed.tasks` (embeddings v2)."""

from __future__ import annotations

from .._http import HTTPTransport
from .._wire import json_as
from ..models import EmbedModel, TextEmbedding
from ._body import text_body
from .tasks import EmbeddingTaskList, EmbedTasks

__all__ = ["Embed", "EmbedTasks", "EmbeddingTaskList"]

_text = json_as(TextEmbedding)


class Embed:
    """Embeddings v2. Reach it as `client.embed`; tasks live at `client.embed.tasks`."""

    def __init__(self, transport: HTTPTransport) -> None:
        self._http = transport
        self.tasks = EmbedTasks(transport)
        """Embedding tasks for video, audio, images and documents: create, wait, track."""

    async def create(
        self,
        *,
        text: str,
        model_name: EmbedModel,
        embedding_dimension: int | None = None,
        embedding_uncertainty: bool | None = None,
        auto_truncate: bool | None = None,
    ) -> TextEmbedding:
        """Embed a text now (`POST /embed-v2`): the vector comes back in the answer.

        ```python
        result = await client.embed.create(text="a dog catching a frisbee", model_name="marengo3.5")
        vector = result.embedding
        ```

        On marengo3.0 the body is `{input_type: "text", text: {input_text}}`; marengo3.5 takes
        only `multi_input`, so the text is sent as `{input_type: "multi_input", multi_input:
        {input_text}}`. `embedding_dimension`, `embedding_uncertainty` and `auto_truncate`
        exist only on marengo3.5 (`InvalidInputError` before any request otherwise).

        Args:
            text: the text (marengo3.5 takes up to 2,000 tokens; 3.0 up to 500).
            model_name: `marengo3.5` or `marengo3.0`.
            embedding_dimension: the vector's length (marengo3.5; default 512).
            embedding_uncertainty: also return a per-number uncertainty (marengo3.5).
            auto_truncate: cut a text over the limit instead of a 400 (marengo3.5).
        """
        body = text_body(
            text=text,
            model_name=model_name,
            embedding_dimension=embedding_dimension,
            embedding_uncertainty=embedding_uncertainty,
            auto_truncate=auto_truncate,
        )
        # Paid work with no idempotency key: not repeated once it may have reached the server.
        return await self._http.request("POST", "embed-v2", _text, json_body=body, idempotent=False)
