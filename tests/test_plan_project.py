"""Projects on disk: Pulumi.yaml, stack files, overrides, references and errors."""

from __future__ import annotations

import gc
import json
import textwrap
import warnings
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
from paaskit.plan.project import SECRET_PLACEHOLDER, provider_keys

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
    (tmp_path / "Pulumi.dev.yaml").write_text("config: {}\n")
    (tmp_path / ".git").mkdir()
    assert find_project("demo", consumer) == tmp_path
    producer_plan = plan_directory(tmp_path)
    plan = plan_directory(consumer)
    assert plan.named("subnet").inputs["vpcId"] == producer_plan.outputs["vpcId"]


def test_a_referenced_stack_must_exist(tmp_path):
    # Planning a stack nobody made, with its defaults, would show a consumer of a
    # rack that is not there: the referenced stack's file must exist.
    make_project(tmp_path, program=PRODUCER, main="stacks/net")
    (tmp_path / "Pulumi.prod.yaml").write_text("config: {}\n")
    consumer = make_project(
        tmp_path / "stacks" / "app",
        name="consumer",
        program=CONSUMER,
        main=None,
        extra="  ref:\n    type: string\n    default: organization/demo/dev\n",
    )
    (tmp_path / ".git").mkdir()
    with pytest.raises(PlanError) as info:
        plan_directory(consumer)
    assert str(info.value) == (
        "the program reads stack 'organization/demo/dev' (set by consumer:ref), but project "
        f"demo has no stack 'dev': {tmp_path / 'Pulumi.dev.yaml'} does not exist (its stacks: "
        "prod); create it, or give the stack's outputs with --ref organization/demo/dev=FILE"
    )


def test_a_refused_reference_leaves_no_coroutine_to_be_reported_later():
    # The app stack, reading a rack stack that does not exist, is refused with its outputs
    # half-made; nothing of that run may surface afterwards as "coroutine ... was never
    # awaited" (a user of paaskit.testing plans many times in one process, maybe under
    # -W error). Pulumi's settings kept the run's monitor and outputs as their defaults.
    repo = Path(__file__).resolve().parent.parent
    with warnings.catch_warnings(record=True) as seen:
        warnings.simplefilter("always")
        with pytest.raises(PlanError, match="has no stack 'devx'"):
            plan_directory(
                repo / "stacks" / "app",
                overrides=[
                    "paaskit-app:manifest=examples/flask/paaskit.yml",
                    "paaskit-app:rack=organization/paaskit-rack/devx",
                ],
            )
        gc.collect()
        plan_directory(repo)  # the reference rack
        gc.collect()
    assert [str(w.message) for w in seen] == []


def test_a_provider_key_the_provider_does_not_have_is_refused_as_it_would_be(tmp_path):
    # pulumi-aws v6's default provider refuses `aws:regon`; planning it in the default
    # region instead would show a plan that pulumi up never makes.
    root = make_project(tmp_path / "p")
    (root / "Pulumi.dev.yaml").write_text("config:\n  aws:regon: eu-west-1\n")
    with pytest.raises(PlanError) as info:
        plan_directory(root)
    assert str(info.value) == (
        "Pulumi.dev.yaml: aws:regon: not a configuration key of the aws provider, which "
        "refuses it; did you mean aws:region? (a setting of your own takes a namespace "
        "other than aws:)"
    )
    (root / "Pulumi.dev.yaml").write_text("config: {}\n")
    with pytest.raises(PlanError, match=r"^-c docker:hots: .*did you mean docker:host\?"):
        plan_directory(tmp_path / "p", overrides=["docker:hots=unix:///x"])
    # The provider's own keys, paths into them, and other namespaces all plan.
    assert "region" in provider_keys("aws")
    assert "assumeRoles" in provider_keys("aws")
    plan_directory(
        root,
        overrides=[
            "aws:region=eu-west-1",
            "aws:defaultTags.tags.team=web",
            "docker:host=unix:///var/run/docker.sock",
            "mine:regon=x",
        ],
    )


def test_a_reference_to_a_stack_of_the_same_project_is_refused(tmp_path):
    program = 'import pulumi\npulumi.StackReference("nope").get_output("x")\n'
    root = make_project(tmp_path / "p", program=program)
    (root / "Pulumi.nope.yaml").write_text("config: {}\n")
    with pytest.raises(PlanError, match="reads stack 'nope', a stack of its own project demo"):
        plan_directory(root)


def test_a_failing_referenced_stack_says_it_is_the_referenced_one(tmp_path):
    make_project(tmp_path, program=PRODUCER + "pulumi.Config().require('missing')\n", main="net")
    (tmp_path / "Pulumi.dev.yaml").write_text("config: {}\n")
    consumer = make_project(tmp_path / "c", name="consumer", program=CONSUMER, main=None)
    (tmp_path / ".git").mkdir()
    with pytest.raises(
        PlanError,
        match=r"reads stack 'organization/demo/dev', which cannot be planned: .*demo:missing",
    ):
        plan_directory(consumer)


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


# --- stack files as Pulumi reads them ------------------------------------------------------


def test_a_key_written_twice_is_refused_as_pulumi_refuses_it(tmp_path):
    root = make_project(tmp_path / "p")
    (root / "Pulumi.dev.yaml").write_text("config:\n  demo:size: 3\n  demo:size: 4\n")
    with pytest.raises(
        PlanError,
        match=r"Pulumi\.dev\.yaml:3: not valid YAML: key 'demo:size' is written twice \(first at line 2\)",
    ):
        load_config(load_project(root), "dev")
    (root / "Pulumi.dev.yaml").write_text("config:\n  size: 3\n  demo:size: 4\n")
    with pytest.raises(PlanError, match=r"size and demo:size are the same key \(demo:size\)"):
        load_config(load_project(root), "dev")


