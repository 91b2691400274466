"""The ready stacks: each plans cleanly, and its documented config matches the code."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import yaml

from paaskit import RackArgs
from paaskit.config import default_at
from paaskit.testing import plan

ROOT = Path(__file__).resolve().parent.parent


def _module(path: Path, name: str):
    spec = importlib.util.spec_from_file_location(name, path)
    assert spec
    assert spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


rack_config = _module(ROOT / "stacks" / "rack" / "rack_config.py", "rack_config_under_test")


def project_config():
    return yaml.safe_load((ROOT / "Pulumi.yaml").read_text())["config"]


def test_the_reference_rack_plans():
    records = plan(ROOT, stack="dev")
    assert records.project == "paaskit-rack"
    assert records.one("paaskit:rack:Rack").name == "rack"
    assert records.of_type("aws:ec2/vpc:Vpc")


UNDECLARABLE = {"tags", "ecsConfig", "databaseParameters"}
"""Mappings have no project-file type; Pulumi.yaml documents them in a comment."""


def test_every_config_key_is_documented_in_the_project_file():
    declared = {k for k in project_config() if ":" not in k}
    assert declared == set(rack_config.CONFIG_KEYS) - UNDECLARABLE | set(rack_config.SECTIONS)
    text = (ROOT / "Pulumi.yaml").read_text()
    for key in UNDECLARABLE:
        assert f"paaskit-rack:{key}:" in text


def test_documented_defaults_are_the_components_defaults():
    for key, decl in project_config().items():
        if ":" in key:
            continue
        assert decl.get("description"), f"{key} has no description"
        if key in rack_config.SECTIONS:
            assert decl["default"] is False
            continue
        path = rack_config.CONFIG_KEYS[key]
        if "default" in decl:
            assert decl["default"] == default_at(RackArgs, path), key
        else:
            assert default_at(RackArgs, path) is None, (
                f"{key} has a default but the project file shows none"
            )
