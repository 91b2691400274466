"""Projects on disk: Pulumi.yaml, stack files, overrides, references and errors."""

from __future__ import annotations

import json
import textwrap
from pathlib import Path

import pytest

from paaskit.plan import (
    PlanError,
    find_project,
    load_config,
    load_project,
    parse_ref_file,
    plan_directory,
)
from paaskit.plan.project import SECRET_PLACEHOLDER

PROGRAM = """
import pulumi
import pulumi_aws as aws

cfg = pulumi.Config()
size = cfg.get_int("size") or 0
aws.ec2.Vpc("vpc", cidr_block=cfg.require("cidr"), tags={"size": str(size), "mode": cfg.get("mode") or ""})
pulumi.export("password", cfg.get_secret("password"))
pulumi.export("cidr", cfg.require("cidr"))
"""


def make_project(
    root: Path,
    *,
    name: str = "demo",
    program: str = PROGRAM,
    main: str | None = "app",
    extra: str = "",
) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    program_dir = root / main if main else root
    program_dir.mkdir(parents=True, exist_ok=True)
    (program_dir / "__main__.py").write_text(textwrap.dedent(program))
    main_line = f"main: {main}\n" if main else ""
    (root / "Pulumi.yaml").write_text(
        f"name: {name}\nruntime:\n  name: python\n{main_line}"
        "config:\n"
        "  aws:region: eu-central-1\n"
        "  cidr:\n    type: string\n    default: 10.9.0.0/16\n"
        "  size:\n    type: integer\n    default: 2\n"
        "  mode:\n    type: string\n"
        "  password:\n    type: string\n    secret: true\n" + extra
    )
    return root


def test_project_file_gives_name_main_and_defaults(tmp_path):
    project = load_project(make_project(tmp_path / "p"))
    assert project.name == "demo"
    assert project.main == (tmp_path / "p" / "app").resolve()
    config = load_config(project, "dev")
    assert config.values == {
        "aws:region": "eu-central-1",
        "demo:cidr": "10.9.0.0/16",
        "demo:size": "2",
    }


def test_stack_file_then_overrides_win(tmp_path):
    root = make_project(tmp_path / "p")
    (root / "Pulumi.prod.yaml").write_text(
        "config:\n  demo:size: 5\n  demo:mode: fast\n  aws:region: us-west-2\n"
    )
    project = load_project(root)
    config = load_config(project, "prod", ["size=7", "demo:cidr=10.8.0.0/16"])
    assert config.values["demo:size"] == "7"
    assert config.values["demo:mode"] == "fast"
    assert config.values["demo:cidr"] == "10.8.0.0/16"
    assert config.values["aws:region"] == "us-west-2"


def test_plan_runs_main_with_the_stack_config(tmp_path):
    root = make_project(tmp_path / "p")
    (root / "Pulumi.prod.yaml").write_text("config:\n  demo:mode: fast\n")
    plan = plan_directory(root, stack="prod", overrides=["size=3"])
    assert (plan.project, plan.stack) == ("demo", "prod")
    assert plan.named("vpc").inputs == {
        "cidrBlock": "10.9.0.0/16",
        "tags": {"mode": "fast", "size": "3"},
    }
    assert plan.outputs["cidr"] == "10.9.0.0/16"


def test_encrypted_values_are_placeholders_and_stay_secret(tmp_path):
    root = make_project(tmp_path / "p")
    (root / "Pulumi.dev.yaml").write_text(
        "config:\n  demo:password:\n    secure: v1:AAAAsecretciphertext\n"
    )
    config = load_config(load_project(root), "dev")
    assert config.values["demo:password"] == SECRET_PLACEHOLDER
    assert "demo:password" in config.secret_keys
    plan = plan_directory(root)
    assert plan.outputs["password"] == "[secret]"
    assert SECRET_PLACEHOLDER not in json.dumps(plan.to_json())


def test_secret_declared_in_the_project_is_masked_even_when_given_plainly(tmp_path):
    plan = plan_directory(make_project(tmp_path / "p"), overrides=["password=hunter2"])
    assert "hunter2" not in json.dumps(plan.to_json())


def test_wrong_types_name_the_key_and_the_file(tmp_path):
    root = make_project(tmp_path / "p")
    (root / "Pulumi.dev.yaml").write_text("config:\n  demo:size: many\n")
    with pytest.raises(
        PlanError, match=r"Pulumi\.dev\.yaml: demo:size: expected an integer, got 'many'"
    ):
        load_config(load_project(root), "dev")
    with pytest.raises(PlanError, match=r"-c: demo:size: expected an integer"):
        load_config(load_project(root), "other", ["size=x"])


