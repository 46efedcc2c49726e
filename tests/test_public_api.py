"""The public namespace: a sorted, complete, importable `__all__` with documented names."""

from __future__ import annotations

import ast
import inspect
import itertools
import types
import typing
from pathlib import Path

import pytest

import twelvelabs_async
from twelvelabs_async import errors, models

PACKAGE_DIR = Path(twelvelabs_async.__file__).parent
ALIASES = {"VideoInput", "StreamEvent", "TaskList"}
"""Type aliases: no runtime docstring of their own."""
ERROR_HELPERS = {"error_class_for", "error_from_response", "parse_error_body"}
"""Pure helpers of the HTTP seam: public in `twelvelabs_async.errors`, not re-exported."""


def _top_level_names(module: types.ModuleType) -> set[str]:
    """Public names a module defines itself: classes, functions and assignments."""
    tree = ast.parse(Path(inspect.getfile(module)).read_text())
    names: set[str] = set()
    for node in tree.body:
        if isinstance(node, ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef):
            names.add(node.name)
        elif isinstance(node, ast.Assign):
            names.update(t.id for t in node.targets if isinstance(t, ast.Name))
        elif isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
            names.add(node.target.id)
    return {name for name in names if not name.startswith("_")}


def _attribute_docstrings() -> set[str]:
    """Names assigned at module level anywhere in the package and followed by a docstring."""
    documented: set[str] = set()
    for path in PACKAGE_DIR.rglob("*.py"):
        body = ast.parse(path.read_text()).body
        for node, after in itertools.pairwise(body):
            is_doc = (
                isinstance(after, ast.Expr)
                and isinstance(after.value, ast.Constant)
                and isinstance(after.value.value, str)
                and after.value.value.strip() != ""
            )
            if not is_doc:
                continue
            if isinstance(node, ast.Assign):
                documented.update(t.id for t in node.targets if isinstance(t, ast.Name))
            elif isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
                documented.add(node.target.id)
    return documented


def test_all_is_sorted_and_unique() -> None:
    """__all__ is in plain sorted() order with no duplicates."""
    names = list(twelvelabs_async.__all__)
    assert names == sorted(names)
    assert len(names) == len(set(names))


def test_all_names_importable() -> None:
    """Every name in __all__ exists, and `import *` brings exactly those names."""
    namespace: dict[str, object] = {}
    exec("from twelvelabs_async import *", namespace)
    namespace.pop("__builtins__", None)
    assert set(namespace) == set(twelvelabs_async.__all__)
    for name in twelvelabs_async.__all__:
        assert namespace[name] is getattr(twelvelabs_async, name)


def test_no_public_attribute_left_out() -> None:
    """Every public attribute of the package, other than its subpackages, is in __all__."""
    public = {
        name
        for name, value in vars(twelvelabs_async).items()
        if not name.startswith("_") and not isinstance(value, types.ModuleType)
    }
    assert public == set(twelvelabs_async.__all__) - {"__version__"}


@pytest.mark.parametrize("module", [models, errors], ids=lambda m: m.__name__)
def test_public_module_names_exported(module: types.ModuleType) -> None:
    """Every public class, function, constant and alias of models.py and errors.py is exported."""
    missing = _top_level_names(module) - set(twelvelabs_async.__all__) - ERROR_HELPERS
    assert missing == set()
    for name in _top_level_names(module) & set(twelvelabs_async.__all__):
        assert getattr(twelvelabs_async, name) is getattr(module, name)


def test_error_helpers_still_exist() -> None:
    """The helpers deliberately kept out of __all__ are real, documented functions of errors."""
    for name in ERROR_HELPERS:
        helper = getattr(errors, name)
        assert inspect.isfunction(helper)
        assert (helper.__doc__ or "").strip()


def test_version_is_a_version_string() -> None:
    """__version__ is a dotted version string."""
    parts = twelvelabs_async.__version__.split(".")
    assert len(parts) >= 3
    assert all(part.isdigit() for part in parts[:2])


@pytest.mark.parametrize("name", sorted(set(twelvelabs_async.__all__) - ALIASES - {"__version__"}))
def test_exported_name_has_docstring(name: str) -> None:
    """Every exported class and function has its own docstring; a constant one in the source."""
    obj = getattr(twelvelabs_async, name)
    if inspect.isclass(obj):
        doc = obj.__dict__.get("__doc__")  # its own, not one inherited from a base class
    elif inspect.isfunction(obj):
        doc = obj.__doc__
    else:
        assert name in _attribute_docstrings(), f"{name} has no docstring after its assignment"
        return
    assert doc is not None
    assert doc.strip(), f"{name} has an empty docstring"


def test_aliases_name_their_members() -> None:
    """The exported type aliases are the documented unions and generic."""
    assert set(typing.get_args(twelvelabs_async.VideoInput)) == {
        twelvelabs_async.UrlVideo,
        twelvelabs_async.AssetVideo,
        twelvelabs_async.Base64Video,
    }
    assert set(typing.get_args(twelvelabs_async.StreamEvent)) == {
        twelvelabs_async.StreamStart,
        twelvelabs_async.TextGeneration,
        twelvelabs_async.StreamEnd,
        twelvelabs_async.UnknownEvent,
    }
    assert typing.get_args(twelvelabs_async.TaskList) == (
        twelvelabs_async.AnalyzeTask,
        twelvelabs_async.TaskPage,
    )


def test_testing_all_is_sorted_importable_and_documented() -> None:
    """`twelvelabs_async.testing.__all__` is sorted (constants, classes, functions), importable,
    and every class or function in it has its own docstring.
    """
    import twelvelabs_async.testing as testing

    def kind(name: str) -> tuple[int, str]:
        return (0 if name.isupper() else 1 if name[0].isupper() else 2, name)

    names = list(testing.__all__)
    assert names == sorted(names, key=kind)
    assert len(names) == len(set(names))
    assert "MockTransport" in names
    for name in names:
        obj = getattr(testing, name)
        if inspect.isclass(obj):
            assert (obj.__dict__.get("__doc__") or "").strip(), name
        elif inspect.isfunction(obj):
            assert (obj.__doc__ or "").strip(), name


def test_tracker_members_have_docstrings() -> None:
    """Every public method and property of Tracker, the worker mode's included, has a docstring."""
    names = {name for name in dir(twelvelabs_async.Tracker) if not name.startswith("_")}
    assert {"add", "close", "closed", "keep_open"} <= names
    for name in names:
        member = inspect.getattr_static(twelvelabs_async.Tracker, name)
        assert (getattr(member, "__doc__", None) or "").strip(), name
