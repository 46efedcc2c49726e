"""A FastAPI app that starts analyses and reports on them (FastAPI is not a dependency here).

`uvicorn app_fastapi:app` in docs/examples serves it (the key from TWELVELABS_API_KEY). What
a user sends is checked by the library: a bad task id or video URL is a 400, an unknown task
a 404, and a failure of the API a 502, never a 500.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from http import HTTPStatus
from typing import Annotated

from fastapi import Depends, FastAPI, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel

from twelvelabs_async import (
    AsyncTwelveLabs,
    InvalidInputError,
    NotFoundError,
    RateLimitError,
    TwelveLabsError,
)


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    """One client for the app's lifetime, closed when the app stops."""
    async with AsyncTwelveLabs() as client:  # key from TWELVELABS_API_KEY
        app.state.twelvelabs = client
        yield


app = FastAPI(lifespan=lifespan)


def twelvelabs(request: Request) -> AsyncTwelveLabs:
    """The app's client, for the routes (`Client` below)."""
    client: AsyncTwelveLabs = request.app.state.twelvelabs
    return client


Client = Annotated[AsyncTwelveLabs, Depends(twelvelabs)]

STATUS_FOR: list[tuple[type[TwelveLabsError], int]] = [
    (InvalidInputError, 400),  # a bad id or video URL from the user; nothing was sent
    (NotFoundError, 404),  # no such task
    (RateLimitError, 503),  # over the account's rate limit, after the client's retries
]
"""What went wrong in a call to TwelveLabs, as the status the users get; 502 for the rest."""


@app.exception_handler(TwelveLabsError)
async def twelvelabs_error(request: Request, exc: TwelveLabsError) -> JSONResponse:
    """Answer with the status of `STATUS_FOR`; only a 400 says why (the user can fix it)."""
    status = next((code for kind, code in STATUS_FOR if isinstance(exc, kind)), 502)
    detail = str(exc) if status == 400 else HTTPStatus(status).phrase
    return JSONResponse({"detail": detail}, status_code=status)


class NewAnalysis(BaseModel):
    """What `POST /analyses` takes."""

    video_url: str


class Analysis(BaseModel):
    """What `GET /analyses/{task_id}` answers: `text` once the task is ready."""

    task_id: str
    status: str
    text: str | None = None


@app.post("/analyses", status_code=202)
async def start_analysis(new: NewAnalysis, client: Client) -> dict[str, str]:
    """Start summarizing the video."""
    ref = await client.analyze.tasks.create(video=new.video_url, prompt="Summarize this video")
    return {"task_id": ref.task_id}


@app.get("/analyses/{task_id}")
async def analysis(task_id: str, client: Client) -> Analysis:
    """The task's status, and its text once it is ready."""
    task = await client.analyze.tasks.retrieve(task_id)
    text = task.ready_result().data if task.status == "ready" else None
    return Analysis(task_id=task.task_id, status=str(task.status), text=text)
