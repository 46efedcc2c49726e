"""client.embed on `MockTransport`: bodies per input and model, checks first, decoding."""

from __future__ import annotations

import json
import random
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from tests.conftest import API_KEY, FakeClock
from twelvelabs_async import (
    AsyncTwelveLabs,
    AudioEmbedInput,
    DecodeError,
    DocumentEmbedInput,
    DynamicSegments,
    EmbeddingOption,
    EmbeddingTask,
    EmbeddingVector,
    EmbedSource,
    FileEmbeddingMetadata,
    FixedSegments,
    ImageEmbedInput,
    InvalidInputError,
    MediaEmbeddingMetadata,
    Request,
    Response,
    SentenceChunks,
    TimedText,
    VideoEmbedInput,
)
from twelvelabs_async._convert import structure
from twelvelabs_async.embed._source import EmbedTaskSource, ListedTask
from twelvelabs_async.testing import MockTransport

URL = "https://media.example.com/clip.mp4"
CREATED = {"_id": "t1", "status": "processing", "data": None}


class Script:
    """Answers every request with `reply`; records each request and its JSON body."""

    def __init__(self, reply: Response) -> None:
        self.reply = reply
        self.requests: list[Request] = []
        self.bodies: list[Any] = []

    async def __call__(self, request: Request) -> Response:
        self.requests.append(request)
        self.bodies.append(request.json)
        return self.reply


def client_for(script: Script, clock: FakeClock) -> AsyncTwelveLabs:
    """A client on `MockTransport(script)` that never retries."""
    return AsyncTwelveLabs(
        API_KEY, transport=MockTransport(script), clock=clock, max_retries=0, rng=random.Random(1)
    )


async def sent_body(clock: FakeClock, **kwargs: Any) -> Any:
    """The JSON body `embed.tasks.create(**kwargs)` puts on the wire."""
    script = Script(Response.from_json(202, CREATED))
    async with client_for(script, clock) as client:
        task = await client.embed.tasks.create(**kwargs)
    assert task.task_id == "t1"
    assert [r.method for r in script.requests] == ["POST"]
    assert script.requests[0].url.endswith("/embed-v2/tasks")
    return script.bodies[0]


async def test_video_on_35_wraps_segmentation_in_temporal(clock: FakeClock) -> None:
    """On marengo3.5 a video's segmentation goes inside `temporal`, with the 3.5-only fields."""
    body = await sent_body(
        clock,
        model_name="marengo3.5",
        embedding_dimension=1024,
        video=VideoEmbedInput(
            EmbedSource(asset_id="a1"),
            start_sec=5,
            end_sec=65,
            segmentation=DynamicSegments(3),
            embedding_option=["visual", "audio"],
            embedding_scope=["clip"],
        ),
        embedding_uncertainty=True,
    )
    assert body == {
        "input_type": "video",
        "model_name": "marengo3.5",
        "embedding_dimension": 1024,
        "embedding_uncertainty": True,
        "video": {
            "media_source": {"asset_id": "a1"},
            "start_sec": 5.0,
            "end_sec": 65.0,
            "segmentation": {
                "temporal": {"strategy": "dynamic", "dynamic": {"min_duration_sec": 3}}
            },
            "embedding_option": ["visual", "audio"],
            "embedding_scope": ["clip"],
        },
    }


async def test_video_on_30_sends_segmentation_bare(clock: FakeClock) -> None:
    """On marengo3.0 the same segmentation is sent without the `temporal` wrapper."""
    body = await sent_body(
        clock,
        model_name="marengo3.0",
        video=VideoEmbedInput(
            URL, segmentation=FixedSegments(6), embedding_option=["transcription", "visual"]
        ),
    )
    assert body == {
        "input_type": "video",
        "model_name": "marengo3.0",
        "video": {
            "media_source": {"url": URL},
            "segmentation": {"strategy": "fixed", "fixed": {"duration_sec": 6}},
            "embedding_option": ["transcription", "visual"],
        },
    }


