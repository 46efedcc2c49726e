"""The web-app examples of the docs answer user mistakes with 4xx, run against the simulator."""

from __future__ import annotations

import importlib.util
import socket
import sys
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from types import ModuleType
from typing import Any

import httpx
import pytest
from aiohttp.test_utils import TestClient, TestServer

from twelvelabs_async.testing import Simulator, simulate

EXAMPLES = Path(__file__).resolve().parent.parent / "docs" / "examples"
UNKNOWN = "0123456789abcdef01234567"
VIDEO = "https://videos.example.com/clip.mp4"


def load(name: str) -> ModuleType:
    """Import docs/examples/<name>.py as a fresh module."""
    spec = importlib.util.spec_from_file_location(f"docs_example_{name}", EXAMPLES / f"{name}.py")
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture
async def sim(monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[Simulator]:
    """A simulator the examples reach through the two environment variables."""
    async with simulate(duration=(0, 0)) as simulator:
        monkeypatch.setenv("TWELVELABS_API_KEY", simulator.api_key)
        monkeypatch.setenv("TWELVELABS_BASE_URL", simulator.base_url)
        yield simulator


Ask = Callable[[str, str, Any], Awaitable[tuple[int, Any]]]
"""Send (method, path, JSON body) to the app; get (status, JSON body or text) back."""


async def _cases(ask: Ask) -> dict[str, tuple[int, Any]]:
    """What the app answers to a user's requests, good and bad, by case."""
    got = {"created": await ask("POST", "/analyses", {"video_url": VIDEO})}
    got["ready"] = await ask("GET", f"/analyses/{got['created'][1]['task_id']}", None)
    got["space"] = await ask("GET", "/analyses/a%20b", None)
    got["unknown"] = await ask("GET", f"/analyses/{UNKNOWN}", None)
    got["bad-url"] = await ask("POST", "/analyses", {"video_url": "ftp://example.com/v.mp4"})
    got["no-url"] = await ask("POST", "/analyses", {"video": VIDEO})
    return got


@asynccontextmanager
async def aiohttp_app() -> AsyncIterator[Ask]:
    """docs/examples/app_aiohttp.py, served on loopback."""
    async with TestClient(TestServer(load("app_aiohttp").make_app())) as http:

        async def ask(method: str, path: str, body: Any) -> tuple[int, Any]:
            async with http.request(method, path, json=body) as resp:
                if resp.content_type == "application/json":
                    return resp.status, await resp.json()
                return resp.status, await resp.text()

        yield ask


@asynccontextmanager
async def fastapi_app() -> AsyncIterator[Ask]:
    """docs/examples/app_fastapi.py, its lifespan entered, called in process."""
    app = load("app_fastapi").app
    transport = httpx.ASGITransport(app=app)
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(transport=transport, base_url="http://app") as http,
    ):

        async def ask(method: str, path: str, body: Any) -> tuple[int, Any]:
            resp = await http.request(method, path, json=body)
            return resp.status_code, resp.json()

        yield ask


APPS = pytest.mark.parametrize("app", [aiohttp_app, fastapi_app], ids=["aiohttp", "fastapi"])


@APPS
async def test_web_app_maps_errors_to_statuses(sim: Simulator, app: Any) -> None:
    """400 for a bad id or URL (refused before any request), 404 for an unknown task, 2xx else."""
    async with app() as ask:
        got = await _cases(ask)
    assert got["created"][0] == 202
    status, ready = got["ready"]
    assert status == 200
    assert ready["status"] == "ready"
    assert "Summarize this video" in ready["text"]
    assert got["space"][0] == 400
    assert "task_id 'a b' is not a valid id" in str(got["space"][1])
    assert got["unknown"][0] == 404
    assert got["bad-url"][0] == 400
    assert "ftp://example.com/v.mp4" in str(got["bad-url"][1])
    assert got["no-url"][0] in (400, 422)  # FastAPI's own validation answers 422
    assert sim.stats.count("create") == 1  # the bad URL never reached the API
    assert sim.stats.count("retrieve") == 2  # nor did the id with a space


@APPS
async def test_web_app_answers_502_when_the_api_cannot_be_reached(
    monkeypatch: pytest.MonkeyPatch, app: Any
) -> None:
    """An API that cannot be reached (after the client's retries) is a 502, not a 500."""
    monkeypatch.setenv("TWELVELABS_API_KEY", "tlk_test_key")
    monkeypatch.setenv("TWELVELABS_BASE_URL", f"http://127.0.0.1:{closed_port()}/v1.3")
    async with app() as ask:
        status, _body = await ask("GET", f"/analyses/{UNKNOWN}", None)
    assert status == 502


def closed_port() -> int:
    """A loopback port nothing listens on (bound, then released)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port


def teardown_module() -> None:
    """Forget the example modules imported by file path."""
    for name in [n for n in sys.modules if n.startswith("docs_example_")]:
        del sys.modules[name]
