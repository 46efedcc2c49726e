"""The assets resource: `client.assets` (`/assets`)."""

from ._resource import AssetList, Assets, FileInput, MetadataValue
from ._tracking import AssetTracker

__all__ = ["AssetList", "AssetTracker", "Assets", "FileInput", "MetadataValue"]
