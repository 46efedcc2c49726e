"""Receive TwelveLabs webhooks in an aiohttp app: verify, skip repeats, fetch the result."""

from __future__ import annotations

import asyncio
import os
from collections.abc import AsyncIterator

from aiohttp import web

from twelvelabs_async import AnalyzeTask, AsyncTwelveLabs, WebhookEvent, webhooks

CLIENT = web.AppKey("client", AsyncTwelveLabs)
FINISHED: web.AppKey[asyncio.Queue[AnalyzeTask]] = web.AppKey("finished")


async def twelvelabs_client(app: web.Application) -> AsyncIterator[None]:
    """One client for the app's lifetime (TWELVELABS_API_KEY from the environment)."""
    async with AsyncTwelveLabs() as client:
        app[CLIENT] = client
        yield


def make_app(secrets: list[str]) -> web.Application:
    """The app: POST /webhooks/twelvelabs verifies each delivery and handles new events."""
    app = web.Application()
    app[FINISHED] = asyncio.Queue()
    app.cleanup_ctx.append(twelvelabs_client)

    async def on_event(event: WebhookEvent) -> None:
        # Runs once per event id, after TwelveLabs already has its 200. The event names the
        # task and its final status; the result itself comes from retrieving the task.
        task = await app[CLIENT].analyze.tasks.retrieve(event.data.id)
        await app[FINISHED].put(task)  # your work here: store it, notify someone, ...

    handler = webhooks.webhook_handler(secrets, on_event)
    app.router.add_post("/webhooks/twelvelabs", handler)
    return app


if __name__ == "__main__":
    # One secret, or "old,new" while you rotate it.
    secrets = os.environ["TWELVELABS_WEBHOOK_SECRETS"].split(",")
    web.run_app(make_app(secrets), port=8080)
