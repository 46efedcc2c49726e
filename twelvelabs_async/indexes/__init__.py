"""Indexes and indexed assets: `client.indexes` (`/indexes`) and its `indexed_assets`."""

from ._indexed import (
    AssetIndexingList,
    IndexedAssetList,
    IndexedAssets,
    IndexedAssetSource,
    IndexedAssetTracker,
)
from ._resource import Indexes, IndexList

__all__ = [
    "AssetIndexingList",
    "IndexList",
    "IndexedAssetList",
    "IndexedAssetSource",
    "IndexedAssetTracker",
    "IndexedAssets",
    "Indexes",
]