@pytest.mark.parametrize("text", ["- a\n- b\n", "just words\n", "42\n"])
def test_a_stack_file_that_is_not_a_mapping_is_refused(tmp_path, text):
    root = make_project(tmp_path / "p")
    (root / "Pulumi.dev.yaml").write_text(text)
    with pytest.raises(PlanError, match=r"Pulumi\.dev\.yaml: expected a mapping at the top level"):
        load_config(load_project(root), "dev")


def test_a_stack_file_that_is_not_utf8_is_named(tmp_path):
    root = make_project(tmp_path / "p")
    (root / "Pulumi.dev.yaml").write_bytes(b"config:\n  demo:mode: \xff\xfe\n")
    with pytest.raises(PlanError, match=r"Pulumi\.dev\.yaml:2: not UTF-8 text \(byte 0xff\)"):
        load_config(load_project(root), "dev")


def test_a_character_yaml_does_not_allow_is_named_with_its_line(tmp_path):
    # PyYAML's own words were `unacceptable character #x0000 ... in "<unicode string>",
    # position 30`: neither the line nor anything a user wrote.
    root = make_project(tmp_path / "p")
    (root / "Pulumi.dev.yaml").write_bytes(b"config:\n  demo:size: \x003\n")
    with pytest.raises(PlanError) as info:
        load_config(load_project(root), "dev")
    assert str(info.value) == (
        f"{root / 'Pulumi.dev.yaml'}:2: not valid YAML: the character U+0000 is not allowed "
        "(YAML takes printable characters, tabs and line breaks)"
    )


def test_a_number_too_long_for_python_is_named_with_its_line(tmp_path):
    root = make_project(tmp_path / "p")
    (root / "Pulumi.dev.yaml").write_text("config:\n  demo:size: " + "9" * 5000 + "\n")
    with pytest.raises(
        PlanError,
        match=r"Pulumi\.dev\.yaml:2: not valid YAML: a number of 5000 digits is too long$",
    ):
        load_config(load_project(root), "dev")
    with pytest.raises(PlanError) as info:
        load_config(load_project(root), "other", ["size=" + "9" * 5000])
    assert str(info.value) == (
        "-c: demo:size: expected an integer, got a number of 5000 digits "
        "(a Pulumi integer has at most 19)"
    )


def test_encrypted_values_inside_a_mapping_are_placeholders_and_secret(tmp_path):
    # `pulumi config set --secret --path 'environment.SECRET_KEY' ...` writes this.
    root = make_project(tmp_path / "p")
    (root / "Pulumi.dev.yaml").write_text(
        "config:\n  demo:environment:\n    SECRET_KEY:\n      secure: v1:AAAA\n    DEBUG: false\n"
    )
    config = load_config(load_project(root), "dev")
    assert json.loads(config.values["demo:environment"]) == {
        "SECRET_KEY": SECRET_PLACEHOLDER,
        "DEBUG": False,
    }
    assert "demo:environment" in config.secret_keys


def test_a_key_with_a_path_sets_a_place_inside_the_value(tmp_path):
    root = make_project(tmp_path / "p")
    (root / "Pulumi.dev.yaml").write_text("config:\n  demo:environment:\n    A: '1'\n")
    project = load_project(root)
    config = load_config(
        project,
        "dev",
        ["environment.SECRET_KEY=x", 'demo:environment["a.b"]=y', "endpoints[0]=ecr"],
    )
    assert json.loads(config.values["demo:environment"]) == {
        "A": "1",
        "SECRET_KEY": "x",
        "a.b": "y",
    }
    assert json.loads(config.values["demo:endpoints"]) == ["ecr"]
    # The JSON form sets the whole mapping, as before.
    config = load_config(project, "dev", ['environment={"B": "2"}'])
    assert json.loads(config.values["demo:environment"]) == {"B": "2"}
    with pytest.raises(PlanError, match=r"-c mode\.x=1: demo:mode is not a mapping"):
        load_config(project, "dev", ["mode=fast", "mode.x=1"])


def test_main_may_lie_outside_the_project_and_errors_still_read_well(tmp_path):
    program = make_project(
        tmp_path / "program",
        program="import pulumi\npulumi.Config().require('missing')\n",
        main=None,
    )
    root = tmp_path / "project"
    root.mkdir()
    (root / "Pulumi.yaml").write_text(f"name: demo\nruntime: python\nmain: ../{program.name}\n")
    with pytest.raises(PlanError) as info:
        plan_directory(root)
    assert str(info.value).startswith(
        f"demo ({root}): Missing required configuration variable 'demo:missing'"
    )


def test_errors_name_the_directory_as_written_and_drop_what_says_nothing(tmp_path, monkeypatch):
    # A message that names a key of the project needs no project name before it.
    program = "from paaskit.config import ConfigError\nraise ConfigError('demo:size: too big')\n"
    make_project(tmp_path / "p", program=program)
    monkeypatch.chdir(tmp_path)
    with pytest.raises(PlanError) as info:
        plan_directory("p")
    assert str(info.value) == "p: demo:size: too big"
    monkeypatch.chdir(tmp_path / "p")
    with pytest.raises(PlanError) as info:
        plan_directory(".")
    assert str(info.value) == "demo:size: too big"
    make_project(tmp_path / "q", program="raise ValueError('odd')\n")
    with pytest.raises(PlanError, match=r"^demo \(\.\./q\): ValueError: odd"):
        plan_directory("../q")
