"""`assets get|list|delete` through the real entry point, against the simulator."""

from __future__ import annotations

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
