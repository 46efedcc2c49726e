"""An aiohttp app that starts analyses and reports on them, with one client for the app.

`python docs/examples/app_aiohttp.py` serves it on port 8080 (the key from TWELVELABS_API_KEY).
What a user sends is checked by the library: a bad task id or video URL is a 400, an unknown
task a 404, and a failure of the API a 502, never a 500.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable

from aiohttp import web

from twelvelabs_async import (
    AsyncTwelveLabs,
    InvalidInputError,
    NotFoundError,
    RateLimitError,
    TwelveLabsError,
)

CLIENT = web.AppKey("twelvelabs", AsyncTwelveLabs)
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


async def twelvelabs_client(app: web.Application) -> AsyncIterator[None]:
    """One client for the app's lifetime, closed when the app stops."""
    async with AsyncTwelveLabs() as client:  # key from TWELVELABS_API_KEY
        app[CLIENT] = client
        yield  # the app runs here


@web.middleware
async def twelvelabs_errors(request: web.Request, handler: Handler) -> web.StreamResponse:
    """What went wrong in a call to TwelveLabs, as the status the app's users get."""
    try:
        return await handler(request)
    except InvalidInputError as exc:  # a bad id or video URL from the user; nothing was sent
        raise web.HTTPBadRequest(text=str(exc)) from None
    except NotFoundError:  # no such task
        raise web.HTTPNotFound() from None
    except RateLimitError:  # over the account's rate limit, after the client's retries
        raise web.HTTPServiceUnavailable() from None
    except TwelveLabsError:  # the API failed, or could not be reached
        raise web.HTTPBadGateway() from None


async def start_analysis(request: web.Request) -> web.Response:
    """`POST /analyses` with `{"video_url": "https://..."}`: start summarizing the video."""
    try:
        video_url = str((await request.json())["video_url"])
    except (ValueError, KeyError, TypeError):
        raise web.HTTPBadRequest(text='send {"video_url": "https://..."}') from None
    client = request.app[CLIENT]
    ref = await client.analyze.tasks.create(video=video_url, prompt="Summarize this video")
    return web.json_response({"task_id": ref.task_id}, status=202)


async def analysis(request: web.Request) -> web.Response:
    """`GET /analyses/{task_id}`: the task's status, and its text once it is ready."""
    task = await request.app[CLIENT].analyze.tasks.retrieve(request.match_info["task_id"])
    reply = {"task_id": task.task_id, "status": str(task.status)}
    if task.status == "ready":
        reply["text"] = task.ready_result().data
    return web.json_response(reply)


def make_app() -> web.Application:
    """The app: the client's lifetime, the error mapping and the two routes."""
    app = web.Application(middlewares=[twelvelabs_errors])
    app.cleanup_ctx.append(twelvelabs_client)
    app.router.add_post("/analyses", start_analysis)
    app.router.add_get("/analyses/{task_id}", analysis)
    return app


if __name__ == "__main__":
    web.run_app(make_app(), port=8080)