async def test_fused_video_on_35_carries_time_based_metadata(clock: FakeClock) -> None:
    """A fused video embedding on 3.5 sends its options, types and timed texts."""
    body = await sent_body(
        clock,
        model_name="marengo3.5",
        video=VideoEmbedInput(
            EmbedSource(url=URL),
            embedding_option=["visual", "audio"],
            embedding_type=["separate_embedding", "fused_embedding"],
            time_based_metadata=[TimedText(0, 4, "intro")],
        ),
    )
    assert body["video"]["embedding_type"] == ["separate_embedding", "fused_embedding"]
    assert body["video"]["time_based_metadata"] == [{"start": 0, "end": 4, "text": "intro"}]


async def test_audio_on_35_is_segmented_in_temporal(clock: FakeClock) -> None:
    """Audio on 3.5 takes the temporal shape, fixed clips included."""
    body = await sent_body(
        clock,
        model_name="marengo3.5",
        audio=AudioEmbedInput(URL, segmentation=FixedSegments(4), embedding_scope=["clip"]),
    )
    assert body["audio"]["segmentation"] == {
        "temporal": {"strategy": "fixed", "fixed": {"duration_sec": 4}}
    }


async def test_image_and_document_bodies(clock: FakeClock) -> None:
    """An image sends its source (and single values); a document its segmentation."""
    image = await sent_body(
        clock,
        model_name="marengo3.5",
        image=ImageEmbedInput(EmbedSource(base64_string="aGVsbG8="), embedding_scope=["asset"]),
    )
    assert image == {
        "input_type": "image",
        "model_name": "marengo3.5",
        "image": {"media_source": {"base64_string": "aGVsbG8="}, "embedding_scope": ["asset"]},
    }
    document = await sent_body(
        clock,
        model_name="marengo3.5",
        document=DocumentEmbedInput(
            "https://docs.example.com/notes.md",
            embedding_option=["text"],
            embedding_scope=["local"],
            sequential=SentenceChunks(5, overlap_sentences=1),
        ),
    )
    assert document["document"] == {
        "media_source": {"url": "https://docs.example.com/notes.md"},
        "segmentation": {
            "sequential": {"strategy": "sentence", "max_sentences": 5, "overlap_sentences": 1}
        },
        "embedding_option": ["text"],
        "embedding_scope": ["local"],
    }


BAD: list[tuple[str, dict[str, Any]]] = [
    ("model_name", {"model_name": "marengo2.7", "video": VideoEmbedInput(URL)}),
    ("exactly one of video", {"model_name": "marengo3.5"}),
    (
        "exactly one of video",
        {"model_name": "marengo3.5", "video": VideoEmbedInput(URL), "audio": AudioEmbedInput(URL)},
    ),
    ("takes a VideoEmbedInput", {"model_name": "marengo3.5", "video": AudioEmbedInput(URL)}),
    (
        "embedding_dimension exists only",
        {"model_name": "marengo3.0", "embedding_dimension": 512, "video": VideoEmbedInput(URL)},
    ),
    (
        "embedding_uncertainty exists only",
        {
            "model_name": "marengo3.0",
            "embedding_uncertainty": True,
            "video": VideoEmbedInput(URL, embedding_scope=["clip"]),
        },
    ),
    (
        "without 'asset'",
        {"model_name": "marengo3.5", "embedding_uncertainty": True, "video": VideoEmbedInput(URL)},
    ),
    ("need model_name='marengo3.5'", {"model_name": "marengo3.0", "image": ImageEmbedInput(URL)}),
    (
        "need model_name='marengo3.5'",
        {"model_name": "marengo3.0", "document": DocumentEmbedInput(URL)},
    ),
    (
        "'transcription' exists only",
        {
            "model_name": "marengo3.5",
            "video": VideoEmbedInput(URL, embedding_option=["transcription"]),
        },
    ),
    (
        "two or more embedding options",
        {
            "model_name": "marengo3.5",
            "video": VideoEmbedInput(
                URL, embedding_option=["visual"], embedding_type=["separate_embedding"]
            ),
        },
    ),
    (
        "two or more embedding options",
        {
            "model_name": "marengo3.5",
            "audio": AudioEmbedInput(URL, embedding_type=["separate_embedding"]),
        },
    ),
    (
        "needs video.time_based_metadata",
        {
            "model_name": "marengo3.5",
            "video": VideoEmbedInput(URL, embedding_type=["fused_embedding"]),
        },
    ),
    (
        "takes only ['visual']",
        {
            "model_name": "marengo3.5",
            "image": ImageEmbedInput(URL, embedding_option=["visual", "visual"]),
        },
    ),
    (
        "fixed clips",
        {
            "model_name": "marengo3.0",
            "audio": AudioEmbedInput(URL, segmentation=DynamicSegments(4)),
        },
    ),
    (
        "36 MB",
        {
            "model_name": "marengo3.5",
            "video": VideoEmbedInput(EmbedSource(base64_string="A" * (49 * 1024 * 1024))),
        },
    ),
    (
        "32 MB",
        {
            "model_name": "marengo3.5",
            "image": ImageEmbedInput(EmbedSource(base64_string="A" * (44 * 1024 * 1024))),
        },
    ),
    (
        "exactly one of url",
        {"model_name": "marengo3.5", "video": VideoEmbedInput(EmbedSource(url=URL, asset_id="a1"))},
    ),
    ("http", {"model_name": "marengo3.5", "video": VideoEmbedInput("ftp://x/y.mp4")}),
    (
        "not a valid id",
        {"model_name": "marengo3.5", "video": VideoEmbedInput(EmbedSource(asset_id="../x"))},
    ),
    (
        "end_sec must be after",
        {"model_name": "marengo3.5", "video": VideoEmbedInput(URL, start_sec=9, end_sec=3)},
    ),
    (
        "needs sequential",
        {"model_name": "marengo3.5", "document": DocumentEmbedInput("https://d.example.com/a.txt")},
    ),
    (
        "PDFs only",
        {
            "model_name": "marengo3.5",
            "document": DocumentEmbedInput(
                "https://d.example.com/a.md",
                embedding_option=["visual"],
                sequential=SentenceChunks(3),
            ),
        },
    ),
    (
        "embedding_scope=['local']",
        {
            "model_name": "marengo3.5",
            "embedding_uncertainty": True,
            "document": DocumentEmbedInput(EmbedSource(asset_id="d1")),
        },
    ),
    (
        "refused for PDFs",
        {
            "model_name": "marengo3.5",
            "embedding_uncertainty": True,
            "document": DocumentEmbedInput(
                "https://d.example.com/a.pdf", embedding_scope=["local"]
            ),
        },
    ),
]


