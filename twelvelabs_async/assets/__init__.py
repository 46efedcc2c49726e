"""The assets resource: `client.assets` (`/assets`)."""

from ._resource import AssetList, Assets, FileInput, MetadataValue

__all__ = ["AssetList", "Assets", "FileInput", "MetadataValue"]
