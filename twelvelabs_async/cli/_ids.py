"""The id file: what `simulate --ids-file` writes and `tasks watch --from-file` (or `-`) reads.

One format both ways: one id a line. Reading also skips blank lines and `#` comments, and
takes a JSON list of ids (`["id1", "id2"]`, as `jq -c 'map(.task_id)'` makes and as
`simulate --ids-file` used to write), so a list of ids kept as JSON can be fed back too.
"""

from __future__ import annotations

import json
from collections.abc import Iterable

from .._validate import path_id
from ..errors import InvalidInputError
from ._flags import UsageError


def format_ids(ids: Iterable[str]) -> str:
    """The text of an id file: one id a line."""
    return "".join(f"{task_id}\n" for task_id in ids)


def parse_ids(text: str, source: str) -> list[str]:
    """The ids in `text`, each checked, in order (repeats kept); `source` names it in errors.

    Raises:
        UsageError: a JSON list that is not one, or an id the API would refuse, saying where.
    """
    if text.lstrip().startswith("["):
        return _json_list(text, source)
    ids: list[str] = []
    for number, line in enumerate(text.splitlines(), start=1):
        task_id = line.strip()
        if task_id and not task_id.startswith("#"):
            ids.append(_checked(task_id, f"{source}, line {number}"))
    return ids


def checked_ids(values: Iterable[str]) -> list[str]:
    """Ids given one by one (command-line arguments), each checked."""
    return [_checked(value, "") for value in values]


def _json_list(text: str, source: str) -> list[str]:
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise UsageError(
            f"{source} starts with '[' but is not a JSON list of ids "
            f"({exc.msg} at line {exc.lineno}); write one id a line instead"
        ) from None
    if not isinstance(data, list):  # pragma: no cover - json.loads of '[...' is a list
        raise UsageError(f"{source} is not a JSON list of ids")
    ids = []
    for i, item in enumerate(data):
        if not isinstance(item, str):
            raise UsageError(
                f"{source}, item {i + 1} of the JSON list is not a string id: {json.dumps(item)}"
            )
        ids.append(_checked(item.strip(), f"{source}, item {i + 1}"))
    return ids


def _checked(task_id: str, where: str) -> str:
    try:
        return path_id(task_id, "id")
    except InvalidInputError as exc:
        raise UsageError(f"{where}: {exc}" if where else str(exc)) from None