@pytest.mark.parametrize(("message", "kwargs"), BAD)
async def test_bad_requests_are_refused_before_any_request(
    clock: FakeClock, message: str, kwargs: dict[str, Any]
) -> None:
    """Each rule the API documents raises InvalidInputError naming it, and nothing is sent."""
    script = Script(Response.from_json(202, CREATED))
    async with client_for(script, clock) as client:
        with pytest.raises(InvalidInputError) as caught:
            await client.embed.tasks.create(**kwargs)
    assert message in str(caught.value)
    assert script.requests == []


@pytest.mark.parametrize(
    ("model", "expected"),
    [
        (
            "marengo3.0",
            {"input_type": "text", "model_name": "marengo3.0", "text": {"input_text": "a red car"}},
        ),
        (
            "marengo3.5",
            {
                "input_type": "multi_input",
                "model_name": "marengo3.5",
                "embedding_dimension": 256,
                "multi_input": {"input_text": "a red car"},
            },
        ),
    ],
)
async def test_text_embeddings_are_shaped_per_model(
    clock: FakeClock, model: str, expected: dict[str, Any]
) -> None:
    """Text goes to POST /embed-v2 as `text` on 3.0 and `multi_input` on 3.5; the vector decodes."""
    reply = {"data": [{"embedding": [0.25, -1.5], "embedding_option": None}]}
    script = Script(Response.from_json(200, reply))
    extra = {"embedding_dimension": 256} if model == "marengo3.5" else {}
    async with client_for(script, clock) as client:
        result = await client.embed.create(text="a red car", model_name=model, **extra)  # type: ignore[arg-type]
    assert script.requests[0].url.endswith("/embed-v2")
    assert script.bodies[0] == expected
    assert result.embedding == [0.25, -1.5]


async def test_text_options_of_35_are_refused_on_30(clock: FakeClock) -> None:
    """auto_truncate on marengo3.0 raises before any request."""
    script = Script(Response.from_json(200, {"data": []}))
    async with client_for(script, clock) as client:
        with pytest.raises(InvalidInputError, match="auto_truncate"):
            await client.embed.create(text="x", model_name="marengo3.0", auto_truncate=True)
    assert script.requests == []


