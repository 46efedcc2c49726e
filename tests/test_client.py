"""AsyncTwelveLabs: configuration, session lifecycle, headers, and keeping the key secret."""

from __future__ import annotations

import logging
import random
from typing import Any

import aiohttp
import pytest
from aioresponses import aioresponses
from yarl import URL

from tests._server import LoopbackServer, closed_port, reply
from tests.conftest import API_KEY, BASE_URL, FakeClock
from twelvelabs_async import (
    AiohttpTransport,
    APIError,
    AsyncTwelveLabs,
    ClientClosedError,
    ConfigurationError,
    TwelveLabsError,
    __version__,
)

TASK = {"task_id": "t1", "status": "ready"}
TASK_URL = f"{BASE_URL}/analyze/tasks/t1"


@pytest.fixture
def no_env(monkeypatch: pytest.MonkeyPatch) -> pytest.MonkeyPatch:
    """Neither TWELVELABS_API_KEY nor TWELVELABS_BASE_URL is set."""
    monkeypatch.delenv("TWELVELABS_API_KEY", raising=False)
    monkeypatch.delenv("TWELVELABS_BASE_URL", raising=False)
    return monkeypatch


# --- configuration ------------------------------------------------------------------------


async def sent_key(mock_api: aioresponses, api_key: str | None) -> str:
    """The x-api-key header of one request sent by a client built with `api_key`."""
    mock_api.get(TASK_URL, payload=TASK)
    async with AsyncTwelveLabs(api_key, base_url=BASE_URL) as client:
        await client.analyze.tasks.retrieve("t1")
    (call,) = mock_api.requests[("GET", URL(TASK_URL))]
    key: str = call.kwargs["headers"]["x-api-key"]
    return key


async def test_key_from_argument(no_env: pytest.MonkeyPatch, mock_api: aioresponses) -> None:
    """An explicit api_key is sent even with no environment variable."""
    assert await sent_key(mock_api, "tlk_arg") == "tlk_arg"


async def test_key_from_environment(no_env: pytest.MonkeyPatch, mock_api: aioresponses) -> None:
    """Without api_key, TWELVELABS_API_KEY is read and sent."""
    no_env.setenv("TWELVELABS_API_KEY", "tlk_env")
    assert await sent_key(mock_api, None) == "tlk_env"


async def test_argument_key_wins_over_environment(
    no_env: pytest.MonkeyPatch, mock_api: aioresponses
) -> None:
    """api_key= takes precedence over TWELVELABS_API_KEY."""
    no_env.setenv("TWELVELABS_API_KEY", "tlk_env")
    assert await sent_key(mock_api, "tlk_arg") == "tlk_arg"


@pytest.mark.parametrize("env_value", [None, ""])
def test_missing_key_names_the_variable(no_env: pytest.MonkeyPatch, env_value: str | None) -> None:
    """No key (or an empty variable) raises ConfigurationError naming TWELVELABS_API_KEY."""
    if env_value is not None:
        no_env.setenv("TWELVELABS_API_KEY", env_value)
    with pytest.raises(ConfigurationError, match="TWELVELABS_API_KEY"):
        AsyncTwelveLabs()


@pytest.mark.parametrize("key", ["tlk key", "tlk_key\n", "\ttlk", "tlk\x00"])
def test_key_with_whitespace_or_control_chars_is_refused(key: str) -> None:
    """A key with whitespace or control characters is refused, without echoing the key."""
    with pytest.raises(ConfigurationError) as info:
        AsyncTwelveLabs(key)
    assert "whitespace or control characters" in str(info.value)
    assert key.strip() not in str(info.value)


async def test_base_url_default(no_env: pytest.MonkeyPatch) -> None:
    """Without base_url or TWELVELABS_BASE_URL, the API's public root is used."""
    client = AsyncTwelveLabs(API_KEY)
    assert client.base_url == "https://api.twelvelabs.io/v1.3"
    await client.close()


async def test_base_url_from_environment(no_env: pytest.MonkeyPatch) -> None:
    """TWELVELABS_BASE_URL sets the base URL (trailing slash dropped)."""
    no_env.setenv("TWELVELABS_BASE_URL", "http://localhost:8080/v1.3/")
    client = AsyncTwelveLabs(API_KEY)
    assert client.base_url == "http://localhost:8080/v1.3"
    await client.close()


async def test_base_url_argument_wins_over_environment(no_env: pytest.MonkeyPatch) -> None:
    """base_url= takes precedence over TWELVELABS_BASE_URL."""
    no_env.setenv("TWELVELABS_BASE_URL", "http://localhost:8080/v1.3")
    client = AsyncTwelveLabs(API_KEY, base_url="https://proxy.example/tl/")
    assert client.base_url == "https://proxy.example/tl"
    assert client._http.url("analyze") == "https://proxy.example/tl/analyze"
    await client.close()


