"""Package-wide conventions: the public API, typing, and how components are built."""

from __future__ import annotations

import ast
import importlib.resources
import inspect
import re
from pathlib import Path

import pytest

import paaskit
from paaskit import Network, Rack
from paaskit._component import Component
from paaskit.testing import plan


def test_all_is_sorted_and_complete():
    assert paaskit.__all__ == sorted(paaskit.__all__)
    public = {
        name
        for name, obj in vars(paaskit).items()
        if not name.startswith("_") and (inspect.isclass(obj) or inspect.isfunction(obj))
    }
    assert public == set(paaskit.__all__)


def test_package_is_typed():
    assert importlib.resources.files("paaskit").joinpath("py.typed").is_file()


PACKAGE = Path(paaskit.__file__).parent

WITHOUT_ALL: set[str] = set()
"""Modules exempt from declaring `__all__` (none today)."""


def _isort_key(name: str) -> tuple[int, list[int | str]]:
    """The order of ruff's RUF022: CONSTANTS, then Classes, then the rest, in natural order."""
    kind = 0 if name.isupper() else 1 if name[:1].isupper() else 2
    return kind, [int(p) if p.isdigit() else p for p in re.split(r"(\d+)", name)]


def _top_level_names(tree: ast.Module) -> set[str]:
    names: set[str] = set()
    body = list(tree.body)
    while body:
        node = body.pop()
        if isinstance(node, (ast.If, ast.Try)):
            # Names bound either way (an optional import and its fallback).
            body += [*node.body, *node.orelse, *getattr(node, "handlers", [])]
        elif isinstance(node, ast.ExceptHandler):
            body += node.body
        elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            names.add(node.name)
        elif isinstance(node, (ast.Import, ast.ImportFrom)):
            names.update((a.asname or a.name).split(".")[0] for a in node.names)
        elif isinstance(node, ast.Assign):
            names.update(t.id for t in node.targets if isinstance(t, ast.Name))
        elif isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
            names.add(node.target.id)
    return names


def _declared_all(tree: ast.Module) -> list[str] | None:
    for node in tree.body:
        if not isinstance(node, (ast.Assign, ast.AnnAssign)):
            continue
        targets = node.targets if isinstance(node, ast.Assign) else [node.target]
        if any(isinstance(t, ast.Name) and t.id == "__all__" for t in targets):
            value = node.value
            assert isinstance(value, (ast.List, ast.Tuple))
            return [ast.literal_eval(e) for e in value.elts]
    return None


@pytest.mark.parametrize(
    "path",
    sorted(str(p.relative_to(PACKAGE)) for p in PACKAGE.rglob("*.py")),
)
def test_every_module_declares_a_sorted_all_of_names_it_has(path):
    tree = ast.parse((PACKAGE / path).read_text())
    declared = _declared_all(tree)
    if path in WITHOUT_ALL:
        return
    assert declared is not None, f"paaskit/{path} has no __all__"
    assert declared == sorted(declared, key=_isort_key)
    missing = sorted(set(declared) - _top_level_names(tree))
    assert missing == [], f"paaskit/{path}: __all__ names what the module does not have"


def test_every_component_has_a_type_token_and_documented_args():
    for name in paaskit.__all__:
        obj = getattr(paaskit, name)
        if inspect.isclass(obj) and issubclass(obj, Component):
            # `paaskit.<module>` or `paaskit.<package>._<private module>`: the token names
            # the public one, which the component's URNs have carried since it was made.
            module = obj.__module__.split(".")[1]
            assert f"paaskit:{module}:{name}" == obj.TYPE
            assert obj.__doc__
            assert "Creates" in obj.__doc__
            args = getattr(paaskit, f"{name}Args")
            for field, info in args.model_fields.items():
                assert info.description, f"{name}Args.{field} has no docstring"


def test_every_child_is_parented_and_named_after_its_component():
    records = plan(lambda: Rack("rk"))
    for record in records:
        if record.type in ("pulumi:pulumi:Stack",) or record.name == "rk":
            continue
        assert record.parent is not None
        parent = records.get(record.parent)
        assert parent.type.startswith("paaskit:"), f"{record.name} is not inside a component"
        assert record.name.startswith(parent.name + "-"), (
            f"{record.name} is not named after {parent.name}"
        )


def test_components_take_name_args_opts():
    for cls in (Network, Rack):
        params = list(inspect.signature(cls.__init__).parameters)
        assert params[:4] == ["self", "name", "args", "opts"]


WITHOUT_WIRING = {"Network", "Rack", "App"}
"""Components that nothing wires: all they take is their Args (an App's rack is a
required field of its own)."""


def test_every_component_separates_settings_from_wiring_the_same_way():
    components = [
        name
        for name in paaskit.__all__
        if inspect.isclass(getattr(paaskit, name)) and issubclass(getattr(paaskit, name), Component)
    ]
    assert set(WITHOUT_WIRING) < set(components)
    for name in components:
        args = getattr(paaskit, f"{name}Args")
        if name in WITHOUT_WIRING:
            assert f"{name}Settings" not in paaskit.__all__
            continue
        settings = getattr(paaskit, f"{name}Settings")
        assert issubclass(args, settings)
        wiring = set(args.model_fields) - set(settings.model_fields)
        parameters = set(inspect.signature(args.from_settings).parameters) - {"settings"}
        assert parameters == wiring, name
        required = {f for f in wiring if args.model_fields[f].is_required()}
        keyword_only = inspect.signature(args.from_settings).parameters
        assert {p for p in parameters if keyword_only[p].default is inspect.Parameter.empty} == (
            required
        ), name
