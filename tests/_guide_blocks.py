"""The Python blocks of the docs' guides, loaded as modules so tests run them as written."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

GUIDES = Path(__file__).resolve().parent.parent / "docs" / "guides"
_BLOCK = re.compile(r"^```python\n(.*?)^```", re.DOTALL | re.MULTILINE)


def python_blocks(guide: str, heading: str) -> list[str]:
    """The ```python blocks of `docs/guides/<guide>` under `heading`, up to the next heading
    of the same or a higher level.
    """
    text = (GUIDES / guide).read_text()
    level = heading.split(" ", 1)[0]
    start = text.index(f"\n{heading}\n")
    rest = text[start + len(heading) + 2 :]
    ends = [
        m.start() for m in re.finditer(r"^(#+) ", rest, re.MULTILINE) if len(m[1]) <= len(level)
    ]
    section = rest[: ends[0]] if ends else rest
    return _BLOCK.findall(section)


def load_block(guide: str, heading: str, index: int = 0) -> dict[str, Any]:
    """Run one block as a module that is not `__main__` (so `asyncio.run(main())` is not run)
    and return its namespace: its functions see what a test puts there as their globals.
    """
    source = python_blocks(guide, heading)[index]
    namespace: dict[str, Any] = {"__name__": f"docs_{Path(guide).stem.replace('-', '_')}"}
    exec(compile(source, f"docs/guides/{guide} ({heading})", "exec"), namespace)
    return namespace