@pytest.mark.parametrize(
    "url", ["ftp://api.twelvelabs.io/v1.3", "api.twelvelabs.io/v1.3", "file:///etc", "https://"]
)
def test_non_http_base_url_is_refused(no_env: pytest.MonkeyPatch, url: str) -> None:
    """A base URL that is not http(s) with a host raises ConfigurationError naming it."""
    with pytest.raises(ConfigurationError, match="base_url") as info:
        AsyncTwelveLabs(API_KEY, base_url=url)
    assert "http:// or https://" in str(info.value)


def test_non_http_base_url_from_environment_is_refused(no_env: pytest.MonkeyPatch) -> None:
    """A bad TWELVELABS_BASE_URL is refused the same way."""
    no_env.setenv("TWELVELABS_BASE_URL", "ws://api.example/v1.3")
    with pytest.raises(ConfigurationError, match=r"ws://api\.example/v1\.3"):
        AsyncTwelveLabs(API_KEY)


SECRET = "hunter2-s3cret"


@pytest.mark.parametrize(
    ("url", "problem"),
    [
        ("https://api.example/v1.3#fragment", "a query (?) or a fragment (#)"),
        ("https://api.example/v1.3?region=eu", "a query (?) or a fragment (#)"),
        ("https://api.example/v1.3?", "a query (?) or a fragment (#)"),
        (f"https://user:{SECRET}@api.example/v1.3", "a user name or password"),
        (f"https://{SECRET}@api.example/v1.3", "a user name or password"),
        (f"https://user:{SECRET}/x@api.example/v1.3", "not a valid URL"),
        (f"http://user:{SECRET}@[::1", "not a valid URL"),
        ("http://[::1", "not a valid URL"),
        ("http://api.example:99999/v1.3", "not a valid URL"),
        ("http://api.example:port/v1.3", "not a valid URL"),
        ("http://api.example:0/v1.3", "port must be a number from 1 to 65535"),
        ("http://api.example:/v1.3", "port must be a number from 1 to 65535"),
        ("https://api.example/v1.3\n", "whitespace or control characters"),
        ("https://api example/v1.3", "whitespace or control characters"),
    ],
)
@pytest.mark.parametrize("source", ["argument", "environment"])
def test_a_base_url_that_would_misroute_requests_is_refused(
    no_env: pytest.MonkeyPatch, url: str, problem: str, source: str
) -> None:
    """Query, fragment, user info, a bad port or an unparseable URL: ConfigurationError, for
    base_url= and TWELVELABS_BASE_URL alike, and the message never shows a password.
    """
    if source == "environment":
        no_env.setenv("TWELVELABS_BASE_URL", url)
    with pytest.raises(ConfigurationError) as info:
        AsyncTwelveLabs(API_KEY, base_url=url if source == "argument" else None)
    message = str(info.value)
    assert problem in message
    assert message.startswith("base_url" if source == "argument" else "TWELVELABS_BASE_URL")
    assert SECRET not in message
    assert "s3cret" not in message


def test_a_base_url_that_is_not_a_string_is_refused(no_env: pytest.MonkeyPatch) -> None:
    """base_url=b"..." (or any non-string) is a ConfigurationError, not an AttributeError."""
    with pytest.raises(ConfigurationError, match="base_url must be a string, got bytes"):
        AsyncTwelveLabs(API_KEY, base_url=b"https://api.example/v1.3")  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("url", "base"),
    [
        ("http://[::1]:8080/v1.3/", "http://[::1]:8080/v1.3"),
        ("https://proxy.example:8443/tl/v1.3", "https://proxy.example:8443/tl/v1.3"),
        ("http://localhost:65535", "http://localhost:65535"),
    ],
)
async def test_a_base_url_with_host_port_and_path_is_kept(url: str, base: str) -> None:
    """An http(s) root with an IPv6 host, a port from 1 to 65535 and a path is accepted."""
    client = AsyncTwelveLabs(API_KEY, base_url=url)
    assert client.base_url == base
    assert client._http.url("analyze/tasks/t1") == f"{base}/analyze/tasks/t1"
    await client.close()


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"timeout": 0}, "timeout must be a number >= 0.001, got 0"),
        ({"timeout": -5.0}, "timeout must be a number >= 0.001, got -5.0"),
        ({"timeout": "30"}, "timeout must be a number >= 0.001, got '30'"),
        ({"timeout": True}, "timeout must be a number >= 0.001, got True"),
        ({"max_retries": -1}, "max_retries must be an integer >= 0, got -1"),
        ({"max_retries": 2.0}, "max_retries must be an integer >= 0, got 2.0"),
        ({"max_retries": False}, "max_retries must be an integer >= 0, got False"),
        ({"max_connections": 0}, "max_connections must be an integer >= 1, got 0"),
        ({"max_connections": None}, "max_connections must be an integer >= 1, got None"),
    ],
)
def test_bad_numbers_are_refused(kwargs: dict[str, Any], message: str) -> None:
    """Bad timeout, max_retries or max_connections raise ConfigurationError saying why."""
    with pytest.raises(ConfigurationError) as info:
        AsyncTwelveLabs(API_KEY, base_url=BASE_URL, **kwargs)
    assert str(info.value) == message
    assert isinstance(info.value, ValueError)


