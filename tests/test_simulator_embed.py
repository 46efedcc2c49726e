"""client.embed against the simulator over loopback: lifecycle, errors, the list, tracking."""

from __future__ import annotations

import json

import pytest

from tests._simulator_support import raw, sim_and_client
from twelvelabs_async import (
    EmbeddingTask,
    EmbedSource,
    FixedSegments,
    ImageEmbedInput,
    NotFoundError,
    PollPolicy,
    VideoEmbedInput,
)
from twelvelabs_async.embed._source import EmbedTaskSource
from twelvelabs_async.tracking import ObjectTracker

URL = "https://videos.example.com/match.mp4"


def video(seconds: float = 60.0, clip: int = 6, **extra: object) -> VideoEmbedInput:
    """A video input of `seconds`, cut in fixed clips."""
    return VideoEmbedInput(
        EmbedSource(url=URL),
        start_sec=0,
        end_sec=seconds,
        segmentation=FixedSegments(clip),
        **extra,  # type: ignore[arg-type]
    )


# The simulator and the client share a `SimClock` (a client sleep moves simulated time): a
# deadline would pass at its first sleep, so these waits and trackers take none.


async def test_a_task_is_processing_without_data_then_ready_with_its_vectors() -> None:
    """Clips x options + the asset scope's vectors, of the requested dimension, once ready."""
    async with sim_and_client(duration=(20.0, 20.0)) as (sim, client, _clock):
        created = await client.embed.tasks.create(
            model_name="marengo3.5", embedding_dimension=256, video=video(60.0, 6)
        )
        assert created.status == "processing"
        assert created.data is None
        early = await client.embed.tasks.retrieve(created.task_id)
        assert early.status == "processing"
        assert early.data is None
        task = await client.embed.tasks.wait(created.task_id)
        assert task.status == "ready"
        assert task.data is not None
        assert len(task.data) == 10 * 2 + 2  # 10 clips x (visual, audio) + 2 asset vectors
        assert {len(d.embedding) for d in task.data} == {256}
        assert task.usage is not None
        assert task.usage.truncated is False
        assert task.metadata is not None
        assert task.metadata.embedding_dimension == 256
        answer = await raw(sim, "GET", f"embed-v2/tasks/{task.task_id}")
        wire = [row["embedding"] for row in answer.json()["data"]]
        assert [d.embedding.tolist() for d in task.data] == wire


async def test_a_failed_task_is_returned_with_its_error() -> None:
    """wait() returns a failed task (no data, an error message); it does not raise."""
    async with sim_and_client(duration=(5.0, 5.0), failure_rate=1.0) as (_sim, client, _clock):
        created = await client.embed.tasks.create(
            model_name="marengo3.5", image=ImageEmbedInput(URL)
        )
        task = await client.embed.tasks.wait(created.task_id)
        assert task.status == "failed"
        assert task.data is None
        assert task.error is not None
        assert task.error.message


async def test_error_bodies_are_nested_except_the_list() -> None:
    """Create and retrieve answer the nested body; the list's 400 is flat."""
    async with sim_and_client() as (sim, client, _clock):
        body = {
            "input_type": "video",
            "model_name": "marengo3.5",
            "video": {
                "media_source": {"url": URL},
                "segmentation": {"strategy": "fixed", "fixed": {"duration_sec": 6}},
            },
        }
        bad = await raw(sim, "POST", "embed-v2/tasks", json_body=body)
        assert bad.status == 400
        assert bad.json()["error"]["code"] == "parameter_invalid"
        assert "temporal" in bad.json()["error"]["message"]
        missing = await raw(sim, "GET", "embed-v2/tasks/0123456789abcdef01234567")
        assert missing.status == 404
        assert missing.json()["error"]["code"] == "resource_not_exist"
        listed = await raw(sim, "GET", "embed-v2/tasks", params={"status": "done"})
        assert listed.status == 400
        assert listed.json()["code"] == "parameter_invalid"
        with pytest.raises(NotFoundError) as caught:
            await client.embed.tasks.retrieve("0123456789abcdef01234567")
        assert caught.value.code == "resource_not_exist"


