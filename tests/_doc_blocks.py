"""Every Python example of the docs, found, sorted into programs and fragments, and type-checked.

`python -m tests._doc_blocks` (run by `nox -s typecheck`) writes each ```` ```python ```` block
of README.md and docs/**/*.md out as a module, adds the example files of docs/examples/, and runs
`mypy --strict` on all of them, reporting each error at its line in the Markdown file. The
conventions (see "Examples in the docs" in docs/architecture.md):

- A block is a **program** when it compiles as a module: it is checked exactly as written,
  and one that calls `asyncio.run(` is also run against the simulator by
  tests/test_doc_blocks.py.
- A block is a **fragment** when it starts with a `# given: name, ...` line or uses `await`,
  `async with` or `async for` at its top level. It is checked as the body of an `async def`,
  with each given name declared with its type from `GIVEN` (`client` is an open
  `AsyncTwelveLabs`, ...). Everything else it uses it must import or define itself.
- A block that only includes a file (`--8<-- "docs/examples/x.py"`) is skipped: the file is
  checked itself.

Every run also checks a broken fragment of its own (`SELF_TEST`), and fails unless mypy
reports it at the right line: the check cannot pass by checking nothing.

`python_blocks` and `load_block` give tests the blocks of one guide's section, to run them as
written.
"""

from __future__ import annotations

import ast
import re
import shutil
import sys
import textwrap
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
MARKDOWN = ("README.md", "docs/**/*.md")
EXAMPLES = "docs/examples/*.py"
OUT = ROOT / "build" / "doc-blocks"
"""Where the blocks are written for mypy: always the same place, so that its cache serves."""

GIVEN: dict[str, str] = {
    "client": "AsyncTwelveLabs",  # an open client, as in `async with AsyncTwelveLabs() as client:`
    "url": "str",  # a video URL
    "ids": "list[str]",  # task ids
    "task_id": "str",
    "batch_id": "str",
    "asset_ids": "list[str]",  # ids of uploaded assets
    "asset_id": "str",  # the id of an uploaded asset
    "paths": "list[str]",  # local files
    "event": "WebhookEvent",  # a verified webhook event
    "raw_body": "bytes",  # a webhook delivery's body, as received
    "headers": "Mapping[str, str]",  # its headers
    "secret": "str",  # a webhook signing secret
    "app": "web.Application",  # an aiohttp app
}
"""The names a fragment may take as given (`# given: client, url`), and their types."""

_PRELUDE = """\
from collections.abc import Mapping

from aiohttp import web

from twelvelabs_async import AsyncTwelveLabs, WebhookEvent
"""

SELF_TEST = """\
# given: client, task_id
task = await client.analyze.tasks.retrieve(task_id)
print(task.result.data)
"""
"""A fragment mypy --strict must refuse at its third line: `result` may be None."""

_FENCE = re.compile(r"^```python\n(.*?)^```", re.S | re.M)
_GIVEN_LINE = re.compile(r"# given: *(.*)")
_INCLUDE = re.compile(r'--8<-- "[^"]+"')
_ERROR = re.compile(r"^(?P<file>[^:\n]+\.py):(?P<line>\d+):(?P<rest>.*)$")


@dataclass(frozen=True)
class Block:
    """One example: where it is (`path`, the file line of its first code line) and its code."""

    path: str
    line: int
    code: str

    @property
    def given(self) -> tuple[str, ...]:
        """The names the `# given:` first line declares (none without one)."""
        first = self.code.lstrip("\n").split("\n", 1)[0]
        match = _GIVEN_LINE.fullmatch(first.strip())
        if match is None:
            return ()
        return tuple(name.strip() for name in match.group(1).split(",") if name.strip())

    @property
    def is_include(self) -> bool:
        """Only a snippet include: the included file is checked on its own."""
        return bool(_INCLUDE.fullmatch(self.code.strip()))

    @property
    def is_fragment(self) -> bool:
        """A `# given:` line, or `await`/`async with`/`async for` at the top level."""
        return bool(self.given) or not _compiles(self.code, top_level_await=False)

    @property
    def is_program(self) -> bool:
        """A module that runs something: the tests run it against the simulator."""
        return not self.is_fragment and "asyncio.run(" in self.code

    @property
    def id(self) -> str:
        """`README.md:59`: where the block starts."""
        return f"{self.path}:{self.line}"

    def problems(self) -> list[str]:
        """What keeps the block from being checked: bad syntax, an unknown given name."""
        found = [
            f"{self.id}: given name {name!r} is not one of {', '.join(sorted(GIVEN))}"
            for name in self.given
            if name not in GIVEN
        ]
        if not _compiles(self.code, top_level_await=True):
            found.append(f"{self.id}: the block is not valid Python")
        return found

    def module(self) -> tuple[str, list[int | None]]:
        """The source mypy checks, and for each of its lines the file line it comes from."""
        lines = self.code.splitlines()
        if not self.is_fragment:
            return self.code, [self.line + i for i in range(len(lines))]
        head = [*_PRELUDE.splitlines(), ""]
        head += [f"{name}: {GIVEN[name]}" for name in self.given if name in GIVEN]
        head += ["", "", "async def _example() -> None:"]
        body = textwrap.indent(self.code, "    ", lambda line: True).splitlines()
        source = "\n".join([*head, *body]) + "\n"
        return source, [None] * len(head) + [self.line + i for i in range(len(lines))]


