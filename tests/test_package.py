"""Package-wide conventions: the public API, typing, and how components are built."""

from __future__ import annotations

import importlib.resources
import inspect

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


def test_every_component_has_a_type_token_and_documented_args():
    for name in paaskit.__all__:
        obj = getattr(paaskit, name)
        if inspect.isclass(obj) and issubclass(obj, Component):
            module = obj.__module__.rsplit(".", 1)[-1]
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