async def test_the_list_shows_the_last_seven_days_in_its_own_item_shape() -> None:
    """Items have no vectors; without dates only 7 days show; an expired task is a 404."""
    async with sim_and_client(duration=(1.0, 1.0)) as (sim, client, clock):
        old = await client.embed.tasks.create(model_name="marengo3.0", video=video())
        clock.advance(8 * 24 * 3600)
        new = await client.embed.tasks.create(model_name="marengo3.0", video=video())
        listed = [item async for item in client.embed.tasks.list()]
        assert [item.task_id for item in listed] == [new.task_id]
        assert listed[0].model_name == "marengo3.0"
        assert listed[0].video_embedding is not None
        answer = await raw(sim, "GET", "embed-v2/tasks")
        assert all('"embedding":' not in json.dumps(item) for item in answer.json()["data"])
        window = await raw(
            sim, "GET", "embed-v2/tasks", params={"started_at": "2020-01-01T00:00:00Z"}
        )
        assert [i["_id"] for i in window.json()["data"]] == [new.task_id, old.task_id]
        processing = [item async for item in client.embed.tasks.list(status="processing")]
        assert [i.task_id for i in processing] == [new.task_id]
        with pytest.raises(NotFoundError):
            await client.embed.tasks.retrieve(old.task_id)


async def test_tracking_many_sweeps_the_list_and_retrieves_each_task_once_it_ended() -> None:
    """Every id is yielded once, complete, and never from a list item."""
    async with sim_and_client(duration=(10.0, 60.0), failure_rate=0.2, seed=4) as (
        sim,
        client,
        _clock,
    ):
        ids = [
            (await client.embed.tasks.create(model_name="marengo3.0", video=video(12.0))).task_id
            for _ in range(40)
        ]
        seen: list[str] = []
        async with client.embed.tasks.track(ids, strategy="sweep") as tracker:
            async for task in tracker:
                seen.append(task.task_id)
                assert task.status in ("ready", "failed")
                assert (task.data is not None) == (task.status == "ready")
        assert sorted(seen) == sorted(ids)
        assert tracker.stats.from_list == 0
        assert tracker.stats.requests["list"] > 0
        assert sim.stats.count("embed_list", 200) > 0


async def test_list_items_never_finish_a_task_even_if_asked() -> None:
    """A tracker told to yield list items still retrieves every embedding task."""
    async with sim_and_client(duration=(10.0, 30.0)) as (_sim, client, _clock):
        ids = [
            (await client.embed.tasks.create(model_name="marengo3.0", video=video(12.0))).task_id
            for _ in range(10)
        ]
        tracker = ObjectTracker(
            EmbedTaskSource(client._http),
            ids,
            runtime=client._http,
            timeout=None,
            on_error="raise",
            strategy="sweep",
            max_in_flight=8,
            max_rate=None,
            poll_policy=PollPolicy(),
            on_exit="leave",
            cancel_timeout=1.0,
            yield_list_items=True,
            on_status=None,
            buffer=16,
        )
        async with tracker:
            tasks = [task async for task in tracker]
        assert sorted(t.task_id for t in tasks) == sorted(ids)
        assert all(t.data is not None for t in tasks)
        assert tracker.stats.from_list == 0


async def test_a_thousand_vectors_of_1024_numbers_are_served_and_decoded() -> None:
    """A large ready task (1,000 clips x 1 option + 1) arrives whole and exact."""
    async with sim_and_client(duration=(1.0, 1.0)) as (_sim, client, _clock):
        created = await client.embed.tasks.create(
            model_name="marengo3.5",
            embedding_dimension=1024,
            video=video(2000.0, 2, embedding_option=["visual"]),
        )
        task = await client.embed.tasks.wait(created.task_id)
        assert task.data is not None
        assert len(task.data) == 1001
        assert all(len(d.embedding) == 1024 for d in task.data)


async def test_text_embeddings_are_answered_now() -> None:
    """POST /embed-v2 returns one vector; 3.5 adds usage and the dimension."""
    async with sim_and_client() as (_sim, client, _clock):
        old = await client.embed.create(text="a goal", model_name="marengo3.0")
        assert len(old.embedding) == 512
        assert old.usage is None
        new = await client.embed.create(
            text="a goal", model_name="marengo3.5", embedding_dimension=768
        )
        assert len(new.embedding) == 768
        assert new.usage is not None
        assert new.usage.input_tokens == {"text": 2}