def test_session_must_be_an_aiohttp_session() -> None:
    """A session= that is not an aiohttp.ClientSession is refused."""
    with pytest.raises(ConfigurationError, match=r"aiohttp\.ClientSession"):
        AsyncTwelveLabs(API_KEY, session=object())  # type: ignore[arg-type]


async def test_settings_are_exposed() -> None:
    """The timeout and max_retries settings read back as given."""
    client = AsyncTwelveLabs(API_KEY, base_url=BASE_URL, timeout=12, max_retries=0)
    assert client.timeout == 12.0
    assert client.max_retries == 0
    await client.close()


async def test_repr_never_contains_the_key() -> None:
    """repr() shows the base URL and state, but the key only as <hidden>."""
    client = AsyncTwelveLabs(API_KEY, base_url=BASE_URL)
    text = repr(client)
    assert API_KEY not in text
    assert text == f"<AsyncTwelveLabs base_url='{BASE_URL}' api_key=<hidden> open>"
    await client.close()
    assert repr(client).endswith("closed>")
    assert API_KEY not in repr(client) + str(client) + repr(client._http)


# --- session lifecycle ---------------------------------------------------------------------


async def test_async_with_closes_the_session_it_created(mock_api: aioresponses) -> None:
    """Leaving `async with` closes the session the client created and marks it closed."""
    mock_api.get(TASK_URL, payload=TASK)
    async with AsyncTwelveLabs(API_KEY, base_url=BASE_URL) as client:
        await client.analyze.tasks.retrieve("t1")
        transport = client._http.transport
        assert isinstance(transport, AiohttpTransport)
        session = transport.session
        assert session is not None
        assert not session.closed
        assert client._http.owns_session
    assert session.closed
    assert client.closed


async def test_borrowed_session_is_never_closed(mock_api: aioresponses) -> None:
    """A borrowed aiohttp session stays open after the client closes (twice)."""
    mock_api.get(TASK_URL, payload=TASK)
    async with aiohttp.ClientSession() as session:
        async with AsyncTwelveLabs(API_KEY, base_url=BASE_URL, session=session) as client:
            assert not client._http.owns_session
            task = await client.analyze.tasks.retrieve("t1")
        await client.close()
        assert task.task_id == "t1"
        assert client.closed
        assert not session.closed


async def test_close_without_any_request_is_safe() -> None:
    """Closing a client that never sent anything works, and closing again is harmless."""
    client = AsyncTwelveLabs(API_KEY, base_url=BASE_URL)
    await client.close()
    await client.close()
    assert client.closed


async def test_use_after_close_raises_and_sends_nothing(mock_api: aioresponses) -> None:
    """After close(), a request raises ClientClosedError and nothing is sent."""
    mock_api.get(TASK_URL, payload=TASK)
    client = AsyncTwelveLabs(API_KEY, base_url=BASE_URL)
    await client.close()
    with pytest.raises(ClientClosedError, match="closed"):
        await client.analyze.tasks.retrieve("t1")
    with pytest.raises(ClientClosedError):
        async with client.analyze.stream(video="https://cdn.example/v.mp4", prompt="Hi"):
            pass  # pragma: no cover
    assert mock_api.requests == {}


async def test_reentering_a_closed_client_raises() -> None:
    """`async with` on a closed client raises ClientClosedError."""
    client = AsyncTwelveLabs(API_KEY, base_url=BASE_URL)
    await client.close()
    with pytest.raises(ClientClosedError):
        async with client:
            pass  # pragma: no cover


