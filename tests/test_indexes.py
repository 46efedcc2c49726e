"""client.indexes and its indexed_assets on `MockTransport`: the wire, checks, errors."""

from __future__ import annotations

import random
import typing
from datetime import UTC, datetime
from typing import Any

import pytest

from tests.conftest import API_KEY, FakeClock
from twelvelabs_async import (
    APIConnectionError,
    AsyncTwelveLabs,
    DecodeError,
    IndexedAssetStatus,
    IndexEmbeddingOption,
    IndexModel,
    IndexModelOption,
    InvalidInputError,
    ModelFamily,
    Range,
    Request,
    Response,
    SortBy,
    SortOption,
)
from twelvelabs_async.indexes import _checks
from twelvelabs_async.testing import MockTransport

BASE = "https://api.twelvelabs.io/v1.3"
INDEX = {
    "_id": "i1",
    "index_name": "sports",
    "video_count": 2.0,
    "created_at": "2026-01-01T00:00:00Z",
}
ITEM = {"_id": "x1", "asset_id": "a1", "status": "indexing", "created_at": "2026-01-01T00:00:00Z"}


class Script:
    """Answers every request with the next reply (the last repeats) and records the requests."""

    def __init__(self, *replies: Response | BaseException) -> None:
        self.replies = list(replies)
        self.requests: list[Request] = []

    async def __call__(self, request: Request) -> Response:
        self.requests.append(request)
        reply = self.replies.pop(0) if len(self.replies) > 1 else self.replies[0]
        if isinstance(reply, BaseException):
            raise reply
        return reply


def page(items: list[dict[str, Any]], number: int = 1, total_page: int = 1) -> Response:
    """A list page."""
    info = {"page": number, "total_page": total_page, "limit_per_page": 50, "total_results": 9}
    return Response.from_json(200, {"data": items, "page_info": info})


def client_for(script: Script, clock: FakeClock, retries: int = 2) -> AsyncTwelveLabs:
    """A client on `MockTransport(script)` and the fake clock."""
    return AsyncTwelveLabs(
        API_KEY,
        transport=MockTransport(script),
        clock=clock,
        max_retries=retries,
        rng=random.Random(1),
    )


# --- indexes ---------------------------------------------------------------------------------


async def test_create_sends_the_name_models_and_addons(clock: FakeClock) -> None:
    """POST /indexes carries index_name, models as [{model_name, model_options}] and addons."""
    script = Script(Response.from_json(201, {"_id": "i1"}))
    async with client_for(script, clock) as client:
        ref = await client.indexes.create(
            "sports", models={"marengo3.0": ["visual", "audio"]}, addons=["thumbnail"]
        )
        await client.indexes.create("more", models=[IndexModel("marengo3.0", ("audio",))])
    assert ref.index_id == "i1"
    first, second = script.requests
    assert (first.method, first.url) == ("POST", f"{BASE}/indexes")
    assert first.json == {
        "index_name": "sports",
        "models": [{"model_name": "marengo3.0", "model_options": ["visual", "audio"]}],
        "addons": ["thumbnail"],
    }
    assert second.json == {
        "index_name": "more",
        "models": [{"model_name": "marengo3.0", "model_options": ["audio"]}],
    }


@pytest.mark.parametrize(
    ("name", "models", "says"),
    [
        ("", {"marengo3.0": ["visual"]}, "index_name must be a non-empty string"),
        ("  ", {"marengo3.0": ["visual"]}, "index_name must be a non-empty string"),
        ("a\nb", {"marengo3.0": ["visual"]}, "control character"),
        ("x", {}, "models is empty"),
        ("x", [], "models is empty"),
        ("x", {"marengo3.0": []}, "has no model_options"),
        ("x", {"marengo3.0": ["video"]}, "a model option of marengo3.0 must be one of"),
        ("x", {"marengo3.0": "visual"}, "must be a list"),
        ("x", {"marengo3.0": ["visual", "visual"]}, "repeats a model option"),
        ("x", "marengo3.0", "models must be a mapping"),
        ("x", [IndexModel(None, ("visual",))], "model_name must be a non-empty string"),
        ("x", [{"model_name": "marengo3.0"}], "models must hold IndexModel"),
    ],
)
async def test_create_refuses_bad_arguments_before_any_request(
    clock: FakeClock, name: str, models: Any, says: str
) -> None:
    """A bad name or models raise InvalidInputError saying what is wrong; nothing is sent."""
    script = Script(Response.from_json(201, {"_id": "i1"}))
    async with client_for(script, clock) as client:
        with pytest.raises(InvalidInputError, match=says):
            await client.indexes.create(name, models=models)
    assert script.requests == []


