"""The aiohttp adapter behind the transport seam, on a loopback server; the request values."""

from __future__ import annotations

import ast
from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import pytest

import twelvelabs_async
from tests._server import LoopbackServer, closed_port, cut_off, hang, ndjson, reply, reset
from tests.conftest import API_KEY
from twelvelabs_async import (
    AiohttpTransport,
    APIConnectionError,
    APITimeoutError,
    ClientClosedError,
    ConfigurationError,
    Request,
    Response,
    StreamedResponse,
    Transport,
)


@pytest.fixture
async def transport() -> AsyncIterator[AiohttpTransport]:
    """An AiohttpTransport with its own session, closed at teardown."""
    t = AiohttpTransport(max_connections=4)
    yield t
    await t.close()


def get(url: str, *, timeout: float = 5.0, **kwargs: object) -> Request:
    """A GET request of `url`."""
    return Request(method="GET", url=url, timeout=timeout, **kwargs)  # type: ignore[arg-type]


async def read_all(response: StreamedResponse) -> bytes:
    """Every chunk of a streamed body, joined."""
    return b"".join([chunk async for chunk in response.chunks])


# --- the values -------------------------------------------------------------------------------


def test_request_repr_hides_the_api_key() -> None:
    """A Request's repr shows its headers but the x-api-key value only as <hidden>."""
    request = get("https://api.test/v1.3/x", headers={"x-api-key": API_KEY, "Accept": "a/b"})
    text = repr(request)
    assert API_KEY not in text
    assert "'x-api-key': '<hidden>'" in text
    assert "'Accept': 'a/b'" in text
    assert request.headers["X-API-KEY"] == API_KEY


def test_request_params_are_a_tuple_of_pairs() -> None:
    """Query parameters are kept in order as string pairs, a key repeating for a list."""
    request = get("https://api.test/x", params=[("status", "ready"), ("status", "failed")])
    assert request.params == (("status", "ready"), ("status", "failed"))
    assert get("https://api.test/x").params is None


def test_response_headers_are_case_insensitive() -> None:
    """Response headers given as a dict are read whatever the case of the name."""
    response = Response(429, {"X-Ratelimit-Remaining": "0"})
    assert response.headers.get("x-ratelimit-remaining") == "0"
    assert response.body == b""
    assert response.incomplete is None


def test_response_from_json() -> None:
    """Response.from_json encodes the data and says it is JSON, keeping extra headers."""
    response = Response.from_json(404, {"code": "nope"}, headers={"X-Request-Id": "r1"})
    assert response.status == 404
    assert response.body == b'{"code": "nope"}'
    assert response.headers["content-type"] == "application/json"
    assert response.headers["x-request-id"] == "r1"


def test_aiohttp_transport_is_a_transport() -> None:
    """AiohttpTransport satisfies the Transport protocol; a bare object does not."""
    assert isinstance(AiohttpTransport(), Transport)
    assert not isinstance(object(), Transport)


def test_session_must_be_an_aiohttp_session() -> None:
    """A session that is not an aiohttp.ClientSession is refused with ConfigurationError."""
    with pytest.raises(ConfigurationError, match=r"aiohttp\.ClientSession"):
        AiohttpTransport(session=object())  # type: ignore[arg-type]


# --- send -------------------------------------------------------------------------------------


async def test_send_reads_status_headers_and_body(
    server: LoopbackServer, transport: AiohttpTransport
) -> None:
    """send() returns the whole response; params, JSON body and headers reach the server."""
    server.on("POST", "echo", reply(201, {"ok": True}, headers={"X-Ratelimit-Remaining": "9"}))
    request = Request(
        method="POST",
        url=f"{server.base_url}/echo",
        timeout=5.0,
        params=[("a", "1"), ("a", "2")],
        json={"k": "v"},
        headers={"x-api-key": API_KEY},
    )
    response = await transport.send(request)
    assert response.status == 201
    assert response.headers["x-ratelimit-remaining"] == "9"
    assert response.body == b'{"ok": true}'
    assert response.incomplete is None
    (seen,) = server.seen("POST", "echo")
    assert seen.query == [("a", "1"), ("a", "2")]
    assert seen.json() == {"k": "v"}
    assert seen.headers["x-api-key"] == API_KEY


async def test_send_does_not_follow_redirects(
    server: LoopbackServer, transport: AiohttpTransport
) -> None:
    """A 302 is returned as it is, never followed."""
    server.on("GET", "moved", reply(302, headers={"Location": f"{server.base_url}/there"}))
    response = await transport.send(get(f"{server.base_url}/moved"))
    assert response.status == 302
    assert server.seen("GET", "there") == []


async def test_cut_off_2xx_is_reported_as_incomplete(
    server: LoopbackServer, transport: AiohttpTransport
) -> None:
    """A 200 whose body stops short is returned with `incomplete` saying why, not raised."""
    server.on("GET", "short", cut_off(b'{"task_id": "t1"', length=200))
    response = await transport.send(get(f"{server.base_url}/short"))
    assert response.status == 200
    assert response.incomplete is not None
    assert "ClientPayloadError" in response.incomplete


async def test_cut_off_error_status_raises_connection_error(
    server: LoopbackServer, transport: AiohttpTransport
) -> None:
    """An error status whose body stops short raises APIConnectionError (request sent)."""
    server.on("GET", "short", cut_off(b'{"code"', status=503))
    with pytest.raises(APIConnectionError) as info:
        await transport.send(get(f"{server.base_url}/short"))
    assert info.value.request_sent is True
    assert not isinstance(info.value.__cause__, aiohttp.ClientError)