def _video_body(**video: object) -> dict[str, object]:
    return {
        "input_type": "video",
        "model_name": "marengo3.5",
        "video": {"media_source": {"url": URL}, **video},
    }


REFUSED: list[tuple[object, str]] = [
    ([1], "JSON object"),
    ({"input_type": "video", "model_name": "marengo9"}, "model_name"),
    ({"input_type": "text", "model_name": "marengo3.5"}, "input_type"),
    ({**_video_body(), "colour": 1}, "Unknown parameter"),
    ({**_video_body(), "audio": {}}, "exactly the video object"),
    ({**_video_body(), "model_name": "marengo3.0", "embedding_dimension": 256}, "need marengo3.5"),
    ({**_video_body(), "embedding_dimension": "big"}, "positive integer"),
    ({"input_type": "image", "model_name": "marengo3.0", "image": {}}, "needs marengo3.5"),
    ({"input_type": "video", "model_name": "marengo3.5", "video": []}, "must be an object"),
    (_video_body(media_source=None), "media_source is required"),
    (
        {
            "input_type": "video",
            "model_name": "marengo3.5",
            "video": {"media_source": {"url": URL, "asset_id": "a"}},
        },
        "exactly one",
    ),
    (_video_body(embedding_option=["transcription"]), "only on marengo3.0"),
    (_video_body(embedding_option="visual"), "non-empty list"),
    ({**_video_body(), "embedding_uncertainty": True}, "without asset"),
    (
        _video_body(embedding_option=["visual"], embedding_type=["separate_embedding"]),
        "two embedding options",
    ),
    (_video_body(embedding_type=["fused_embedding"]), "time_based_metadata"),
    (_video_body(segmentation=[]), "must be an object"),
    (_video_body(segmentation={"temporal": []}), "must be an object"),
    (_video_body(segmentation={"temporal": {"strategy": "scenes"}}), "not supported"),
    (
        _video_body(segmentation={"temporal": {"strategy": "fixed", "fixed": {"duration_sec": 0}}}),
        "positive integers",
    ),
    (
        {
            **_video_body(
                segmentation={"temporal": {"strategy": "fixed", "fixed": {"duration_sec": 4}}}
            ),
            "model_name": "marengo3.0",
        },
        "without temporal",
    ),
    (
        {
            "input_type": "audio",
            "model_name": "marengo3.0",
            "audio": {
                "media_source": {"url": URL},
                "segmentation": {"strategy": "dynamic", "dynamic": {"min_duration_sec": 4}},
            },
        },
        "not supported",
    ),
    (
        {
            "input_type": "image",
            "model_name": "marengo3.5",
            "image": {"media_source": {"url": URL}, "embedding_scope": ["clip"]},
        },
        "only [asset]",
    ),
    (
        {
            "input_type": "document",
            "model_name": "marengo3.5",
            "document": {"media_source": {"url": URL}, "embedding_option": ["audio"]},
        },
        "visual, text",
    ),
]


async def test_the_simulator_refuses_what_the_api_refuses_with_the_nested_body() -> None:
    """Each body the API documents as invalid gets 400 {error: {code, message}}, no task."""
    async with sim_and_client() as (sim, _client, _clock):
        answers = [await raw(sim, "POST", "embed-v2/tasks", json_body=b) for b, _ in REFUSED]
        listed = await raw(sim, "GET", "embed-v2/tasks")
    for answer, (_, message) in zip(answers, REFUSED, strict=True):
        assert answer.status == 400
        assert answer.json()["error"]["code"] == "parameter_invalid"
        assert message in answer.json()["error"]["message"]
    assert listed.json()["data"] == []


TEXT_REFUSED: list[tuple[object, str]] = [
    ("x", "JSON object"),
    ({"input_type": "text", "model_name": "m"}, "model_name"),
    (
        {"input_type": "text", "model_name": "marengo3.5", "text": {"input_text": "a"}},
        "only input_type multi_input",
    ),
    ({"input_type": "image", "model_name": "marengo3.0"}, "input_type text"),
    (
        {
            "input_type": "text",
            "model_name": "marengo3.0",
            "embedding_dimension": 8,
            "text": {"input_text": "a"},
        },
        "need 3.5",
    ),
    ({"input_type": "text", "model_name": "marengo3.0", "text": {}}, "input_text is required"),
    (
        {
            "input_type": "multi_input",
            "model_name": "marengo3.5",
            "embedding_dimension": 0,
            "multi_input": {"input_text": "a"},
        },
        "positive integer",
    ),
]


