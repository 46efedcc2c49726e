"""client.assets on `MockTransport`: the multipart body, checks before any request, retries."""

from __future__ import annotations

import email.parser
import email.policy
import json
import random
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import API_KEY, FakeClock
from twelvelabs_async import (
    APIConnectionError,
    AssetDetail,
    AssetInUseError,
    AssetStatus,
    AsyncTwelveLabs,
    ConflictError,
    DecodeError,
    InvalidInputError,
    NotFoundError,
    Request,
    Response,
    ServerError,
)
from twelvelabs_async._multipart import IterSource
from twelvelabs_async.assets import MetadataValue
from twelvelabs_async.testing import MockTransport

ASSET = {
    "_id": "a1",
    "method": "direct",
    "status": "processing",
    "filename": "clip.mp4",
    "created_at": "2026-01-01T00:00:00Z",
}
Reply = Response | BaseException
VIDEO_BYTES = bytes(range(256)) * 40


class Script:
    """Answers with scripted replies in order (the last repeats); records each request's body."""

    def __init__(self, *replies: Reply) -> None:
        self.replies = list(replies)
        self.requests: list[Request] = []
        self.bodies: list[bytes] = []

    async def __call__(self, request: Request) -> Response:
        self.requests.append(request)
        body = b""
        if request.content is not None:
            body = b"".join([chunk async for chunk in request.content.chunks()])
        self.bodies.append(body)
        reply = self.replies.pop(0) if len(self.replies) > 1 else self.replies[0]
        if isinstance(reply, BaseException):
            raise reply
        return reply


def created(**fields: Any) -> Response:
    """A 201 answer of POST /assets."""
    return Response.from_json(201, {**ASSET, **fields})


def client_for(script: Script, clock: FakeClock, retries: int = 2) -> AsyncTwelveLabs:
    """A client on `MockTransport(script)`, retrying `retries` times on the fake clock."""
    return AsyncTwelveLabs(
        API_KEY,
        transport=MockTransport(script),
        clock=clock,
        max_retries=retries,
        rng=random.Random(1),
    )


def form(request: Request, body: bytes) -> dict[str, tuple[str | None, bytes]]:
    """The multipart form as field name to (file name, value bytes), parsed by `email`."""
    assert request.content is not None
    head = f"Content-Type: {request.content.content_type}\r\n\r\n".encode()
    message = email.parser.BytesParser(policy=email.policy.HTTP).parsebytes(head + body)
    parts: dict[str, tuple[str | None, bytes]] = {}
    for part in message.iter_parts():
        name = part.get_param("name", header="content-disposition")
        payload = part.get_payload(decode=True)
        assert isinstance(name, str)
        assert isinstance(payload, bytes)
        parts[name] = (part.get_filename(), payload)
    return parts


@pytest.fixture
def video(tmp_path: Path) -> Path:
    """A small local 'video' file."""
    path = tmp_path / "clip.mp4"
    path.write_bytes(VIDEO_BYTES)
    return path


# --- create: the body ----------------------------------------------------------------------------


async def test_create_from_a_path_sends_the_file_streamed_as_multipart(
    video: Path, clock: FakeClock
) -> None:
    """A path goes as method=direct plus a file part holding exactly its bytes, with its length."""
    script = Script(created())
    async with client_for(script, clock) as client:
        asset = await client.assets.create(file=video, enable_hls=False, enable_thumbnail=True)
    assert (asset.asset_id, asset.status) == ("a1", AssetStatus.PROCESSING)
    (request,), (body,) = script.requests, script.bodies
    assert (request.method, request.url.rsplit("/", 1)[-1]) == ("POST", "assets")
    assert request.json is None
    assert request.content is not None
    assert request.content.length == len(body)
    assert request.content.content_type.startswith("multipart/form-data; boundary=")
    parts = form(request, body)
    assert parts["file"] == ("clip.mp4", VIDEO_BYTES)
    assert {k: v for k, (_, v) in parts.items() if k != "file"} == {
        "method": b"direct",
        "enable_hls": b"false",
        "enable_thumbnail": b"true",
    }
    assert b"Content-Type: video/mp4" in body