async def test_a_model_name_this_library_does_not_list_is_sent_as_given(clock: FakeClock) -> None:
    """The model choice stays open: an unknown model name and its options go on the wire."""
    script = Script(Response.from_json(201, {"_id": "i1"}))
    async with client_for(script, clock) as client:
        await client.indexes.create("x", models=[IndexModel("pegasus9", ("anything",))])
    assert script.requests[0].json["models"] == [
        {"model_name": "pegasus9", "model_options": ["anything"]}
    ]


async def test_create_is_not_sent_again_after_a_request_that_may_have_arrived(
    clock: FakeClock,
) -> None:
    """A reset after the request was sent raises: a second POST could create a second index."""
    script = Script(
        APIConnectionError("reset", request_sent=True), Response.from_json(201, {"_id": "i"})
    )
    async with client_for(script, clock) as client:
        with pytest.raises(APIConnectionError):
            await client.indexes.create("x", models={"marengo3.0": ["visual"]})
    assert len(script.requests) == 1


async def test_retrieve_decodes_every_field(clock: FakeClock) -> None:
    """GET /indexes/{id}: models, a float video_count, and timestamps as aware datetimes."""
    body = {
        **INDEX,
        "models": [{"model_name": "marengo3.0", "model_options": ["visual"]}],
        "addons": ["thumbnail"],
        "total_duration": 12.5,
        "updated_at": "2026-01-02T00:00:00Z",
        "expires_at": None,
        "new_field": 1,
    }
    script = Script(Response.from_json(200, body))
    async with client_for(script, clock) as client:
        index = await client.indexes.retrieve("i1")
    assert script.requests[0].url == f"{BASE}/indexes/i1"
    assert index.models == (IndexModel("marengo3.0", ("visual",)),)
    assert (index.video_count, index.total_duration, index.addons) == (2.0, 12.5, ("thumbnail",))
    assert index.created_at == datetime(2026, 1, 1, tzinfo=UTC)
    assert index.expires_at is None


async def test_a_reply_about_another_index_is_a_decode_error(clock: FakeClock) -> None:
    """An index body naming another id is malformed: retried, then DecodeError."""
    script = Script(Response.from_json(200, {**INDEX, "_id": "other"}))
    async with client_for(script, clock, retries=1) as client:
        with pytest.raises(DecodeError, match="asked for index i1"):
            await client.indexes.retrieve("i1")
    assert len(script.requests) == 2


async def test_list_sends_every_filter_and_reads_every_page(clock: FakeClock) -> None:
    """GET /indexes carries each filter; iteration reads pages until total_page."""
    script = Script(page([INDEX], 1, 2), page([{**INDEX, "_id": "i2"}], 2, 2))
    async with client_for(script, clock) as client:
        ids = [
            i.index_id
            async for i in client.indexes.list(
                index_name="sports",
                model_options=["visual", "audio"],
                model_family="marengo",
                created_at=datetime(2026, 1, 1),
                updated_at="2026-01-02T00:00:00Z",
                sort_by="updated_at",
                sort_option="asc",
                page_limit=20,
            )
        ]
    assert ids == ["i1", "i2"]
    assert script.requests[0].params == (
        ("page", "1"),
        ("page_limit", "20"),
        ("index_name", "sports"),
        ("model_options", "visual,audio"),
        ("model_family", "marengo"),
        ("created_at", "2026-01-01T00:00:00Z"),
        ("updated_at", "2026-01-02T00:00:00Z"),
        ("sort_by", "updated_at"),
        ("sort_option", "asc"),
    )
    assert script.requests[1].params is not None
    assert script.requests[1].params[0] == ("page", "2")


