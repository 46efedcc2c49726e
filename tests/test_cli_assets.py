"""`assets get|list|delete` through the real entry point, against the simulator."""

from __future__ import annotations

import os
from pathlib import Path

from tests._cli_support import KEY, cli, cli_many, cli_sim
from twelvelabs_async import AsyncTwelveLabs

UNKNOWN = "feedfacefeedfacefeedface"


def _clip(tmp_path: Path, name: str, size: int) -> Path:
    path = tmp_path / name
    path.write_bytes(b"\0" * size)
    return path


async def test_get_list_and_delete_assets(tmp_path: Path) -> None:
    """`assets get` prints a line (or JSON), `list` filters by kind and name, `delete` deletes."""
    async with cli_sim(duration=(60.0, 60.0)) as sim:
        async with AsyncTwelveLabs(KEY, base_url=sim.base_url) as client:
            video = await client.assets.create(file=_clip(tmp_path, "talk.mp4", 2048))
            image = await client.assets.create(file=_clip(tmp_path, "cover.png", 512))
        get, get_json, videos, named, by_id, limited, unknown = await cli_many(
            ["assets", "get", video.asset_id],
            ["assets", "get", image.asset_id, "--json"],
            ["assets", "list", "--type", "video"],
            ["assets", "list", "--filename", "COVER", "--json"],
            ["assets", "list", "--id", video.asset_id, "--id", image.asset_id],
            ["assets", "list", "--limit", "1"],
            ["assets", "get", UNKNOWN],
            sim=sim,
        )
        referenced = await cli("assets", "delete", video.asset_id, sim=sim)
        sim.reference_asset(image.asset_id)
        in_use = await cli("assets", "delete", image.asset_id, sim=sim)
        forced = await cli("assets", "delete", image.asset_id, "--force", sim=sim)
        async with AsyncTwelveLabs(KEY, base_url=sim.base_url) as client:
            left = [a async for a in client.assets.list()]
    assert get.code == 0, get.err
    assert get.out.split()[:2] == [video.asset_id, "processing"]
    assert get.out.rstrip().endswith("talk.mp4")
    (shown,) = get_json.json_lines()
    assert (shown["_id"], shown["filename"]) == (image.asset_id, "cover.png")
    assert [row.split()[0] for row in videos.out.splitlines()] == [video.asset_id]
    assert [row["_id"] for row in named.json_lines()] == [image.asset_id]
    assert sorted(row.split()[0] for row in by_id.out.splitlines()) == sorted(
        [video.asset_id, image.asset_id]
    )
    assert [row.split()[0] for row in limited.out.splitlines()] == [image.asset_id]
    assert unknown.code == 3
    assert unknown.out == ""
    assert (referenced.code, referenced.out) == (0, f"{video.asset_id} deleted\n")
    assert in_use.code == 3
    assert "--force" in in_use.err or "force" in in_use.err
    assert (forced.code, forced.out) == (0, f"{image.asset_id} deleted\n")
    assert left == []


async def test_bad_asset_flags_exit_2_without_a_request() -> None:
    """A bad id, kind or limit is refused in one stderr line, exit 2, no request sent."""
    async with cli_sim() as sim:
        runs = await cli_many(
            ["assets", "get", "../tasks"],
            ["assets", "list", "--type", "movie"],
            ["assets", "list", "--limit", "0"],
            ["assets", "delete", ""],
            sim=sim,
        )
        requests = sim.stats.total
    for run in runs:
        assert run.code == 2, run.err
        assert run.out == ""
        assert len(run.err.strip().splitlines()) == 1, run.err
        assert run.err.startswith("twelvelabs-async assets "), run.err
    assert "--type" in runs[1].err
    assert requests == 0