def test_bad_project_files_are_named(tmp_path):
    with pytest.raises(PlanError, match=r"no Pulumi\.yaml"):
        load_project(tmp_path)
    (tmp_path / "Pulumi.yaml").write_text("name: x\nruntime: nodejs\n")
    with pytest.raises(PlanError, match="runtime: the offline plan runs Python programs only"):
        load_project(tmp_path)
    (tmp_path / "Pulumi.yaml").write_text("name: x\nruntime: python\nmain: nowhere\n")
    with pytest.raises(PlanError, match="main: nowhere does not exist"):
        load_project(tmp_path)
    (tmp_path / "Pulumi.yaml").write_text("runtime: python\n")
    with pytest.raises(PlanError, match="name: a project needs a name"):
        load_project(tmp_path)


def test_an_explicit_stack_needs_its_file(tmp_path):
    root = make_project(tmp_path / "p")
    with pytest.raises(PlanError, match=r"Pulumi\.prod\.yaml: no such stack config file"):
        plan_directory(root, stack="prod", stack_required=True)


def test_override_without_value_is_rejected(tmp_path):
    with pytest.raises(PlanError, match="-c size: expected KEY=VALUE"):
        load_config(load_project(make_project(tmp_path / "p")), "dev", ["size"])


def test_a_failing_program_is_described_not_traced(tmp_path):
    root = make_project(
        tmp_path / "p", program="import pulumi\npulumi.Config().require('missing')\n"
    )
    with pytest.raises(PlanError) as info:
        plan_directory(root)
    message = str(info.value)
    assert "demo:missing" in message
    assert "Traceback" not in message


def test_an_unexpected_error_says_where(tmp_path):
    root = make_project(tmp_path / "p", program="x = {}\nx['nope']\n")
    with pytest.raises(PlanError, match=r"KeyError: 'nope' \(at .*__main__\.py:2\)"):
        plan_directory(root)


def test_program_runs_in_its_own_directory_and_can_import_siblings(tmp_path):
    root = make_project(
        tmp_path / "p",
        program="import pathlib, helper, pulumi\npulumi.export('here', pathlib.Path.cwd().name)\npulumi.export('v', helper.V)\n",
    )
    (root / "app" / "helper.py").write_text("V = 42\n")
    plan = plan_directory(root)
    assert plan.outputs == {"here": "app", "v": 42}


CONSUMER = """
import pulumi
import pulumi_aws as aws
ref = pulumi.StackReference("organization/demo/dev")
aws.ec2.Subnet("subnet", vpc_id=ref.get_output("vpcId"), cidr_block="10.9.1.0/24")
"""

PRODUCER = """
import pulumi
import pulumi_aws as aws
vpc = aws.ec2.Vpc("vpc", cidr_block="10.9.0.0/16")
pulumi.export("vpcId", vpc.id)
"""


def test_a_referenced_project_nearby_is_planned_first(tmp_path):
    make_project(tmp_path, program=PRODUCER, main="stacks/net")
    consumer = make_project(
        tmp_path / "stacks" / "app", name="consumer", program=CONSUMER, main=None
    )
    (tmp_path / ".git").mkdir()
    assert find_project("demo", consumer) == tmp_path
    producer_plan = plan_directory(tmp_path)
    plan = plan_directory(consumer)
    assert plan.named("subnet").inputs["vpcId"] == producer_plan.outputs["vpcId"]


def test_reference_outputs_can_come_from_a_file(tmp_path):
    consumer = make_project(tmp_path / "c", name="consumer", program=CONSUMER, main=None)
    outputs = tmp_path / "outputs.json"
    outputs.write_text(json.dumps({"vpcId": "vpc-0123"}))
    name, data = parse_ref_file(f"demo/dev={outputs}")
    plan = plan_directory(consumer, refs={name: data})
    assert plan.named("subnet").inputs["vpcId"] == "vpc-0123"
    # `paaskit plan --json` output works as well as `pulumi stack output --json`.
    outputs.write_text(
        json.dumps(
            {"project": "demo", "stack": "dev", "resources": [], "outputs": {"vpcId": "vpc-9"}}
        )
    )
    assert parse_ref_file(f"demo/dev={outputs}") == ("demo/dev", {"vpcId": "vpc-9"})


def test_an_unknown_reference_says_how_to_give_it(tmp_path):
    (tmp_path / ".git").mkdir()
    consumer = make_project(tmp_path / "c", name="consumer", program=CONSUMER, main=None)
    with pytest.raises(
        PlanError, match=r"no project named 'demo' was found.*--ref organization/demo/dev=FILE"
    ):
        plan_directory(consumer)