@pytest.mark.parametrize(
    ("filters", "says"),
    [
        ({"model_options": ["video"]}, "model_options must be one of"),
        ({"model_family": "gpt"}, "model_family must be one of"),
        ({"sort_by": "name"}, "sort_by must be one of"),
        ({"sort_option": "up"}, "sort_option must be one of"),
        ({"created_at": "yesterday"}, "not an RFC 3339 date"),
        ({"updated_at": 5}, "must be a datetime or an RFC 3339 string"),
        ({"page_limit": 51}, "page_limit"),
    ],
)
def test_list_refuses_bad_filters(clock: FakeClock, filters: dict[str, Any], says: str) -> None:
    """A bad filter raises InvalidInputError when list() is called, before any request."""
    client = client_for(Script(page([])), clock)
    with pytest.raises(InvalidInputError, match=says):
        client.indexes.list(**filters)


async def test_update_and_delete(clock: FakeClock) -> None:
    """PUT /indexes/{id} carries the new name; DELETE /indexes/{id} has no body."""
    script = Script(Response(200, {}, b""))
    async with client_for(script, clock) as client:
        await client.indexes.update("i1", index_name="renamed")
        await client.indexes.delete("i1")
        with pytest.raises(InvalidInputError, match="index_name"):
            await client.indexes.update("i1", index_name="")
        with pytest.raises(InvalidInputError, match="not a valid id"):
            await client.indexes.delete("../assets")
    put, delete = script.requests
    assert (put.method, put.url, put.json) == (
        "PUT",
        f"{BASE}/indexes/i1",
        {"index_name": "renamed"},
    )
    assert (delete.method, delete.url, delete.json) == ("DELETE", f"{BASE}/indexes/i1", None)


# --- indexed assets --------------------------------------------------------------------------


async def test_indexing_an_asset_posts_its_id_and_options(clock: FakeClock) -> None:
    """POST .../indexed-assets carries asset_id, enable_video_stream and user_metadata."""
    script = Script(Response.from_json(202, {"_id": "x1", "asset_id": "a1"}))
    async with client_for(script, clock) as client:
        ref = await client.indexes.indexed_assets.create(
            "i1", "a1", enable_video_stream=True, user_metadata={"team": "a", "n": 3}
        )
        await client.indexes.indexed_assets.create("i1", "a1")
    assert (ref.indexed_asset_id, ref.asset_id) == ("x1", "a1")
    first, second = script.requests
    assert (first.method, first.url) == ("POST", f"{BASE}/indexes/i1/indexed-assets")
    assert first.json == {
        "asset_id": "a1",
        "enable_video_stream": True,
        "user_metadata": {"team": "a", "n": 3},
    }
    assert second.json == {"asset_id": "a1"}


@pytest.mark.parametrize(
    ("args", "kwargs", "says"),
    [
        (("i1", ""), {}, "asset_id is empty"),
        (("i/1", "a1"), {}, "index_id 'i/1' is not a valid id"),
        (("i1", "a1"), {"enable_video_stream": "yes"}, "enable_video_stream must be True or False"),
        (("i1", "a1"), {"user_metadata": {"k": None}}, "user_metadata"),
        (("i1", "a1"), {"user_metadata": {"k": 2**60}}, "wider than 53 bits"),
    ],
)
async def test_indexing_refuses_bad_arguments_before_any_request(
    clock: FakeClock, args: tuple[str, str], kwargs: dict[str, Any], says: str
) -> None:
    """Bad ids, flags or metadata raise InvalidInputError; nothing is sent."""
    script = Script(Response.from_json(202, {"_id": "x1"}))
    async with client_for(script, clock) as client:
        with pytest.raises(InvalidInputError, match=says):
            await client.indexes.indexed_assets.create(*args, **kwargs)
    assert script.requests == []