async def test_upload_prints_each_asset_with_progress_and_waits(tmp_path: Path) -> None:
    """`assets upload A B --wait --json`: a JSON line per file once ready; progress on stderr."""
    big = tmp_path / "big.mp4"
    big.write_bytes(os.urandom(5 * 64 * 1024))
    small = _clip(tmp_path, "small.mp4", 4096)
    async with cli_sim(asset_duration=(0.2, 0.2)) as sim:
        waited = await cli("assets", "upload", str(big), str(small), "--wait", "--json", sim=sim)
        plain = await cli("assets", "upload", str(small), sim=sim)
    assert waited.code == 0, waited.err
    rows = {row["file"]: row for row in waited.json_lines()}
    assert set(rows) == {str(big), str(small)}
    assert {row["asset"]["status"] for row in rows.values()} == {"ready"}
    assert rows[str(big)]["asset"]["size"] == 5 * 64 * 1024
    assert "big.mp4: 0.3 MiB of 0.3 MiB (100%), 1 of 1 chunks" in waited.err
    assert "waiting until ready" in waited.err
    assert "uploaded " in waited.err.splitlines()[-1]
    assert plain.code == 0, plain.err
    asset_id, status, name = plain.out.split()
    assert (status, name) == ("processing", str(small))
    assert len(asset_id) == 24


async def test_upload_into_an_index(tmp_path: Path) -> None:
    """`assets upload FILE --index ID --wait` indexes each ready asset and waits for it."""
    path = _clip(tmp_path, "talk.mp4", 4096)
    async with cli_sim(asset_duration=(0.1, 0.1), indexing_duration=(0.2, 0.3)) as sim:
        async with AsyncTwelveLabs(KEY, base_url=sim.base_url) as client:
            index = await client.indexes.create("talks", models={"marengo3.0": ["visual"]})
        done = await cli(
            "assets", "upload", str(path), "--index", index.index_id, "--wait", sim=sim
        )
        async with AsyncTwelveLabs(KEY, base_url=sim.base_url) as client:
            indexed = [a async for a in client.indexes.indexed_assets.list(index.index_id)]
    assert done.code == 0, done.err
    asset_id, status, name, word, indexed_id = done.out.split()
    assert (status, name, word) == ("ready", str(path), "indexed")
    assert [(i.indexed_asset_id, i.asset_id, i.status) for i in indexed] == [
        (indexed_id, asset_id, "ready")
    ]


async def test_bad_upload_flags_exit_2_before_any_request(tmp_path: Path) -> None:
    """Missing file, directory, unknown type, --resume with two files, --timeout alone: exit 2."""
    clip = _clip(tmp_path, "a.mp4", 10)
    async with cli_sim() as sim:
        runs = await cli_many(
            ["assets", "upload", str(tmp_path / "missing.mp4")],
            ["assets", "upload", str(tmp_path)],
            ["assets", "upload", str(_clip(tmp_path, "notes.xyz", 10))],
            ["assets", "upload", str(clip), str(clip), "--resume", "f" * 24],
            ["assets", "upload", str(clip), "--timeout", "5"],
            ["assets", "upload", str(clip), "--index", "../x"],
            ["analyze", "--prompt", "x"],
            ["analyze", str(clip), "--video-url", "https://example.com/v.mp4", "--prompt", "x"],
            ["analyze", str(_clip(tmp_path, "cover.png", 10)), "--prompt", "x"],
            sim=sim,
        )
        requests = sim.stats.total
    for run in runs:
        assert run.code == 2, run.err
        assert run.out == ""
        assert len(run.err.strip().splitlines()) == 1, run.err
    assert requests == 0


async def test_analyze_a_local_file_says_each_stage(tmp_path: Path) -> None:
    """`analyze FILE --prompt P`: upload, wait and analyze said on stderr; the text on stdout."""
    path = _clip(tmp_path, "clip.mp4", 8192)
    async with cli_sim(asset_duration=(0.2, 0.2)) as sim:
        done = await cli("analyze", str(path), "--prompt", "What happens?", sim=sim)
        streamed = await cli("analyze", str(path), "--prompt", "What?", "--stream", sim=sim)
    assert done.code == 0, done.err
    assert done.out.strip()
    assert "waiting until ready" in done.err
    assert "analyzing asset " in done.err
    assert streamed.code == 0, streamed.err
    assert streamed.out.strip()
