"""A local video file straight to an analysis: upload, wait until ready, analyze (simulator)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from twelvelabs_async import (
    AssetFailedError,
    AsyncTwelveLabs,
    InvalidInputError,
    LocalVideo,
    ServerError,
    TextGeneration,
    UploadProgress,
)
from twelvelabs_async.testing import Faults, MultipartConfig, simulate

FAST = {"duration": (0.1, 0.2), "asset_duration": (0.3, 0.3), "seed": 5}


def _video(tmp_path: Path, size: int = 96 * 1024, name: str = "clip.mp4") -> Path:
    path = tmp_path / name
    path.write_bytes(os.urandom(size))
    return path


async def test_create_uploads_waits_until_ready_then_creates_the_task(tmp_path: Path) -> None:
    """tasks.create(video=Path) analyzes the uploaded asset, created only once it was ready."""
    path = _video(tmp_path)
    async with simulate(**FAST) as sim, AsyncTwelveLabs(sim.api_key, base_url=sim.base_url) as c:
        ref = await c.analyze.tasks.create(video=path, prompt="Summarize")
        task = await c.analyze.tasks.wait(ref.task_id, timeout=30)
        (asset,) = [a async for a in c.assets.list()]
        ready_at = sim._app.assets.get(asset.asset_id)
    assert task.video_source is not None
    assert (task.video_source.type, task.video_source.asset_id) == ("asset_id", asset.asset_id)
    assert asset.status == "ready"
    assert asset.size == path.stat().st_size
    assert ready_at is not None
    assert task.created_at is not None
    assert task.created_at.timestamp() >= ready_at.finish_at


async def test_generate_and_stream_take_a_local_file_with_progress(tmp_path: Path) -> None:
    """generate(video=Path) and stream(video=LocalVideo(progress=...)) answer about the upload."""
    path = _video(tmp_path, 300 * 1024)
    reports: list[UploadProgress] = []
    multipart = MultipartConfig(chunk_size=64 * 1024)
    async with (
        simulate(multipart=multipart, **FAST) as sim,
        AsyncTwelveLabs(sim.api_key, base_url=sim.base_url) as client,
    ):
        result = await client.analyze.generate(video=path, prompt="Describe")
        local = LocalVideo(path, progress=reports.append, concurrency=2, wait_timeout=30)
        async with client.analyze.stream(video=local, prompt="Describe") as stream:
            pieces = [e.text async for e in stream if isinstance(e, TextGeneration)]
        assets = [a async for a in client.assets.list()]
    assert result.data
    assert "".join(pieces)
    assert len(assets) == 2
    assert reports[-1].bytes_sent == reports[-1].total_bytes == path.stat().st_size
    assert reports[-1].chunks_done == reports[-1].total_chunks == 1


async def test_bad_requests_are_refused_before_anything_is_uploaded(tmp_path: Path) -> None:
    """A bad analysis option, a non-video file, a missing one: InvalidInputError, no request."""
    path = _video(tmp_path)
    image = _video(tmp_path, 1024, "cover.png")
    async with simulate(**FAST) as sim, AsyncTwelveLabs(sim.api_key, base_url=sim.base_url) as c:
        with pytest.raises(InvalidInputError, match="temperature"):
            await c.analyze.tasks.create(video=path, prompt="x", temperature=5.0)
        with pytest.raises(InvalidInputError, match="not a video file"):
            await c.analyze.generate(video=image, prompt="x")
        with pytest.raises(InvalidInputError, match=r"missing\.mp4"):
            await c.analyze.tasks.create(video=tmp_path / "missing.mp4", prompt="x")
        with pytest.raises(InvalidInputError, match="wait_timeout"):
            await c.analyze.tasks.create(video=LocalVideo(path, wait_timeout=-1), prompt="x")
        with pytest.raises(InvalidInputError, match="prompt"):
            c.analyze.stream(video=path)
        total = sim.stats.total
    assert total == 0


async def test_a_failed_asset_raises_and_nothing_is_analyzed(tmp_path: Path) -> None:
    """An uploaded video that ends failed raises AssetFailedError naming it; no task is made."""
    path = _video(tmp_path)
    async with (
        simulate(failure_rate=1.0, **FAST) as sim,
        AsyncTwelveLabs(sim.api_key, base_url=sim.base_url) as client,
    ):
        with pytest.raises(AssetFailedError) as caught:
            await client.analyze.tasks.create(video=path, prompt="Summarize")
        (asset,) = [a async for a in client.assets.list()]
        created = sim.stats.count("create")
    assert caught.value.asset_id == asset.asset_id
    assert caught.value.reason
    assert asset.asset_id in str(caught.value)
    assert created == 0


async def test_an_error_after_the_upload_names_the_asset_to_reuse(tmp_path: Path) -> None:
    """When creating the task fails after the upload, the error says which asset to reuse."""
    path = _video(tmp_path)
    async with (
        simulate(faults={"create": Faults(error_5xx=1.0)}, **FAST) as sim,
        AsyncTwelveLabs(sim.api_key, base_url=sim.base_url, max_retries=0) as client,
    ):
        with pytest.raises(ServerError) as caught:
            await client.analyze.tasks.create(video=path, prompt="Summarize")
        (asset,) = [a async for a in client.assets.list()]
    notes = getattr(caught.value, "__notes__", [])
    assert any(f"AssetVideo('{asset.asset_id}')" in note for note in notes)
