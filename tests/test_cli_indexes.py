"""`indexes ...` and `indexes assets ...` through the real entry point, against the simulator.

Every run is checked by `tests._cli_support.finish`: no traceback, and the key in no output.
Independent runs go at once (`cli_many`): each start costs about a second of imports.
"""

from __future__ import annotations

import asyncio
import re

from tests._cli_support import KEY, Result, cli, cli_many, cli_sim
from twelvelabs_async import AsyncTwelveLabs
from twelvelabs_async.testing import Simulator

URL = "https://videos.example.com/cli-{}.mp4"
ID = re.compile(r"^[0-9a-f]{24}$")
FAST = {"indexing_duration": (0.2, 0.5)}


async def _ready_assets(sim: Simulator, n: int) -> list[str]:
    """`n` assets of the simulator, once every one is ready."""
    async with AsyncTwelveLabs(KEY, base_url=sim.base_url) as client:
        ids = [(await client.assets.create(url=URL.format(i))).asset_id for i in range(n)]
    await asyncio.sleep(1.05)  # a URL import takes two draws of 0.2-0.5 s
    assert {sim.asset_status(i) for i in ids} == {"ready"}
    return ids


async def test_index_create_get_list_update_delete() -> None:
    """`create` prints the id; get/list show it (human and JSON); update renames; delete ends it."""
    async with cli_sim(**FAST) as sim:
        created = await cli("indexes", "create", "sports", "--options", "visual", sim=sim)
        assert created.code == 0, created.err
        index_id = created.out.strip()
        taken, human, as_json, listed, family = await cli_many(
            ["indexes", "create", "sports"],
            ["indexes", "get", index_id],
            ["indexes", "get", index_id, "--json"],
            ["indexes", "list", "--json"],
            ["indexes", "list", "--model-family", "pegasus"],
            sim=sim,
        )
        renamed = await cli("indexes", "update", index_id, "--name", "football", sim=sim)
        after = await cli("indexes", "list", "--name", "football", sim=sim)
        deleted = await cli("indexes", "delete", index_id, sim=sim)
        gone = await cli("indexes", "get", index_id, sim=sim)
    assert ID.match(index_id)
    assert (taken.code, taken.out) == (3, "")
    assert "index_name_already_exists" in taken.err or "already exists" in taken.err
    assert human.out.split()[:3] == [index_id, "sports", "marengo3.0(visual)"]
    (index,) = as_json.json_lines()
    assert (index["_id"], index["index_name"]) == (index_id, "sports")
    assert [i["_id"] for i in listed.json_lines()] == [index_id]
    assert family.out == ""
    assert (renamed.code, renamed.out.strip()) == (0, f"{index_id} renamed")
    assert after.out.split()[:2] == [index_id, "football"]
    assert deleted.code == 0
    assert gone.code == 3
    assert "404" in gone.err


BAD = [
    ["indexes", "create", " "],
    ["indexes", "create", "x", "--options", "video"],
    ["indexes", "create", "x", "--options", ","],
    ["indexes", "get", "../x"],
    ["indexes", "list", "--name", ""],
    ["indexes", "assets", "add", "i1", "a1", "--metadata", "{"],
    ["indexes", "assets", "add", "i1", "a1", "--metadata", '{"k": null}'],
    ["indexes", "assets", "add", "i1", "a/1"],
    ["indexes", "assets", "add", "i1", "a1", "--timeout", "5"],
    ["indexes", "assets", "list", "i1", "--status", "done"],
    ["indexes", "assets", "list", "i1", "--min-duration", "9", "--max-duration", "1"],
    ["indexes", "assets", "watch", "i1"],
    ["indexes", "assets", "watch", "i1", "--from-file", "/nonexistent/ids.txt"],
]
"""Command lines refused before any request (exit code 2)."""


async def test_bad_flags_exit_2_before_any_request() -> None:
    """An empty name, an unknown option, bad metadata or ids: exit 2, and nothing is sent."""
    async with cli_sim() as sim:
        runs: list[Result] = []
        for group in (BAD[:4], BAD[4:8], BAD[8:]):  # a few at once: each start costs a second
            runs += await cli_many(*group, sim=sim)
        sent = sim.stats.total
    assert [r.code for r in runs] == [2] * len(runs), [r.err for r in runs]
    assert all(r.out == "" for r in runs)
    assert all("error:" in r.err for r in runs)
    assert "visual" in runs[1].err
    assert sent == 0


async def test_assets_add_wait_list_get_watch_delete() -> None:
    """`add --wait` prints each finished; list filters; get shows words; watch follows; delete."""
    async with cli_sim(**FAST) as sim:
        assets = await _ready_assets(sim, 3)
        index_id = (await cli("indexes", "create", "clips", sim=sim)).out.strip()
        waited = await cli(
            "indexes", "assets", "add", index_id, assets[0], "--wait", "--json",
            "--metadata", '{"team": "a"}', sim=sim,
        )  # fmt: skip
        added = await cli("indexes", "assets", "add", index_id, *assets[1:], sim=sim)
        new_ids = added.out.split()
        watched = await cli(
            "indexes", "assets", "watch", index_id, "-", stdin="\n".join(new_ids), sim=sim
        )
        ready, one, words, as_json = await cli_many(
            ["indexes", "assets", "list", index_id, "--status", "ready", "--json"],
            ["indexes", "assets", "list", index_id, "--limit", "1"],
            ["indexes", "assets", "get", index_id, new_ids[0], "--transcription"],
            ["indexes", "assets", "get", index_id, new_ids[1], "--json"],
            sim=sim,
        )
        removed = await cli("indexes", "assets", "delete", index_id, new_ids[0], sim=sim)
        unknown = await cli("indexes", "assets", "watch", index_id, "f" * 24, sim=sim)
    assert waited.code == 0, waited.err
    (first,) = waited.json_lines()
    assert (first["asset_id"], first["status"]) == (assets[0], "ready")
    assert "waiting" in waited.err
    assert added.code == 0
    assert len(new_ids) == 2
    assert all(ID.match(i) for i in new_ids)
    assert watched.code == 0, watched.err
    assert sorted(line.split()[0] for line in watched.out.splitlines()) == sorted(new_ids)
    assert "2 finished" in watched.err
    assert "2/2 done" in watched.err
    assert ready.code == 0
    assert {item["status"] for item in ready.json_lines()} == {"ready"}
    assert len(one.out.splitlines()) == 1
    assert words.out.splitlines()[0].split()[:2] == [new_ids[0], "ready"]
    assert len(words.out.splitlines()) > 1  # the transcription, a line each
    assert as_json.json_lines()[0]["_id"] == new_ids[1]
    assert (removed.code, removed.out.strip()) == (0, f"{new_ids[0]} deleted")
    assert unknown.code == 3
    assert "f" * 24 in unknown.err