async def test_create_from_a_url_sends_a_form_without_a_file_part(clock: FakeClock) -> None:
    """A URL goes as method=url and url, with filename and user_metadata as a JSON string."""
    script = Script(created(method="url"))
    metadata: dict[str, MetadataValue] = {
        "team": "news",
        "n": 5,
        "rating": 9.5,
        "live": False,
        "tags": ["a", "b"],
    }
    async with client_for(script, clock) as client:
        await client.assets.create(
            url="https://cdn.example.com/v.mp4", filename="v.mp4", user_metadata=metadata
        )
    parts = form(script.requests[0], script.bodies[0])
    assert "file" not in parts
    assert parts["method"] == (None, b"url")
    assert parts["url"] == (None, b"https://cdn.example.com/v.mp4")
    assert parts["filename"] == (None, b"v.mp4")
    assert json.loads(parts["user_metadata"][1]) == metadata
    assert "enable_hls" not in parts  # None leaves the API's default


async def test_create_from_bytes_needs_and_sends_a_filename(clock: FakeClock) -> None:
    """Bytes are sent as the file part under the filename given (also sent as the field)."""
    script = Script(created())
    async with client_for(script, clock) as client:
        with pytest.raises(InvalidInputError, match="filename"):
            await client.assets.create(file=b"abc")
        await client.assets.create(file=b"\x89PNG....", filename="still.png")
    parts = form(script.requests[0], script.bodies[0])
    assert parts["file"] == ("still.png", b"\x89PNG....")
    assert parts["filename"] == (None, b"still.png")
    assert b"Content-Type: image/png" in script.bodies[0]


async def test_a_filename_cannot_break_the_part_header(clock: FakeClock, tmp_path: Path) -> None:
    """Quotes in a file's name are escaped; a filename= with a line break is refused."""
    path = tmp_path / 'a"b.mp4'
    path.write_bytes(b"x")
    script = Script(created())
    async with client_for(script, clock) as client:
        await client.assets.create(file=path)
        with pytest.raises(InvalidInputError, match="line break or control character"):
            await client.assets.create(file=b"x", filename="a\r\nX-Evil: 1.mp4")
    assert b'; filename="a%22b.mp4"\r\n' in script.bodies[0]
    assert len(script.requests) == 1


async def test_an_async_iterator_is_consumed_lazily_as_the_body_is_sent(
    clock: FakeClock,
) -> None:
    """Each chunk of an async iterator is pulled only when the transport asks for it."""
    pulled: list[int] = []

    async def chunks() -> AsyncIterator[bytes]:
        for i in range(20):
            pulled.append(i)
            yield bytes([i]) * 1000

    seen: list[tuple[int, int]] = []  # (chunks the transport took, chunks the source yielded)

    async def handler(request: Request) -> Response:
        assert request.content is not None
        assert request.content.length is None
        taken = 0
        async for _ in request.content.chunks():
            taken += 1
            seen.append((taken, len(pulled)))
        return created()

    async with AsyncTwelveLabs(API_KEY, transport=MockTransport(handler), clock=clock) as client:
        await client.assets.create(file=chunks(), filename="clip.mp4")
    assert len(pulled) == 20
    # The form's head comes first, then one source chunk per piece taken: never ahead.
    assert all(yielded <= max(0, taken - 1) for taken, yielded in seen)


# --- create: checked before any request --------------------------------------------------------


