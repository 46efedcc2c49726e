"""The assets resource: `client.assets` (`/assets`, and multipart uploads)."""

from ._resource import AssetList, Assets, FileInput, MetadataValue
from ._tracking import AssetTracker
from ._uploads import ChunkList, UploadList, Uploads

__all__ = [
    "AssetList",
    "AssetTracker",
    "Assets",
    "ChunkList",
    "FileInput",
    "MetadataValue",
    "UploadList",
    "Uploads",
]