def ready_task(vectors: list[list[float]]) -> dict[str, Any]:
    """A ready task body with these vectors as clips."""
    return {
        "_id": "t1",
        "status": "ready",
        "created_at": "2026-01-01T00:00:00Z",
        "data": [
            {
                "embedding": v,
                "embedding_option": "visual",
                "embedding_scope": "clip",
                "start_sec": i * 2,
                "end_sec": i * 2 + 2,
            }
            for i, v in enumerate(vectors)
        ],
        "metadata": {
            "input_type": "video",
            "embedding_options": ["visual"],
            "embedding_scopes": ["clip"],
            "duration": 4.0,
        },
        "usage": {"input_tokens": {"video": 40}, "truncated": False},
    }


def test_vectors_decode_exactly_into_compact_vectors() -> None:
    """Every number decodes to the exact double the JSON names, in an EmbeddingVector."""
    numbers = "[0.1,-2.5e-7,3,0.30000000000000004,1e308]"
    text = '{"_id":"t1","status":"ready","data":[{"embedding":' + numbers + "}]}"
    task = structure(json.loads(text), EmbeddingTask)
    assert task.data is not None
    vector = task.data[0].embedding
    assert isinstance(vector, EmbeddingVector)
    assert vector.tolist() == [0.1, -2.5e-7, 3.0, 0.30000000000000004, 1e308]
    assert list(vector[1:3]) == [-2.5e-7, 3.0]
    assert vector.nbytes == 40
    view = vector.memory
    assert view.readonly
    assert view.format == "d"


def test_embedding_vector_behaves_like_a_read_only_sequence() -> None:
    """Length, indexing, equality with lists and vectors, hashing; no item assignment."""
    vector = EmbeddingVector([1.0, 2.0, 3.0])
    assert len(vector) == 3
    assert vector[-1] == 3.0
    assert vector == [1.0, 2.0, 3.0]
    assert vector == EmbeddingVector((1.0, 2.0, 3.0))
    assert vector != [1.0, 2.0]
    assert hash(vector) == hash(EmbeddingVector([1.0, 2.0, 3.0]))
    assert "len=3" in repr(vector)
    with pytest.raises(TypeError):
        vector[0] = 5.0  # type: ignore[index]


def test_open_enums_and_the_metadata_union() -> None:
    """Unknown options and scopes are kept as strings; metadata is chosen by input_type."""
    body = ready_task([[0.5]])
    body["data"][0]["embedding_option"] = "smell"
    body["data"][0]["embedding_scope"] = "galaxy"
    task = structure(body, EmbeddingTask)
    assert task.data is not None
    assert task.data[0].embedding_option == "smell"
    assert task.data[0].embedding_scope == "galaxy"
    assert isinstance(task.metadata, MediaEmbeddingMetadata)
    assert task.metadata.duration == 4.0
    assert task.usage is not None
    assert task.usage.input_tokens == {"video": 40}
    image = structure(
        {"_id": "t2", "status": "ready", "data": [], "metadata": {"input_type": "image"}},
        EmbeddingTask,
    )
    assert isinstance(image.metadata, FileEmbeddingMetadata)
    known = structure(ready_task([[0.5]]), EmbeddingTask)
    assert known.data is not None
    assert known.data[0].embedding_option is EmbeddingOption.VISUAL


def test_a_vector_that_is_not_numbers_is_a_decode_error_with_its_path() -> None:
    """A string inside a vector raises DecodeError naming the JSON path."""
    body = ready_task([[0.5, "x"]])  # type: ignore[list-item]
    with pytest.raises(DecodeError) as caught:
        structure(body, EmbeddingTask)
    assert caught.value.path == "$.data[0].embedding"


async def list_query(clock: FakeClock, **kwargs: Any) -> list[tuple[str, str]]:
    """The query of the first page `embed.tasks.list(**kwargs)` asks for."""
    page = {"data": [], "page_info": {"page": 1, "total_page": 1, "limit_per_page": 50}}
    script = Script(Response.from_json(200, page))
    async with client_for(script, clock) as client:
        items = [item async for item in client.embed.tasks.list(**kwargs)]
    assert items == []
    return list(script.requests[0].params or ())