def _bad_inputs(tmp_path: Path) -> list[tuple[dict[str, Any], str]]:
    big = tmp_path / "big.mp4"
    with big.open("wb") as f:
        f.truncate(200 * 1024 * 1024 + 1)  # sparse: nothing is written
    image = tmp_path / "big.png"
    with image.open("wb") as f:
        f.truncate(32 * 1024 * 1024 + 1)
    empty = tmp_path / "empty.mp4"
    empty.touch()
    url = "https://cdn.example.com/v.mp4"
    return [
        ({}, "exactly one of url= .* or file="),
        ({"url": url, "file": b"x", "filename": "x.mp4"}, "exactly one of"),
        ({"url": "ftp://cdn.example.com/v.mp4"}, "http:// or https://"),
        ({"url": "cdn.example.com/v.mp4"}, "http:// or https://"),
        ({"file": tmp_path / "missing.mp4"}, "does not exist"),
        ({"file": tmp_path}, "is a directory"),
        ({"file": empty}, "is empty"),
        ({"file": big}, "over the 200 MiB .* multipart"),
        ({"file": image}, "over the 32 MiB"),
        ({"file": url}, "is a URL; pass it as url="),
        ({"file": 42}, "file must be a path"),
        ({"url": url, "filename": ""}, "filename must be a non-empty string"),
        ({"url": url, "enable_hls": "yes"}, "enable_hls must be True, False or None"),
        ({"url": url, "user_metadata": {"k": None}}, r"user_metadata\['k'\] must be"),
        ({"url": url, "user_metadata": {"k": {"nested": 1}}}, "must be a string, a number"),
        ({"url": url, "user_metadata": {"k": [1, 2]}}, "must be a string, a number"),
        ({"url": url, "user_metadata": {"k": 2**53}}, "wider than 53 bits"),
        ({"url": url, "user_metadata": {"k": float("nan")}}, "finite"),
        ({"url": url, "user_metadata": {"": 1}}, "keys must be non-empty strings"),
        ({"url": url, "user_metadata": ["k"]}, "must be a mapping"),
    ]


async def test_bad_create_arguments_are_refused_before_any_request(
    tmp_path: Path, clock: FakeClock
) -> None:
    """Each argument the API would refuse raises InvalidInputError, and nothing is sent."""
    script = Script(created())
    async with client_for(script, clock) as client:
        for kwargs, message in _bad_inputs(tmp_path):
            with pytest.raises(InvalidInputError, match=message):
                await client.assets.create(**kwargs)
    assert script.requests == []


async def test_an_iterator_longer_than_the_limit_is_cut_off_and_not_retried(
    clock: FakeClock,
) -> None:
    """An async iterator past the direct limit for its type fails the request, sent once."""

    async def endless() -> AsyncIterator[bytes]:
        while True:
            yield b"\0" * (1024 * 1024)

    script = Script(created())
    async with client_for(script, clock) as client:
        with pytest.raises(InvalidInputError, match="more than the limit of 33,554,432 bytes"):
            await client.assets.create(file=endless(), filename="still.jpg")
    assert len(script.requests) == 1


# --- create: retries ---------------------------------------------------------------------------


async def test_a_path_is_sent_again_whole_after_a_503(video: Path, clock: FakeClock) -> None:
    """A 503 (the work was not done) is retried, and the file is read again from its start."""
    script = Script(Response(503), created())
    async with client_for(script, clock) as client:
        await client.assets.create(file=video)
    assert len(script.bodies) == 2
    assert form(script.requests[0], script.bodies[0])["file"][1] == VIDEO_BYTES
    assert form(script.requests[1], script.bodies[1])["file"][1] == VIDEO_BYTES


@pytest.mark.parametrize("request_sent", [True, False])
async def test_create_is_repeated_only_when_it_never_reached_the_server(
    video: Path, clock: FakeClock, request_sent: bool
) -> None:
    """A reset after sending is raised at once (no second asset); a refused connection retried."""
    script = Script(APIConnectionError("reset", request_sent=request_sent), created())
    async with client_for(script, clock) as client:
        if request_sent:
            with pytest.raises(APIConnectionError):
                await client.assets.create(file=video)
        else:
            await client.assets.create(file=video)
    assert len(script.requests) == (1 if request_sent else 2)
    assert all("Idempotency-Key" not in r.headers for r in script.requests)


async def test_a_cut_off_answer_to_create_is_not_retried(video: Path, clock: FakeClock) -> None:
    """A 201 whose body is cut off raises DecodeError: the asset may exist, so no resend."""
    script = Script(Response(201, body=b'{"_id": "a'))
    async with client_for(script, clock) as client:
        with pytest.raises(DecodeError):
            await client.assets.create(file=video)
    assert len(script.requests) == 1


async def test_an_async_iterator_is_never_sent_twice(clock: FakeClock) -> None:
    """A 503 on an iterator's upload is raised: its bytes are gone and cannot be resent."""

    async def chunks() -> AsyncIterator[bytes]:
        yield b"abc"

    script = Script(Response(503), created())
    async with client_for(script, clock) as client:
        with pytest.raises(ServerError):
            await client.assets.create(file=chunks(), filename="clip.mp4")
    assert len(script.requests) == 1


