"""The docs' Python examples: found, sorted into programs and fragments, and the programs run.

`mypy --strict` itself runs in the typecheck session (`python -m tests._doc_blocks`); these
tests check how blocks are found and written out, and run every complete program of the docs
against the simulator.
"""

from __future__ import annotations

import asyncio
import os
import sys
from pathlib import Path

import pytest

from tests._doc_blocks import (
    GIVEN,
    SELF_TEST,
    Block,
    doc_blocks,
    example_files,
    located,
    markdown_blocks,
    write_modules,
)
from twelvelabs_async.testing import simulate

MARKDOWN = """\
# A page

```bash
pip install .
```

```python
import asyncio

asyncio.run(main())
```

Text.

```python
# given: client, url
ref = await client.analyze.tasks.create(video=url, prompt="Hi")
```

```python
--8<-- "docs/examples/x.py"
```
"""


def test_blocks_are_found_with_their_first_line() -> None:
    """Only ```python blocks are found, each with the file line of its first code line."""
    blocks = markdown_blocks(MARKDOWN, "page.md")
    assert [(b.path, b.line) for b in blocks] == [("page.md", 8), ("page.md", 16), ("page.md", 21)]
    assert blocks[0].code.startswith("import asyncio\n")


def test_blocks_are_sorted_into_programs_fragments_and_includes() -> None:
    """A module calling asyncio.run is a program; `# given:` or top-level await a fragment."""
    program, fragment, include = markdown_blocks(MARKDOWN, "page.md")
    assert (program.is_program, program.is_fragment, program.is_include) == (True, False, False)
    assert (fragment.is_program, fragment.is_fragment, fragment.given) == (
        False,
        True,
        ("client", "url"),
    )
    assert include.is_include
    awaiting = Block("p.md", 1, "from x import y\n\nawait y()\n")
    assert awaiting.is_fragment
    assert awaiting.given == ()
    plain = Block("p.md", 1, "import logging\nlogging.getLogger().setLevel(20)\n")
    assert (plain.is_fragment, plain.is_program) == (False, False)


def test_a_fragment_becomes_an_async_function_with_its_given_names(tmp_path: Path) -> None:
    """A fragment is written as an `async def` body after its given names, lines mapped back."""
    fragment = markdown_blocks(MARKDOWN, "page.md")[1]
    source, lines = fragment.module()
    compile(source, "fragment.py", "exec")  # valid Python, with the await inside a function
    assert f"client: {GIVEN['client']}" in source
    assert f"url: {GIVEN['url']}" in source
    assert "    ref = await client.analyze.tasks.create" in source
    where = source.splitlines().index(
        '    ref = await client.analyze.tasks.create(video=url, prompt="Hi")'
    )
    assert lines[where] == 17
    assert lines[0] is None  # the prelude comes from no line of the page
    written = write_modules([fragment], tmp_path)
    [(name, (block, _))] = written.items()
    assert (tmp_path / name).read_text() == source
    assert block is fragment


def test_a_module_is_written_as_it_is() -> None:
    """A block that is a module is checked exactly as written, each line mapped to itself."""
    program = markdown_blocks(MARKDOWN, "page.md")[0]
    assert program.module() == (program.code, [8, 9, 10])


def test_problems_name_unknown_given_names_and_bad_syntax() -> None:
    """An unknown given name and code that is not Python are reported at the block's line."""
    assert Block("p.md", 3, "# given: client, frobnicator\nprint(client)\n").problems() == [
        f"p.md:3: given name 'frobnicator' is not one of {', '.join(sorted(GIVEN))}"
    ]
    assert Block("p.md", 7, "def (:\n").problems() == ["p.md:7: the block is not valid Python"]


def test_mypy_errors_are_reported_at_the_markdown_line(tmp_path: Path) -> None:
    """The lines mypy writes about a written module are moved to the page's path and line."""
    fragment = Block("<self-test>", 1, SELF_TEST)
    written = write_modules([fragment], tmp_path)
    [name] = written
    _, lines = fragment.module()
    body = lines.index(3) + 1
    report = (
        f"/elsewhere/{name}:{body}: error: Item None has no attribute data  [union-attr]\n"
        f"{tmp_path / name}:2: error: in the prelude\n"
        "twelvelabs_async/x.py:1: error: elsewhere\n"
    )
    assert list(located(report, written)) == [
        "<self-test>:3: error: Item None has no attribute data  [union-attr]",
        "<self-test>:1 (given names): error: in the prelude",
        "twelvelabs_async/x.py:1: error: elsewhere",
    ]


def test_the_docs_blocks_are_all_checkable() -> None:
    """Every block of README.md and docs/ is valid Python with known given names."""
    blocks = doc_blocks()
    assert len(blocks) >= 25
    assert [problem for block in blocks for problem in block.problems()] == []
    assert {path.name for path in example_files()} >= {"app_aiohttp.py", "app_fastapi.py"}
    readme = [block for block in blocks if block.path == "README.md"]
    assert readme[0].is_program
    assert all(block.is_fragment for block in readme[1:])


PROGRAMS = [block for block in doc_blocks() if block.is_program]


def test_the_docs_have_complete_programs() -> None:
    """The README's example, the docs home's and the guides' opening examples are programs."""
    assert {block.path for block in PROGRAMS} >= {
        "README.md",
        "docs/index.md",
        "docs/guides/track-many-tasks.md",
        "docs/guides/batches.md",
    }


@pytest.mark.parametrize("block", PROGRAMS, ids=[block.id for block in PROGRAMS])
async def test_program_runs_against_the_simulator(block: Block, tmp_path: Path) -> None:
    """Each complete program of the docs runs as written, to success, on the simulator."""
    script = tmp_path / "example.py"
    script.write_text(block.code)
    async with simulate(duration=(0.05, 0.3), failure_rate=0.0) as sim:
        await sim.seed_tasks(3)
        env = {**os.environ, "TWELVELABS_API_KEY": sim.api_key, "TWELVELABS_BASE_URL": sim.base_url}
        proc = await asyncio.create_subprocess_exec(
            sys.executable,
            str(script),
            env=env,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
        )
        out, err = await asyncio.wait_for(proc.communicate(), timeout=50)
    assert proc.returncode == 0, err.decode()
    assert out.strip(), "the program printed nothing"
    assert sim.stats.count(status=400) == sim.stats.count(status=404) == 0


def test_every_given_name_is_documented() -> None:
    """docs/architecture.md lists every name a fragment may take as given."""
    architecture = (Path(__file__).resolve().parent.parent / "docs" / "architecture.md").read_text()
    section = architecture.split("## Examples in the docs", 1)[1]
    assert [name for name in GIVEN if f"`{name}`" not in section] == []