def _compiles(code: str, *, top_level_await: bool) -> bool:
    flags = ast.PyCF_ALLOW_TOP_LEVEL_AWAIT if top_level_await else 0
    try:
        compile(code, "<block>", "exec", flags=flags, dont_inherit=True)
    except SyntaxError:
        return False
    return True


def markdown_blocks(text: str, path: str) -> list[Block]:
    """The ```` ```python ```` blocks of one Markdown text, each with its first code line."""
    return [
        Block(path, text.count("\n", 0, match.start(1)) + 1, match.group(1))
        for match in _FENCE.finditer(text)
    ]


GUIDES = ROOT / "docs" / "guides"


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
    return [block.code for block in markdown_blocks(section, guide)]


def load_block(guide: str, heading: str, index: int = 0) -> dict[str, Any]:
    """Run one block as a module that is not `__main__` (so `asyncio.run(main())` is not run)
    and return its namespace: its functions see what a test puts there as their globals.
    """
    source = python_blocks(guide, heading)[index]
    namespace: dict[str, Any] = {"__name__": f"docs_{Path(guide).stem.replace('-', '_')}"}
    exec(compile(source, f"docs/guides/{guide} ({heading})", "exec"), namespace)
    return namespace


def doc_blocks(root: Path = ROOT) -> list[Block]:
    """Every Python block of README.md and docs/**/*.md, snippet includes left out."""
    paths = sorted({p for pattern in MARKDOWN for p in root.glob(pattern)})
    blocks = [
        block
        for path in paths
        for block in markdown_blocks(
            path.read_text(encoding="utf-8"), path.relative_to(root).as_posix()
        )
    ]
    return [block for block in blocks if not block.is_include]


def example_files(root: Path = ROOT) -> list[Path]:
    """The example files of docs/examples/, checked as they are."""
    return sorted(root.glob(EXAMPLES))


def _module_name(block: Block, index: int) -> str:
    stem = re.sub(r"\W+", "_", block.path.removesuffix(".md")).strip("_").lower()
    return f"ex{index:03d}_{stem}_l{block.line}.py"


def write_modules(blocks: Sequence[Block], dest: Path) -> dict[str, tuple[Block, list[int | None]]]:
    """Write each block to `dest` as a module; return, by file name, the block and line map."""
    written: dict[str, tuple[Block, list[int | None]]] = {}
    for index, block in enumerate(blocks):
        source, lines = block.module()
        name = _module_name(block, index)
        (dest / name).write_text(source, encoding="utf-8")
        written[name] = (block, lines)
    return written


def located(report: str, written: dict[str, tuple[Block, list[int | None]]]) -> Iterator[str]:
    """The report of mypy, each error moved from a written module to its line in the docs."""
    for line in report.splitlines():
        match = _ERROR.match(line)
        # By file name: mypy may name a module unchanged since its last run by the old path.
        where = written.get(Path(match.group("file")).name) if match else None
        if match is None or where is None:
            yield line
            continue
        block, lines = where
        number = int(match.group("line"))
        origin = lines[number - 1] if 0 < number <= len(lines) else None
        at = f"{block.path}:{origin}" if origin is not None else f"{block.id} (given names)"
        yield f"{at}:{match.group('rest')}"


def check(blocks: Sequence[Block], files: Sequence[Path]) -> tuple[int, list[str]]:
    """Type-check the blocks and files with mypy --strict, with the self-test; (status, report)."""
    from mypy import api  # only the typecheck session has mypy

    problems = [problem for block in blocks for problem in block.problems()]
    if problems:
        return 1, problems
    self_test = Block("<self-test>", 1, SELF_TEST)
    shutil.rmtree(OUT, ignore_errors=True)
    OUT.mkdir(parents=True)
    written = write_modules([*blocks, self_test], OUT)
    modules = [str(OUT / name) for name in written]
    out, err, _ = api.run(["--strict", *modules, *(str(f) for f in files)])
    report = list(located(out + err, written))
    expected = [line for line in report if line.startswith("<self-test>:3: error:")]
    if len(expected) != 1:
        return 1, [*report, "the self-test's broken fragment was not reported at <self-test>:3"]
    report.remove(expected[0])
    errors = [line for line in report if ": error:" in line]
    return (1 if errors else 0), [line for line in report if not line.startswith("Found ")]


def main() -> int:
    """Check every example of the docs; print what mypy says, at the docs' lines."""
    blocks, files = doc_blocks(), example_files()
    status, report = check(blocks, files)
    for line in report:
        print(line)
    fragments = sum(block.is_fragment for block in blocks)
    print(
        f"{'FAILED' if status else 'ok'}: {len(blocks)} blocks of README.md and docs/ "
        f"({len(blocks) - fragments} modules, {fragments} fragments) and {len(files)} files of "
        "docs/examples, type-checked with mypy --strict"
    )
    return status


if __name__ == "__main__":
    sys.exit(main())