async def test_the_request_repr_shows_no_key_and_no_file_bytes(clock: FakeClock) -> None:
    """A create request's repr hides the API key and names the body only by type and length."""
    script = Script(created())
    async with client_for(script, clock) as client:
        await client.assets.create(file=b"SECRET-BYTES", filename="a.mp4")
    text = repr(script.requests[0])
    assert API_KEY not in text
    assert "SECRET-BYTES" not in text
    assert "<MultipartForm multipart/form-data length=" in text


# --- retrieve, list, delete --------------------------------------------------------------------

DETAIL = {
    **ASSET,
    "status": "ready",
    "hls": {"status": "ready", "manifest_url": "https://h/x.m3u8"},
    "thumbnail": {"status": "brand-new"},
    "technical_metadata": {"video_fps": 30.0, "future_key": [1]},
    "size": 10240,
    "duration": 12.5,
    "user_metadata": {"k": "v"},
}


async def test_retrieve_decodes_every_field_and_keeps_unknown_values(clock: FakeClock) -> None:
    """`_id` becomes asset_id; unknown statuses and metadata keys are kept as sent."""
    script = Script(Response.from_json(200, {**DETAIL, "method": "carrier-pigeon"}))
    async with client_for(script, clock) as client:
        asset = await client.assets.retrieve("a1")
    assert script.requests[0].url.endswith("/assets/a1")
    assert isinstance(asset, AssetDetail)
    assert (asset.asset_id, asset.status, asset.method) == ("a1", "ready", "carrier-pigeon")
    assert asset.is_terminal
    assert asset.hls is not None
    assert asset.hls.manifest_url == "https://h/x.m3u8"
    assert asset.thumbnail is not None
    assert asset.thumbnail.status == "brand-new"
    assert asset.technical_metadata == {"video_fps": 30.0, "future_key": [1]}
    assert (asset.size, asset.duration, asset.user_metadata) == (10240, 12.5, {"k": "v"})


async def test_retrieve_refuses_a_reply_about_another_asset(clock: FakeClock) -> None:
    """A body naming another asset is a DecodeError (retried, then raised)."""
    script = Script(Response.from_json(200, {**DETAIL, "_id": "a2"}))
    async with client_for(script, clock, retries=1) as client:
        with pytest.raises(DecodeError, match="asked for asset a1"):
            await client.assets.retrieve("a1")
    assert len(script.requests) == 2


def _page(ids: list[str], page: int, total_page: int) -> Response:
    data = [{**DETAIL, "_id": i} for i in ids]
    info = {"page": page, "total_page": total_page, "limit_per_page": 2, "total_results": 3}
    return Response.from_json(200, {"data": data, "page_info": info})


async def test_list_sends_repeated_filters_and_reads_every_page(clock: FakeClock) -> None:
    """asset_ids and asset_types repeat as query keys; every page is read, none past the last."""
    script = Script(_page(["a1", "a2"], 1, 2), _page(["a3"], 2, 2))
    async with client_for(script, clock) as client:
        listed = client.assets.list(
            asset_ids=["a1", "a2", "a3"],
            asset_types=["video", "audio"],
            filename="Clip",
            page_limit=2,
        )
        ids = [asset.asset_id async for asset in listed]
    assert ids == ["a1", "a2", "a3"]
    assert len(script.requests) == 2
    assert script.requests[1].params == (
        ("page", "2"),
        ("page_limit", "2"),
        ("asset_ids", "a1"),
        ("asset_ids", "a2"),
        ("asset_ids", "a3"),
        ("asset_types", "video"),
        ("asset_types", "audio"),
        ("filename", "Clip"),
    )