async def test_list_sends_status_and_dates_and_no_dates_by_default(clock: FakeClock) -> None:
    """Without dates none is sent (the API's 7-day window); given ones go as RFC 3339."""
    assert await list_query(clock) == [("page", "1"), ("page_limit", "50")]
    start = datetime(2026, 1, 1, tzinfo=UTC)
    query = await list_query(
        clock, status="ready", started_at=start, ended_at=start + timedelta(days=2)
    )
    assert ("status", "ready") in query
    assert ("started_at", "2026-01-01T00:00:00Z") in query
    assert ("ended_at", "2026-01-03T00:00:00Z") in query


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"status": "done"}, "status must be"),
        ({"started_at": datetime(2026, 1, 1)}, "timezone-aware"),
        (
            {
                "started_at": datetime(2026, 1, 2, tzinfo=UTC),
                "ended_at": datetime(2026, 1, 1, tzinfo=UTC),
            },
            "not be after",
        ),
        ({"page_limit": 51}, "page_limit"),
    ],
)
def test_bad_list_arguments_are_refused(kwargs: dict[str, Any], message: str) -> None:
    """A bad status, a naive or inverted window, a page limit over 50 raise at once."""
    client = AsyncTwelveLabs(API_KEY, transport=MockTransport(Script(Response(200))))
    with pytest.raises(InvalidInputError, match=message):
        client.embed.tasks.list(**kwargs)


def test_a_list_item_never_stands_for_a_task() -> None:
    """The source's list items refuse `full()`: a sweep can only flag a task for a retrieve."""
    item = ListedTask("t1", "ready", None)
    with pytest.raises(DecodeError, match="retrieve"):
        item.full()


async def test_the_source_cannot_cancel(clock: FakeClock) -> None:
    """Embedding tasks cannot be canceled: the source says so without a request."""
    script = Script(Response(200))
    async with client_for(script, clock) as client:
        source = EmbedTaskSource(client._http)
        with pytest.raises(InvalidInputError, match="cannot be canceled"):
            await source.cancel("t1")
    assert script.requests == []


MORE_BAD: list[tuple[str, dict[str, Any]]] = [
    (
        "embedding_uncertainty exists only",
        {"model_name": "marengo3.0", "embedding_uncertainty": False, "video": VideoEmbedInput(URL)},
    ),
    (
        "non-empty list",
        {"model_name": "marengo3.5", "video": VideoEmbedInput(URL, embedding_option=[])},
    ),
    (
        "twice",
        {
            "model_name": "marengo3.5",
            "video": VideoEmbedInput(URL, embedding_option=["visual", "visual"]),
        },
    ),
    (
        "takes 'clip'",
        {"model_name": "marengo3.5", "video": VideoEmbedInput(URL, embedding_scope=["page"])},
    ),  # type: ignore[list-item]
    ("an EmbedSource or a URL", {"model_name": "marengo3.5", "video": VideoEmbedInput(42)}),  # type: ignore[arg-type]
    (
        "url must be a string",
        {"model_name": "marengo3.5", "video": VideoEmbedInput(EmbedSource(url=b"x"))},
    ),  # type: ignore[arg-type]
    (
        "non-empty base64",
        {"model_name": "marengo3.5", "video": VideoEmbedInput(EmbedSource(base64_string=""))},
    ),
    (
        "is not base64",
        {"model_name": "marengo3.5", "video": VideoEmbedInput(EmbedSource(base64_string="é" * 8))},
    ),
    (
        "DynamicSegments or FixedSegments",
        {"model_name": "marengo3.5", "video": VideoEmbedInput(URL, segmentation=6)},
    ),  # type: ignore[arg-type]
    (
        "duration_sec",
        {"model_name": "marengo3.5", "video": VideoEmbedInput(URL, segmentation=FixedSegments(0))},
    ),
    (
        "min_duration_sec",
        {
            "model_name": "marengo3.5",
            "video": VideoEmbedInput(URL, segmentation=DynamicSegments(2.5)),
        },
    ),  # type: ignore[arg-type]
    (
        "list of TimedText",
        {"model_name": "marengo3.5", "video": VideoEmbedInput(URL, time_based_metadata=[])},
    ),
    (
        "holds TimedText",
        {
            "model_name": "marengo3.5",
            "video": VideoEmbedInput(URL, time_based_metadata=[{"start": 0}]),
        },
    ),  # type: ignore[list-item]
    (
        "text must be a non-empty",
        {
            "model_name": "marengo3.5",
            "video": VideoEmbedInput(URL, time_based_metadata=[TimedText(0, 2, " ")]),
        },
    ),
    (
        "end must be",
        {
            "model_name": "marengo3.5",
            "video": VideoEmbedInput(URL, time_based_metadata=[TimedText(3, 2, "x")]),
        },
    ),
    ("start_sec", {"model_name": "marengo3.5", "video": VideoEmbedInput(URL, start_sec=-1)}),
    (
        "'standard' or 'quadrants'",
        {"model_name": "marengo3.5", "document": DocumentEmbedInput(URL, spatial="halves")},
    ),  # type: ignore[arg-type]
    (
        "overlap_sentences",
        {
            "model_name": "marengo3.5",
            "document": DocumentEmbedInput(URL, sequential=SentenceChunks(3, overlap_sentences=3)),
        },
    ),
    (
        "max_sentences",
        {
            "model_name": "marengo3.5",
            "document": DocumentEmbedInput(URL, sequential=SentenceChunks(0)),
        },
    ),
    (
        "takes 'local'",
        {"model_name": "marengo3.5", "document": DocumentEmbedInput(URL, embedding_scope=["clip"])},
    ),  # type: ignore[list-item]
    (
        "embedding_uncertainty must be True or False",
        {"model_name": "marengo3.5", "embedding_uncertainty": "yes", "video": VideoEmbedInput(URL)},
    ),
    (
        "embedding_dimension must be",
        {"model_name": "marengo3.5", "embedding_dimension": 0, "video": VideoEmbedInput(URL)},
    ),
]