async def test_retrieve_asks_for_embeddings_and_words_and_decodes_them(clock: FakeClock) -> None:
    """embedding_option repeats, transcription=true; segment vectors decode to floats."""
    body = {
        **ITEM,
        "status": "ready",
        "indexed_at": "2026-01-01T00:01:00Z",
        "system_metadata": {"filename": "a.mp4", "duration": 10, "width": 1280, "size": 5.0},
        "hls": {"video_url": "u", "thumbnail_urls": ["t"], "status": "COMPLETE"},
        "embedding": {
            "model_name": "marengo3.0",
            "video_embedding": {
                "segments": [
                    {"float": [0.5, -1, 2.25], "start_offset_sec": 0, "end_offset_sec": 6,
                     "embedding_option": "visual", "embedding_scope": "clip"}
                ]
            },
        },
        "transcription": [{"start": 0, "end": 1.5, "value": "hello"}],
    }  # fmt: skip
    script = Script(Response.from_json(200, body))
    async with client_for(script, clock) as client:
        item = await client.indexes.indexed_assets.retrieve(
            "i1", "x1", embedding_option=["visual", "audio"], transcription=True
        )
    assert script.requests[0].url == f"{BASE}/indexes/i1/indexed-assets/x1"
    assert script.requests[0].params == (
        ("embedding_option", "visual"),
        ("embedding_option", "audio"),
        ("transcription", "true"),
    )
    assert item.status is IndexedAssetStatus.READY
    assert item.is_terminal
    assert item.embedding is not None
    assert item.embedding.video_embedding is not None
    segments = item.embedding.video_embedding.segments or ()
    assert [s.vector for s in segments] == [(0.5, -1.0, 2.25)]
    assert item.transcription is not None
    assert item.transcription[0].value == "hello"
    assert item.hls is not None
    assert item.hls.thumbnail_urls == ("t",)
    assert item.system_metadata is not None
    assert item.system_metadata.duration == 10.0


async def test_retrieve_refuses_an_unknown_embedding_option(clock: FakeClock) -> None:
    """An embedding option the API does not document raises before any request."""
    script = Script(Response.from_json(200, ITEM))
    async with client_for(script, clock) as client:
        with pytest.raises(InvalidInputError, match="embedding_option must be one of"):
            await client.indexes.indexed_assets.retrieve("i1", "x1", embedding_option=["text"])
        with pytest.raises(InvalidInputError, match="transcription must be True or False"):
            await client.indexes.indexed_assets.retrieve("i1", "x1", transcription="yes")  # type: ignore[arg-type]
    assert script.requests == []


async def test_an_unknown_status_is_kept(clock: FakeClock) -> None:
    """A status the API adds later decodes as its string and is not terminal."""
    script = Script(Response.from_json(200, {**ITEM, "status": "transcoding"}))
    async with client_for(script, clock) as client:
        item = await client.indexes.indexed_assets.retrieve("i1", "x1")
    assert (item.status, item.is_terminal) == ("transcoding", False)


async def test_list_sends_every_filter(clock: FakeClock) -> None:
    """Status repeats; ranges as key[gte]/key[lte]; metadata as user_metadata[key]."""
    script = Script(page([ITEM]))
    async with client_for(script, clock) as client:
        items = [
            i.indexed_asset_id
            async for i in client.indexes.indexed_assets.list(
                "i1",
                status=["ready", IndexedAssetStatus.FAILED],
                filename="a.mp4",
                duration=Range(gte=60),
                fps=Range(lte=30.5),
                width=Range(gte=1280, lte=1280),
                height=Range(lte=720),
                size=Range(gte=1.0),
                created_at=datetime(2026, 1, 1, 12, tzinfo=UTC),
                updated_at="2026-01-02T00:00:00Z",
                user_metadata={"team": "a", "n": 5, "ok": True, "r": 9.5},
                sort_by="created_at",
                sort_option="desc",
            )
        ]
    assert items == ["x1"]
    request = script.requests[0]
    assert request.url == f"{BASE}/indexes/i1/indexed-assets"
    assert request.params == (
        ("page", "1"),
        ("page_limit", "50"),
        ("status", "ready"),
        ("status", "failed"),
        ("filename", "a.mp4"),
        ("duration[gte]", "60"),
        ("fps[lte]", "30.5"),
        ("width[gte]", "1280"),
        ("width[lte]", "1280"),
        ("height[lte]", "720"),
        ("size[gte]", "1"),
        ("created_at", "2026-01-01T12:00:00Z"),
        ("updated_at", "2026-01-02T00:00:00Z"),
        ("user_metadata[team]", "a"),
        ("user_metadata[n]", "5"),
        ("user_metadata[ok]", "true"),
        ("user_metadata[r]", "9.5"),
        ("sort_by", "created_at"),
        ("sort_option", "desc"),
    )