async def test_the_text_route_refuses_with_the_nested_body_and_the_list_bad_dates() -> None:
    """Bad text bodies get the nested 400; a list with a bad date the flat 400."""
    async with sim_and_client() as (sim, _client, _clock):
        answers = [await raw(sim, "POST", "embed-v2", json_body=b) for b, _ in TEXT_REFUSED]
        dates = await raw(sim, "GET", "embed-v2/tasks", params={"ended_at": "yesterday"})
        ok = await raw(
            sim,
            "POST",
            "embed-v2",
            json_body={
                "input_type": "multi_input",
                "model_name": "marengo3.5",
                "embedding_uncertainty": True,
                "multi_input": {"input_text": "a b"},
            },
        )
    for answer, (_, message) in zip(answers, TEXT_REFUSED, strict=True):
        assert answer.status == 400
        assert message in answer.json()["error"]["message"]
    assert dates.status == 400
    assert "RFC 3339" in dates.json()["message"]
    row = ok.json()["data"][0]
    assert len(row["embedding_uncertainty"]) == len(row["embedding"]) == 512


async def test_each_ended_task_is_fetched_once() -> None:
    """A sweeping tracker retrieves each task at most once after it has ended."""
    terminal_fetches: list[str] = []

    class Counting(EmbedTaskSource):
        async def fetch(self, object_id: str) -> EmbeddingTask:
            task = await super().fetch(object_id)
            if task.is_terminal:
                terminal_fetches.append(object_id)
            return task

    async with sim_and_client(duration=(10.0, 90.0), failure_rate=0.3, seed=9) as (
        _sim,
        client,
        _clock,
    ):
        ids = [
            (await client.embed.tasks.create(model_name="marengo3.0", video=video(12.0))).task_id
            for _ in range(30)
        ]
        tracker = ObjectTracker(
            Counting(client._http),
            ids,
            runtime=client._http,
            timeout=None,
            on_error="raise",
            strategy="auto",
            max_in_flight=8,
            max_rate=None,
            poll_policy=PollPolicy(),
            on_exit="leave",
            cancel_timeout=1.0,
            yield_list_items=False,
            on_status=None,
            buffer=64,
        )
        async with tracker:
            got = [task.task_id async for task in tracker]
    assert sorted(got) == sorted(ids)
    assert sorted(terminal_fetches) == sorted(ids)


async def test_documents_and_uncertain_audio_have_their_segments() -> None:
    """A PDF's pages per option plus the asset; 3.5 audio with uncertainty vectors."""
    async with sim_and_client(duration=(1.0, 1.0)) as (sim, _client, clock):
        pdf = sim.seed_embed_task(
            {
                "input_type": "document",
                "model_name": "marengo3.5",
                "document": {"media_source": {"asset_id": "d1"}, "embedding_scope": ["local"]},
            }
        )
        audio = sim.seed_embed_task(
            {
                "input_type": "audio",
                "model_name": "marengo3.5",
                "embedding_uncertainty": True,
                "audio": {"media_source": {"url": URL}, "end_sec": 10, "embedding_scope": ["clip"]},
            }
        )
        clock.advance(2.0)
        pages = (await raw(sim, "GET", f"embed-v2/tasks/{pdf}")).json()
        clips = (await raw(sim, "GET", f"embed-v2/tasks/{audio}")).json()
        with pytest.raises(ValueError, match="model_name"):
            sim.seed_embed_task({"input_type": "video", "model_name": "x"})
        assert sim.embed_status(pdf) == "ready"
        with pytest.raises(KeyError):
            sim.embed_status("nope")
    assert {row["embedding_scope"] for row in pages["data"]} == {"page"}
    assert [row["start_page_number"] for row in pages["data"]] == list(
        range(1, len(pages["data"]) + 1)
    )
    assert len(clips["data"]) == 4  # ceil(10 s / 3 s): dynamic clips of 2 s x 1.5
    assert all(len(r["embedding_uncertainty"]) == 512 for r in clips["data"])
