"""Receive TwelveLabs webhooks in a FastAPI app (FastAPI is not a dependency of this package)."""

from __future__ import annotations

import logging
import os

from fastapi import BackgroundTasks, FastAPI, Request, Response

from twelvelabs_async import WebhookEvent, webhooks

logger = logging.getLogger(__name__)
SECRETS = os.environ["TWELVELABS_WEBHOOK_SECRETS"].split(",")  # "old,new" while rotating
seen = webhooks.DeliveryDeduplicator(max_events=50_000)
app = FastAPI()


async def handle(event: WebhookEvent) -> None:
    """Your work for one new event (retrieve the task for its result)."""
    print(event.type, event.data.id, event.data.status, event.data.custom_id)


@app.post("/webhooks/twelvelabs")
async def twelvelabs_webhook(request: Request, background: BackgroundTasks) -> Response:
    """Verify, answer at once, and handle each new event after the response."""
    body = await request.body()  # the raw bytes: never `await request.json()`
    try:
        event = webhooks.verify(body, request.headers.get("TL-Signature"), SECRETS)
    except webhooks.WebhookVerificationError as exc:
        logger.warning("webhook refused (%s): %s", exc.reason, exc)
        return Response(status_code=exc.http_status)  # 400 or 401, and no reason given
    if not seen.is_duplicate(event.id):
        background.add_task(handle, event)  # runs after the response has been sent
    return Response(status_code=200)
