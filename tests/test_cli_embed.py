"""`embed create|get|list|watch` through the real entry point, as subprocesses, on the simulator.

Every run is checked by `tests._cli_support.finish`: no traceback, and the API key in no output.
"""

from __future__ import annotations

import json
import re

from tests._cli_support import cli, cli_many, cli_sim

URL = "https://videos.example.com/cli.mp4"
ID = re.compile(r"^[0-9a-f]{24}$")
VIDEO_30S = {
    "input_type": "video",
    "model_name": "marengo3.5",
    "video": {
        "media_source": {"url": URL},
        "end_sec": 30,
        "segmentation": {"temporal": {"strategy": "fixed", "fixed": {"duration_sec": 6}}},
        "embedding_option": ["visual"],
    },
}


async def test_create_wait_prints_the_vectors_and_create_alone_the_id() -> None:
    """`create` prints the new id; with --wait the task's vectors, one line each."""
    async with cli_sim() as sim:
        plain, waited, text = await cli_many(
            ["embed", "create", "--video-url", URL],
            [
                "embed",
                "create",
                "--model",
                "marengo3.0",
                "--audio-url",
                URL,
                "--clip-seconds",
                "5",
                "--end",
                "20",
                "--wait",
            ],
            ["embed", "create", "--text", "a goal", "--dimension", "8"],
            sim=sim,
        )
    assert plain.code == 0, plain.err
    assert ID.match(plain.out.strip())
    assert waited.code == 0, waited.err
    head, *rows = waited.out.splitlines()
    # 4 clips x (audio, transcription), the defaults on 3.0, + 2 vectors for the asset scope
    assert head.split()[1:4] == ["ready", "10", "vectors"]
    assert len(rows) == 10
    assert "waiting" in waited.err
    assert text.code == 0, text.err
    assert len(json.loads(text.out)) == 8


async def test_bad_flags_are_usage_errors_before_any_request() -> None:
    """Rules of the API in flag terms: exit 2, one line naming the flag, nothing sent."""
    async with cli_sim() as sim:
        results = await cli_many(
            ["embed", "create", "--model", "marengo3.0", "--video-url", URL, "--dimension", "256"],
            ["embed", "create", "--model", "marengo3.0", "--image-url", URL],
            ["embed", "create", "--video-url", URL, "--option", "transcription"],
            ["embed", "create", "--image-url", URL, "--clip-seconds", "4"],
            ["embed", "create", "--video-url", URL, "--timeout", "5"],
            ["embed", "create", "--text", "x", "--wait"],
            ["embed", "watch"],
            sim=sim,
        )
        sent = sim.stats.total
    assert [r.code for r in results] == [2] * 7
    messages = [r.err.strip() for r in results]
    assert "--dimension exists only on marengo3.5" in messages[0]
    assert "marengo3.5" in messages[1]
    assert "transcription" in messages[2]
    assert "--clip-seconds" in messages[3]
    assert "--timeout needs --wait" in messages[4]
    assert "--text" in messages[5]
    assert "no task ids" in messages[6]
    assert all(len(m.splitlines()) == 1 for m in messages)
    assert sent == 0


async def test_get_list_and_watch() -> None:
    """`get --json` is the whole task; `list` one line each; `watch` each once, then a summary."""
    async with cli_sim() as sim:
        ids = [sim.seed_embed_task(VIDEO_30S) for _ in range(3)]
        watched = await cli("embed", "watch", *ids, "--json", sim=sim)
        got, listed, missing = await cli_many(
            ["embed", "get", ids[0], "--json"],
            ["embed", "list", "--status", "ready"],
            ["embed", "get", "feedfacefeedfacefeedface"],
            sim=sim,
        )
    assert watched.code == 0, watched.err
    lines = watched.json_lines()
    assert sorted(line["task_id"] for line in lines) == sorted(ids)
    assert {line["vectors"] for line in lines} == {5 + 1}
    assert "3 finished" in watched.err
    assert got.code == 0
    task = json.loads(got.out)
    assert task["_id"] == ids[0]
    assert len(task["data"]) == 6
    assert len(task["data"][0]["embedding"]) == 512
    assert listed.code == 0
    assert sorted(line.split()[0] for line in listed.out.splitlines()) == sorted(ids)
    assert missing.code == 3
    assert "resource_not_exist" in missing.err or "does not exist" in missing.err