@pytest.mark.parametrize(("message", "kwargs"), MORE_BAD)
async def test_malformed_inputs_are_refused_before_any_request(
    clock: FakeClock, message: str, kwargs: dict[str, Any]
) -> None:
    """Malformed lists, sources, segments, texts and flags raise InvalidInputError, unsent."""
    script = Script(Response.from_json(202, CREATED))
    async with client_for(script, clock) as client:
        with pytest.raises(InvalidInputError) as caught:
            await client.embed.tasks.create(**kwargs)
    assert message in str(caught.value)
    assert script.requests == []


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"text": " ", "model_name": "marengo3.5"}, "non-empty string"),
        ({"text": "x", "model_name": "marengo3.5", "auto_truncate": 1}, "True or False"),
        ({"text": "x", "model_name": "marengo3.0", "embedding_dimension": 256}, "only on"),
        ({"text": "x", "model_name": "marengo9"}, "model_name"),
    ],
)
async def test_bad_text_requests_are_refused_before_any_request(
    clock: FakeClock, kwargs: dict[str, Any], message: str
) -> None:
    """An empty text, a non-bool flag, a 3.5-only option on 3.0, an unknown model: refused."""
    script = Script(Response.from_json(200, {"data": []}))
    async with client_for(script, clock) as client:
        with pytest.raises(InvalidInputError, match=message):
            await client.embed.create(**kwargs)
    assert script.requests == []


async def test_an_image_takes_its_single_values_and_a_pdf_its_spatial_strategy(
    clock: FakeClock,
) -> None:
    """The image's one allowed value passes; a PDF sends `spatial` and its options."""
    image = await sent_body(
        clock,
        model_name="marengo3.5",
        image=ImageEmbedInput(
            URL,
            embedding_option=["visual"],
            embedding_type=["separate_embedding"],
            embedding_scope=["asset"],
        ),
    )
    assert image["image"] == {
        "media_source": {"url": URL},
        "embedding_option": ["visual"],
        "embedding_type": ["separate_embedding"],
        "embedding_scope": ["asset"],
    }
    pdf = await sent_body(
        clock,
        model_name="marengo3.5",
        document=DocumentEmbedInput(
            "https://d.example.com/a.pdf",
            embedding_option=["visual", "text"],
            embedding_type=["separate_embedding"],
            spatial="quadrants",
        ),
    )
    assert pdf["document"]["segmentation"] == {"spatial": {"strategy": "quadrants"}}
    assert pdf["document"]["embedding_type"] == ["separate_embedding"]
