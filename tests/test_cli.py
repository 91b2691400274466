"""The `paaskit` command: verbs, exit codes, and the JSON contract."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from paaskit.cli import build_parser, main

ROOT = Path(__file__).resolve().parent.parent
RECORD_FIELDS = {
    "urn", "type", "name", "parent", "custom", "protect", "retain_on_delete",
    "dependencies", "provider", "inputs",
}  # fmt: skip


def test_help_lists_every_verb_with_its_help():
    text = build_parser().format_help()
    for verb in ("plan",):
        assert verb in text
    result = subprocess.run(
        [sys.executable, "-m", "paaskit", "--help"], capture_output=True, text=True, check=True
    )
    assert "plan" in result.stdout


def test_plan_json_is_the_documented_schema_and_nothing_else(capsys):
    assert main(["plan", str(ROOT), "--json"]) == 0
    out = capsys.readouterr().out
    data = json.loads(out)
    assert {"project", "stack", "resources", "outputs"} <= set(data)
    assert data["project"] == "paaskit-rack"
    assert data["stack"] == "dev"
    for record in data["resources"]:
        assert set(record) >= RECORD_FIELDS
        assert isinstance(record["dependencies"], list)
        assert isinstance(record["inputs"], dict)
    assert "vpcId" in data["outputs"]


def test_plan_text_shows_a_tree_and_counts(capsys):
    assert main(["plan", str(ROOT)]) == 0
    out = capsys.readouterr().out
    assert "paaskit:rack:Rack  rack" in out
    assert "└─ paaskit:network:Network  rack-network" in out
    assert "Resources by type:" in out
    assert "aws:ec2/subnet:Subnet" in out


def test_config_overrides_reach_the_program(capsys):
    assert main(["plan", str(ROOT), "--json", "-c", "zones=3"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert sum(r["type"] == "aws:ec2/subnet:Subnet" for r in data["resources"]) == 6


def test_a_bad_setting_exits_1_and_names_the_key(capsys):
    assert main(["plan", str(ROOT), "-c", "natMode=gateway"]) == 1
    err = capsys.readouterr().err
    assert "paaskit-rack:natMode" in err
    assert "Traceback" not in err


def test_a_missing_directory_exits_1(capsys, tmp_path):
    assert main(["plan", str(tmp_path / "nope")]) == 1
    assert "no such directory" in capsys.readouterr().err


def test_a_wrong_command_line_exits_2():
    with pytest.raises(SystemExit) as info:
        main(["plan"])
    assert info.value.code == 2