async def test_refused_connection_was_not_sent(transport: AiohttpTransport) -> None:
    """A refused connection raises APIConnectionError with request_sent False."""
    with pytest.raises(APIConnectionError) as info:
        await transport.send(get(f"http://127.0.0.1:{closed_port()}/x"))
    assert info.value.request_sent is False
    assert str(info.value).startswith("ClientConnectorError")


async def test_reset_may_have_been_sent(
    server: LoopbackServer, transport: AiohttpTransport
) -> None:
    """A connection closed with no response raises APIConnectionError, request_sent True."""
    server.on("GET", "x", reset())
    with pytest.raises(APIConnectionError) as info:
        await transport.send(get(f"{server.base_url}/x"))
    assert info.value.request_sent is True
    assert not isinstance(info.value, APITimeoutError)


async def test_timeout_bounds_the_whole_exchange(
    server: LoopbackServer, transport: AiohttpTransport
) -> None:
    """A server that never answers raises APITimeoutError naming the timeout."""
    server.on("GET", "x", hang())
    with pytest.raises(APITimeoutError) as info:
        await transport.send(get(f"{server.base_url}/x", timeout=0.2))
    assert info.value.request_sent is True
    assert str(info.value) == "no response within the 0.2s per-request timeout"


# --- stream -----------------------------------------------------------------------------------


async def test_stream_yields_chunks_and_releases_the_response(
    server: LoopbackServer, transport: AiohttpTransport
) -> None:
    """stream() gives status, headers and the body as it arrives; the connection is freed."""
    server.on("GET", "lines", ndjson([b"a\n", b"b\n"]))
    async with transport.stream(get(f"{server.base_url}/lines")) as response:
        assert response.status == 200
        assert response.headers["content-type"] == "application/x-ndjson"
        assert await read_all(response) == b"a\nb\n"
    session = transport.session
    assert session is not None
    assert session.connector is not None
    assert len(session.connector._acquired) == 0  # type: ignore[attr-defined]


async def test_stream_that_breaks_raises_connection_error(
    server: LoopbackServer, transport: AiohttpTransport
) -> None:
    """A stream whose connection drops midway raises APIConnectionError from the chunks."""
    server.on("GET", "lines", ndjson([b"a\n", b"b"], drop=True))
    async with transport.stream(get(f"{server.base_url}/lines")) as response:
        with pytest.raises(APIConnectionError, match=r"^the stream broke: "):
            await read_all(response)


async def test_stream_refused_was_not_sent(transport: AiohttpTransport) -> None:
    """Opening a stream on a closed port raises APIConnectionError, request_sent False."""
    with pytest.raises(APIConnectionError) as info:
        async with transport.stream(get(f"http://127.0.0.1:{closed_port()}/x")):
            pass  # pragma: no cover
    assert info.value.request_sent is False


# --- the session ------------------------------------------------------------------------------


async def test_own_session_is_created_lazily_sized_and_closed(server: LoopbackServer) -> None:
    """No session before the first request; then one pooled by max_connections, closed once."""
    server.on("GET", "x", reply(200, {}))
    transport = AiohttpTransport(max_connections=7)
    assert transport.owns_session
    assert transport.session is None
    await transport.send(get(f"{server.base_url}/x"))
    session = transport.session
    assert session is not None
    assert isinstance(session.connector, aiohttp.TCPConnector)
    assert session.connector.limit == 7
    assert session.connector.limit_per_host == 7
    await transport.close()
    await transport.close()
    assert session.closed
    with pytest.raises(ClientClosedError, match="transport is closed"):
        await transport.send(get(f"{server.base_url}/x"))


async def test_borrowed_session_is_used_and_never_closed(server: LoopbackServer) -> None:
    """A borrowed session sends the requests and stays open after close()."""
    server.on("GET", "x", reply(200, {}))
    async with aiohttp.ClientSession() as session:
        transport = AiohttpTransport(session=session)
        assert not transport.owns_session
        assert transport.session is session
        assert (await transport.send(get(f"{server.base_url}/x"))).status == 200
        await transport.close()
        assert not session.closed


async def test_borrowed_session_closed_by_its_owner_raises(server: LoopbackServer) -> None:
    """A borrowed session closed by its owner raises ClientClosedError, for both operations."""
    session = aiohttp.ClientSession()
    await session.close()
    transport = AiohttpTransport(session=session)
    with pytest.raises(ClientClosedError, match="closed by its owner"):
        await transport.send(get(f"{server.base_url}/x"))
    with pytest.raises(ClientClosedError, match="closed by its owner"):
        async with transport.stream(get(f"{server.base_url}/x")):
            pass  # pragma: no cover
    assert server.requests == []


# --- the seam ---------------------------------------------------------------------------------


def _aiohttp_client_imports(tree: ast.Module) -> list[int]:
    """Lines importing the aiohttp client (not `aiohttp.web`), outside `if TYPE_CHECKING:`."""
    type_only: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and ast.unparse(node.test) == "TYPE_CHECKING":
            type_only.update(id(child) for child in ast.walk(node))
    lines = []
    for node in ast.walk(tree):
        if id(node) in type_only:
            continue
        if (isinstance(node, ast.Import) and any(a.name == "aiohttp" for a in node.names)) or (
            isinstance(node, ast.ImportFrom)
            and node.module == "aiohttp"
            and any(a.name != "web" for a in node.names)
        ):
            lines.append(node.lineno)
    return lines


def test_only_the_adapter_uses_the_aiohttp_client() -> None:
    """Outside the simulator, no module but `_transport.py` imports the aiohttp client."""
    package = Path(twelvelabs_async.__file__).parent
    users = {
        str(path.relative_to(package))
        for path in package.rglob("*.py")
        if "testing" not in path.parts and _aiohttp_client_imports(ast.parse(path.read_text()))
    }
    assert users == {"_transport.py"}
