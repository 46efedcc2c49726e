"""Every check of the project: `nox` runs lint, typecheck, tests and docs; `-s demo`, `-s bench`."""

from __future__ import annotations

import nox

nox.needs_version = ">=2025.2.9"
nox.options.default_venv_backend = "uv|virtualenv"
nox.options.sessions = ["lint", "typecheck", "tests", "docs"]
nox.options.reuse_venv = "yes"

PYPROJECT = nox.project.load_toml("pyproject.toml")


def _group(name: str) -> list[str]:
    return nox.project.dependency_groups(PYPROJECT, name)


@nox.session
def lint(session: nox.Session) -> None:
    """Ruff lint and format check; the import contracts of docs/architecture.md."""
    session.install("-e", ".", *_group("lint"))
    session.run("ruff", "check", ".")
    session.run("ruff", "format", "--check", ".")
    session.run("lint-imports")


@nox.session
def typecheck(session: nox.Session) -> None:
    """Type-check strictly: the package, tests/typing, and every Python example of the docs."""
    session.install("-e", ".", *_group("typecheck"))
    session.run("mypy", "--strict")
    session.run("python", "-m", "tests._doc_blocks")  # README.md, docs/ and docs/examples/


@nox.session
def tests(session: nox.Session) -> None:
    """The test suite on the newest aiohttp, warnings as errors, branch coverage >= 90 %."""
    session.install("-e", ".", *_group("test"))
    session.run("coverage", "erase")
    session.run("coverage", "run", "-m", "pytest", *session.posargs)
    session.run("coverage", "report")


@nox.session
def docs(session: nox.Session) -> None:
    """Build the docs site with warnings as errors."""
    session.install("-e", ".", *_group("docs"))
    session.run(
        "mkdocs", "build", "--strict", "--site-dir", "site", env={"NO_MKDOCS_2_WARNING": "1"}
    )


@nox.session
def demo(session: nox.Session) -> None:
    """The README's demo: tasks created and tracked live on the embedded simulator."""
    session.install("-e", ".[cli]")
    session.run("twelvelabs-async", "demo", *session.posargs)


@nox.session
def bench(session: nox.Session) -> None:
    """Benchmarks against the official SDK (installed only here)."""
    session.install("-e", ".", *_group("bench"))
    session.run("python", "bench/run.py", *session.posargs)
    session.run("python", "bench/report.py")