async def test_list_of_no_ids_yields_nothing_without_a_request(clock: FakeClock) -> None:
    """`asset_ids=[]` means no asset at all, not every asset: nothing is asked."""
    script = Script(_page(["a1"], 1, 1))
    async with client_for(script, clock) as client:
        assert [a async for a in client.assets.list(asset_ids=[])] == []
        one = [a.asset_id async for a in client.assets.list(asset_ids="a1")]
    assert one == ["a1"]
    assert len(script.requests) == 1


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda c: c.assets.retrieve(""), "asset_id is empty"),
        (lambda c: c.assets.retrieve("../a1"), "asset_id .* is not a valid id"),
        (lambda c: c.assets.delete("a 1"), "asset_id .* is not a valid id"),
        (lambda c: c.assets.delete("a1", force="yes"), "force must be True or False"),
        (lambda c: c.assets.list(page_limit=51).page(1), "page_limit must be between 1 and 50"),
        (lambda c: c.assets.list(asset_ids=["ok", "a/b"]).page(1), "asset_ids .* not a valid"),
        (lambda c: c.assets.list(asset_types=[3]).page(1), "asset_types must hold strings"),
    ],
)
async def test_bad_ids_and_options_are_refused_before_any_request(
    clock: FakeClock, call: Callable[[AsyncTwelveLabs], Any], message: str
) -> None:
    """Empty or malformed ids and bad options raise InvalidInputError; nothing is sent."""
    script = Script(Response(200))
    async with client_for(script, clock) as client:
        with pytest.raises(InvalidInputError, match=message):
            await call(client)
    assert script.requests == []


async def test_delete_sends_force_only_when_asked(clock: FakeClock) -> None:
    """delete() sends DELETE /assets/{id}, with force=true only when force=True."""
    script = Script(Response(200))
    async with client_for(script, clock) as client:
        await client.assets.delete("a1")
        await client.assets.delete("a1", force=True)
    assert [(r.method, r.params) for r in script.requests] == [
        ("DELETE", None),
        ("DELETE", (("force", "true"),)),
    ]


async def test_delete_of_an_asset_in_use_says_to_pass_force(clock: FakeClock) -> None:
    """A 409 raises AssetInUseError (a ConflictError) whose message says force=True."""
    body = {"code": "asset_in_use", "message": "Indexed assets reference this asset."}
    script = Script(Response.from_json(409, body))
    async with client_for(script, clock) as client:
        with pytest.raises(AssetInUseError, match="pass force=True") as caught:
            await client.assets.delete("a1")
        with pytest.raises(ConflictError) as forced:
            await client.assets.delete("a1", force=True)
    assert isinstance(caught.value, ConflictError)
    assert (caught.value.status_code, caught.value.code) == (409, "asset_in_use")
    assert not isinstance(forced.value, AssetInUseError)


async def test_delete_of_an_unknown_asset_is_not_found(clock: FakeClock) -> None:
    """A 404 with the flat body raises NotFoundError carrying the API's code."""
    body = {"code": "resource_not_exist", "message": "Resource with id a1 does not exist."}
    script = Script(Response.from_json(404, body))
    async with client_for(script, clock) as client:
        with pytest.raises(NotFoundError) as caught:
            await client.assets.delete("a1")
    assert caught.value.code == "resource_not_exist"


async def test_more_bad_inputs_are_refused_before_any_request(clock: FakeClock) -> None:
    """An iterator or bytes without a name, a non-string URL or filter: refused, nothing sent."""

    async def chunks() -> AsyncIterator[bytes]:
        yield b"x"

    script = Script(created())
    bad: list[tuple[Callable[[AsyncTwelveLabs], Any], str]] = [
        (lambda c: c.assets.create(file=chunks()), "pass filename= with an async iterator"),
        (lambda c: c.assets.create(url=b"https://x.example/v.mp4"), "url must be a string"),
        (lambda c: c.assets.create(file=Path("/dev/null")), "is not a regular file"),
        (lambda c: c.assets.list(filename=3).page(1), "filename must be a string"),
    ]
    async with client_for(script, clock) as client:
        for call, message in bad:
            with pytest.raises(InvalidInputError, match=message):
                await call(client)
    assert script.requests == []


async def test_an_iterator_yielding_text_is_refused_and_can_be_read_once() -> None:
    """An iterator source refuses str chunks, and a second reading is a RuntimeError."""

    async def text() -> AsyncIterator[Any]:
        yield "not bytes"

    source = IterSource(text())
    with pytest.raises(InvalidInputError, match="must yield bytes, got str"):
        async for _ in source.chunks():
            pass
    with pytest.raises(RuntimeError, match="once only"):
        async for _ in source.chunks():
            pass