async def test_borrowed_session_closed_by_owner_raises(mock_api: aioresponses) -> None:
    """A borrowed session closed by its owner makes requests raise ClientClosedError."""
    mock_api.get(TASK_URL, payload=TASK)
    session = aiohttp.ClientSession()
    await session.close()
    async with AsyncTwelveLabs(API_KEY, base_url=BASE_URL, session=session) as client:
        with pytest.raises(ClientClosedError, match="closed by its owner"):
            await client.analyze.tasks.retrieve("t1")
    assert mock_api.requests == {}


# --- what goes on the wire -------------------------------------------------------------------


async def test_auth_and_user_agent_headers(server: LoopbackServer) -> None:
    """Every request carries `x-api-key` and `User-Agent: twelvelabs-async/<version>`."""
    server.on("GET", "analyze/tasks/t1", reply(200, TASK))
    async with AsyncTwelveLabs(API_KEY, base_url=server.base_url) as client:
        await client.analyze.tasks.retrieve("t1")
    (seen,) = server.requests
    assert seen.headers["x-api-key"] == API_KEY
    assert seen.headers["User-Agent"] == f"twelvelabs-async/{__version__}"
    assert seen.headers["Accept"] == "application/json"
    assert "Authorization" not in seen.headers


async def test_key_never_leaks_into_errors_or_logs(
    server: LoopbackServer, caplog: pytest.LogCaptureFixture
) -> None:
    """Across retried failures and error responses, no exception or log record has the key."""
    caplog.set_level(logging.DEBUG)
    echo = {"code": "api_key_invalid", "message": "The API key is invalid."}
    server.on("GET", "analyze/tasks/t1", reply(503), reply(500))
    server.on("GET", "analyze/tasks/t2", reply(401, echo))
    server.on("DELETE", "analyze/tasks/t3", reply(404, {"error": {"code": "resource_not_exist"}}))
    server.on("GET", "analyze/tasks/t4", reply(200, body=b"not json"))
    errors: list[TwelveLabsError] = []
    async with AsyncTwelveLabs(
        API_KEY, base_url=server.base_url, clock=FakeClock(), rng=random.Random(1)
    ) as client:
        for call in (
            client.analyze.tasks.retrieve("t1"),
            client.analyze.tasks.retrieve("t2"),
            client.analyze.tasks.delete("t3"),
            client.analyze.tasks.retrieve("t4"),
        ):
            with pytest.raises(TwelveLabsError) as info:
                await call
            errors.append(info.value)
    refused = AsyncTwelveLabs(
        API_KEY, base_url=f"http://127.0.0.1:{closed_port()}", max_retries=1, clock=FakeClock()
    )
    with pytest.raises(TwelveLabsError) as info:
        await refused.analyze.tasks.retrieve("t5")
    await refused.close()
    errors.append(info.value)
    assert len(server.requests) == 10  # t1 and t4: 1 + 3 retries each; t2 and t3: 1 each
    assert any(isinstance(e, APIError) and e.status_code == 401 for e in errors)
    for exc in errors:
        text = f"{exc!s} {exc!r} {vars(exc)!r}"
        assert API_KEY not in text
    ours = [r for r in caplog.records if r.name == "twelvelabs_async"]
    retry_logs = [r for r in ours if r.levelno == logging.INFO]
    assert len(retry_logs) == 7  # 3 for t1, 3 for t4, 1 for the refused connection
    attempt_logs = [r for r in ours if r.levelno == logging.DEBUG]
    assert len(attempt_logs) == 12  # one per attempt: the 10 requests and 2 refused connections
    for record in caplog.records:
        assert API_KEY not in record.getMessage()
        assert API_KEY not in repr(record.__dict__)


async def test_redirect_is_not_followed_so_the_key_stays_home(server: LoopbackServer) -> None:
    """A 302 to another origin raises APIError(302); the other host never receives the key."""
    async with LoopbackServer() as elsewhere:
        elsewhere.on("GET", "steal", reply(200, TASK))
        location = {"Location": f"{elsewhere.base_url}/steal"}
        server.on("POST", "analyze", reply(302, headers=location))
        server.on("GET", "analyze/tasks/t1", reply(302, headers=location))
        async with AsyncTwelveLabs(API_KEY, base_url=server.base_url, clock=FakeClock()) as c:
            with pytest.raises(APIError) as info:
                await c.analyze.tasks.retrieve("t1")
            with pytest.raises(APIError):
                await c.analyze.stream(video="https://cdn.example/v.mp4", prompt="x").text()
    assert info.value.status_code == 302
    assert elsewhere.requests == []


def test_empty_base_url_is_refused(no_env: pytest.MonkeyPatch) -> None:
    """An empty base_url is an error, not a silent fall-back to the default."""
    with pytest.raises(ConfigurationError, match="base_url"):
        AsyncTwelveLabs(API_KEY, base_url="")
