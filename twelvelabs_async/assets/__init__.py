"""The assets resource: `client.assets` (`/assets`, and multipart uploads)."""

from ._resource import AssetList, Assets, FileInput, MetadataValue
from ._uploads import ChunkList, UploadList, Uploads

__all__ = [
    "AssetList",
    "Assets",
    "ChunkList",
    "FileInput",
    "MetadataValue",
    "UploadList",
    "Uploads",
]
