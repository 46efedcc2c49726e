"""A local video file as the input of an analysis: upload it, wait until ready, analyze it.

`client.analyze.tasks.create(video=Path("clip.mp4"), ...)` (and `generate`, `stream`) take a
path (or a `LocalVideo` with options); this module turns it into an `AssetVideo` through
`client.assets`: the file is uploaded (directly or in resumable chunks), the asset waited for
until `ready`, and only then is the analysis requested. Nothing is sent when the rest of the
request is invalid: the request is validated first, with a stand-in asset id.
"""

from __future__ import annotations

import os
from typing import cast

from ..assets import Assets
from ..assets._files import kind_of
from ..errors import AssetFailedError, InvalidInputError
from ..models import AssetVideo, LocalVideo, VideoInput

STAND_IN = AssetVideo("0" * 24)
"""What a local file is validated as before it is uploaded (any well-formed asset id)."""


def local_of(video: object) -> LocalVideo | None:
    """The local file `video` names (a path or a `LocalVideo`), or None for any other input.

    Raises:
        InvalidInputError: the file's name does not say it is a video (before any request).
    """
    if isinstance(video, os.PathLike):
        video = LocalVideo(video)
    if not isinstance(video, LocalVideo):
        return None
    name = os.path.basename(os.fspath(video.path))
    if kind_of(name) != "video":
        raise InvalidInputError(
            f"video={name!r} is not a video file (told by its extension: .mp4, .mov, .mkv, ...); "
            "only videos can be analyzed"
        )
    return video


def checked_as(video: object, local: LocalVideo | None) -> str | VideoInput | None:
    """The video the request is checked with: a stand-in asset for a local file, else as given.

    Anything else than a URL or a typed video is refused by the request's own check.
    """
    if local is not None:
        return STAND_IN
    return cast("str | VideoInput | None", video)


async def uploaded(assets: Assets, local: LocalVideo) -> AssetVideo:
    """Upload `local`, wait until its asset is `ready`, and return it as an analysis input.

    Raises:
        InvalidInputError: before any request: the file cannot be uploaded (missing, a
            directory, too large, not a video), or an option is wrong.
        AssetFailedError: the asset ended `failed` (its message says why); nothing was analyzed.
        TrackingTimeout: it was not `ready` within `local.wait_timeout`.
    """
    detail = await assets.upload(
        local.path,
        progress=local.progress,
        concurrency=local.concurrency,
        wait=True,
        wait_timeout=local.wait_timeout,
    )
    if detail.status != "ready":
        reason = detail.error.message if detail.error is not None else None
        raise AssetFailedError(
            f"the uploaded video {os.fspath(local.path)!r} (asset {detail.asset_id}) ended "
            f"{detail.status}: {reason or 'no reason given'}; nothing was analyzed",
            asset_id=detail.asset_id,
            reason=reason,
        )
    return AssetVideo(detail.asset_id)


def noted(exc: BaseException, video: AssetVideo) -> None:
    """Say on `exc` which asset the file became, so a retry can skip the upload."""
    exc.add_note(
        f"the video was uploaded as asset {video.asset_id}: pass "
        f"video=AssetVideo({video.asset_id!r}) to analyze it without uploading it again"
    )