@pytest.mark.parametrize(
    ("filters", "says"),
    [
        ({"duration": Range()}, "duration is a Range with no bound"),
        ({"duration": Range(gte=10, lte=5)}, "duration is empty"),
        ({"fps": Range(gte=float("nan"))}, "fps.gte"),
        ({"width": Range(gte=-1)}, "width.gte"),
        ({"size": (1, 2)}, "size must be a Range"),
        ({"status": [""]}, "status must hold non-empty strings"),
        ({"status": 3}, "status must be a string or a list of strings"),
        ({"user_metadata": {"a[b]": 1}}, "without brackets"),
        ({"user_metadata": {"k": ["x"]}}, "a string, a number or a bool"),
        ({"created_at": "soon"}, "not an RFC 3339"),
        ({"sort_by": "status"}, "sort_by must be one of"),
    ],
)
def test_list_of_indexed_assets_refuses_bad_filters(
    clock: FakeClock, filters: dict[str, Any], says: str
) -> None:
    """A bad filter raises InvalidInputError when list() is called, before any request."""
    client = client_for(Script(page([])), clock)
    with pytest.raises(InvalidInputError, match=says):
        client.indexes.indexed_assets.list("i1", **filters)


async def test_update_patches_metadata_and_null_deletes_a_key(clock: FakeClock) -> None:
    """PATCH .../indexed-assets/{id} carries user_metadata; a None value is sent as null."""
    script = Script(Response(200, {}, b""))
    async with client_for(script, clock) as client:
        await client.indexes.indexed_assets.update("i1", "x1", user_metadata={"a": 1, "b": None})
        await client.indexes.indexed_assets.delete("i1", "x1")
    patch, delete = script.requests
    assert (patch.method, patch.url) == ("PATCH", f"{BASE}/indexes/i1/indexed-assets/x1")
    assert patch.json == {"user_metadata": {"a": 1, "b": None}}
    assert (delete.method, delete.url) == ("DELETE", f"{BASE}/indexes/i1/indexed-assets/x1")


async def test_of_asset_lists_the_indexes_an_asset_is_in(clock: FakeClock) -> None:
    """GET /assets/{id}/indexed-assets yields each membership with its index's id and name."""
    script = Script(page([{"_id": "x1", "index": {"_id": "i1", "name": "sports"}}]))
    async with client_for(script, clock) as client:
        members = [m async for m in client.indexes.indexed_assets.of_asset("a1", page_limit=10)]
    assert script.requests[0].url == f"{BASE}/assets/a1/indexed-assets"
    assert script.requests[0].params == (("page", "1"), ("page_limit", "10"))
    assert [(m.indexed_asset_id, m.index and m.index.name) for m in members] == [("x1", "sports")]


@pytest.mark.parametrize(
    ("literal", "checked"),
    [
        (IndexModelOption, _checks.MODEL_OPTIONS),
        (IndexEmbeddingOption, _checks.EMBEDDING_OPTIONS),
        (SortBy, _checks.SORT_BY),
        (SortOption, _checks.SORT_OPTIONS),
        (ModelFamily, _checks.MODEL_FAMILIES),
    ],
    ids=["model_options", "embedding_option", "sort_by", "sort_option", "model_family"],
)
def test_each_literal_type_is_what_is_checked_at_run_time(
    literal: object, checked: tuple[str, ...]
) -> None:
    """The values a type checker allows are exactly those the run-time check accepts."""
    assert typing.get_args(literal) == checked
