"""The recording engine: what it records of a program, and how it isolates runs."""

from __future__ import annotations

import gc
import json
import re
import warnings
from typing import Any

import pulumi
import pulumi_aws as aws
import pytest

from paaskit.plan import (
    SECRET_MARKER,
    MissingStackReference,
    ProgramError,
    RunOptions,
    render_text,
    run,
)
from paaskit.plan.engine import from_wire


class Box(pulumi.ComponentResource):
    def __init__(self, name: str, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("test:box:Box", name, None, opts)
        self.inner = Inner(f"{name}-inner", pulumi.ResourceOptions(parent=self))
        self.register_outputs({})


class Inner(pulumi.ComponentResource):
    def __init__(self, name: str, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("test:box:Inner", name, None, opts)
        self.vpc = aws.ec2.Vpc(
            f"{name}-vpc",
            cidr_block="10.1.0.0/16",
            enable_dns_hostnames=True,
            opts=pulumi.ResourceOptions(parent=self, protect=True),
        )
        self.subnet = aws.ec2.Subnet(
            f"{name}-subnet",
            vpc_id=self.vpc.id,
            cidr_block="10.1.0.0/24",
            opts=pulumi.ResourceOptions(
                parent=self, ignore_changes=["tags"], delete_before_replace=True
            ),
        )
        self.register_outputs({})


def _program() -> None:
    box = Box("box")
    bucket = aws.s3.Bucket("logs", opts=pulumi.ResourceOptions(retain_on_delete=True))
    east = aws.Provider("east", region="us-east-1")
    aws.ssm.Parameter(
        "token",
        type="SecureString",
        value=pulumi.Config().require_secret("token"),
        opts=pulumi.ResourceOptions(provider=east, depends_on=[bucket]),
    )
    pulumi.export("vpcId", box.inner.vpc.id)
    pulumi.export("token", pulumi.Config().require_secret("token"))
    pulumi.export("ports", [80, 443])


def _plan():
    return run(
        _program,
        RunOptions(
            project="proj",
            stack="dev",
            config={"proj:token": "hunter2"},
            secret_keys=["proj:token"],
        ),
    )


def test_records_every_resource_with_its_type_and_parent():
    plan = _plan()
    by_name = {r.name: r for r in plan}
    assert set(by_name) == {
        "proj-dev",
        "box",
        "box-inner",
        "box-inner-vpc",
        "box-inner-subnet",
        "logs",
        "east",
        "token",
    }
    assert by_name["box-inner-vpc"].type == "aws:ec2/vpc:Vpc"
    assert by_name["box-inner-vpc"].parent == by_name["box-inner"].urn
    assert by_name["box-inner"].parent == by_name["box"].urn
    assert by_name["box"].parent == by_name["proj-dev"].urn
    assert by_name["proj-dev"].parent is None
    assert by_name["box"].custom is False
    assert by_name["box-inner-vpc"].custom is True


def test_urns_follow_the_engines_qualified_type_rule():
    # The root stack's type is left out; nested components chain their types with '$'.
    plan = _plan()
    assert plan.named("box").urn == "urn:pulumi:dev::proj::test:box:Box::box"
    assert plan.named("box-inner-vpc").urn == (
        "urn:pulumi:dev::proj::test:box:Box$test:box:Inner$aws:ec2/vpc:Vpc::box-inner-vpc"
    )


def test_inputs_use_wire_names_and_plain_numbers():
    vpc = _plan().named("box-inner-vpc")
    assert vpc.inputs == {"cidrBlock": "10.1.0.0/16", "enableDnsHostnames": True}


def test_options_are_recorded():
    plan = _plan()
    assert plan.named("box-inner-vpc").protect is True
    assert plan.named("box-inner-subnet").protect is False
    assert plan.named("logs").retain_on_delete is True
    assert plan.named("box-inner-subnet").delete_before_replace is True
    assert plan.named("box-inner-subnet").ignore_changes == ("tags",)


def test_dependencies_and_providers_are_urns_of_other_records():
    plan = _plan()
    subnet = plan.named("box-inner-subnet")
    assert subnet.dependencies == (plan.named("box-inner-vpc").urn,)
    token = plan.named("token")
    assert plan.named("logs").urn in token.dependencies
    assert token.provider == plan.named("east").urn
    assert plan.named("box-inner-vpc").provider is None


def test_an_output_of_one_resource_flows_into_another():
    plan = _plan()
    vpc_id = plan.named("box-inner-subnet").inputs["vpcId"]
    assert re.fullmatch(r"vpc-0[0-9a-f]{16}", vpc_id)
    assert plan.outputs["vpcId"] == vpc_id


def test_secrets_never_reach_the_record():
    plan = _plan()
    text = json.dumps(plan.to_json())
    assert "hunter2" not in text
    assert plan.named("token").inputs["value"] == SECRET_MARKER
    assert plan.outputs["token"] == SECRET_MARKER
    assert plan.outputs["ports"] == [80, 443]


def test_records_are_ordered_parents_and_dependencies_first():
    plan = _plan()
    position = {r.urn: i for i, r in enumerate(plan)}
    for record in plan:
        for before in (record.parent, record.provider, *record.dependencies):
            if before:
                assert position[before] < position[record.urn]


def test_two_plans_of_one_program_are_identical():
    assert _plan().to_json() == _plan().to_json()


def test_runs_do_not_leak_config_into_each_other():
    seen = []

    def program() -> None:
        seen.append(pulumi.Config().get("token"))

    run(program, RunOptions(project="proj", config={"proj:token": "a"}))
    run(program, RunOptions(project="proj"))
    assert seen == ["a", None]


def test_a_failing_program_raises_with_its_own_error_as_cause():
    def program() -> None:
        raise ValueError("zones: must be 2 or 3")

    with pytest.raises(ProgramError) as info:
        run(program, RunOptions(project="proj"))
    assert isinstance(info.value.__cause__, ValueError)
    assert "zones: must be 2 or 3" in str(info.value)


def test_an_unknown_provider_function_is_named():
    def program() -> None:
        aws.ec2.get_vpc(default=True)

    with pytest.raises(ProgramError, match="aws:ec2/getVpc:getVpc"):
        run(program, RunOptions(project="proj"))


def test_provider_functions_can_be_answered_by_the_caller():
    def program() -> None:
        vpc = aws.ec2.get_vpc(default=True)
        aws.ec2.Subnet("s", vpc_id=vpc.id, cidr_block="172.31.99.0/24")

    plan = run(
        program,
        RunOptions(
            project="proj",
            invokes={
                "aws:ec2/getVpc:getVpc": lambda args: {
                    "id": "vpc-default",
                    "cidrBlock": "172.31.0.0/16",
                }
            },
        ),
    )
    assert plan.named("s").inputs["vpcId"] == "vpc-default"


def test_region_comes_from_config():
    def program() -> None:
        zones = aws.get_availability_zones()
        aws.ec2.Subnet(
            "s", vpc_id="vpc-1", cidr_block="10.0.0.0/24", availability_zone=zones.names[0]
        )

    plan = run(program, RunOptions(project="proj", config={"aws:region": "eu-west-1"}))
    assert plan.named("s").inputs["availabilityZone"] == "eu-west-1a"


def test_stack_references_read_the_outputs_given():
    def program() -> None:
        ref = pulumi.StackReference("organization/net/prod")
        aws.ec2.Subnet("s", vpc_id=ref.get_output("vpcId"), cidr_block="10.0.0.0/24")

    plan = run(program, RunOptions(project="proj", refs={"net/prod": {"vpcId": "vpc-from-ref"}}))
    assert plan.named("s").inputs["vpcId"] == "vpc-from-ref"
    reference = plan.one("pulumi:pulumi:StackReference")
    assert reference.read is True
    # What the program was told is in the plan, for readers of the plan alone.
    assert reference.outputs == {"vpcId": "vpc-from-ref"}
    assert reference.to_json()["outputs"] == {"vpcId": "vpc-from-ref"}
    assert plan.named("s").outputs == {}


def test_a_per_resource_region_gets_ids_and_arns_of_that_region():
    # pulumi-aws v7's `region` input, instead of a provider for us-east-1.
    def program() -> None:
        group = aws.cloudwatch.LogGroup("logs", name="/x", region="us-east-1")
        aws.cloudwatch.LogDeliveryDestination(
            "dest",
            region="us-east-1",
            delivery_destination_configuration={"destination_resource_arn": group.arn},
        )
        aws.cloudwatch.LogGroup("here", name="/y")

    plan = run(program, RunOptions(project="proj", config={"aws:region": "eu-west-1"}))
    destination = plan.named("dest").inputs
    assert destination["region"] == "us-east-1"
    assert destination["deliveryDestinationConfiguration"]["destinationResourceArn"] == (
        "arn:aws:logs:us-east-1:123456789012:log-group:/x"
    )
    assert plan.named("dest").provider is None


def test_a_read_resource_keeps_its_id_and_a_certificate_read_back_awaits_validation():
    seen: dict[str, str] = {}

    def program() -> None:
        cert = aws.acm.Certificate(
            "cert", domain_name="shop.example.com", validation_method="DNS", region="us-east-1"
        )
        read = aws.acm.Certificate.get("cert-status", cert.arn, region="us-east-1")
        pulumi.Output.all(cert.arn, read.arn, read.status).apply(
            lambda v: seen.update(arn=v[0], read=v[1], status=v[2])
        )

    plan = run(program, RunOptions(project="proj", config={"aws:region": "eu-west-1"}))
    assert seen["arn"].startswith("arn:aws:acm:us-east-1:")
    assert seen["read"] == seen["arn"]
    # The plan never made the validation records: ACM still waits, as on a first `pulumi up`.
    assert seen["status"] == "PENDING_VALIDATION"
    assert plan.named("cert-status").read is True


def test_a_stack_reference_without_outputs_is_reported_by_name():
    def program() -> None:
        pulumi.StackReference("organization/net/prod")

    with pytest.raises(MissingStackReference) as info:
        run(program, RunOptions(project="proj"))
    assert info.value.names == ["organization/net/prod"]


def test_a_stack_reference_is_answered_while_the_program_runs():
    # The program runs once, to the end: a run abandoned half-way to fetch the outputs
    # first left Output coroutines nobody awaited, which Python reported on stderr.
    runs: list[int] = []
    asked: list[str] = []

    def resolve(name: str) -> dict[str, Any]:
        asked.append(name)
        return {"vpcId": "vpc-resolved"}

    def program() -> None:
        runs.append(1)
        ref = pulumi.StackReference("organization/net/prod")
        aws.ec2.Subnet("s", vpc_id=ref.require_output("vpcId"), cidr_block="10.0.0.0/24")
        aws.ec2.Subnet("t", vpc_id=ref.get_output("vpcId"), cidr_block="10.0.1.0/24")

    with warnings.catch_warnings(record=True) as seen:
        warnings.simplefilter("always")
        plan = run(program, RunOptions(project="proj", resolve_ref=resolve))
        gc.collect()
    assert runs == [1]
    assert asked == ["organization/net/prod"]
    assert plan.named("s").inputs["vpcId"] == "vpc-resolved"
    assert [str(w.message) for w in seen if issubclass(w.category, RuntimeWarning)] == []


def test_what_the_resolver_raises_is_raised_as_it_is():
    class Refused(Exception):
        pass

    def resolve(name: str) -> dict[str, Any]:
        raise Refused(name)

    def program() -> None:
        pulumi.StackReference("organization/net/prod").get_output("x")

    with pytest.raises(Refused, match="organization/net/prod"):
        run(program, RunOptions(project="proj", resolve_ref=resolve))


def test_wire_values_are_summarised():
    secret = {"4dabf18193072939515e22adb298388d": "1b47061264138c4ac30d75fd1eb44270", "value": "x"}
    asset = {
        "4dabf18193072939515e22adb298388d": "c44067f5952c0a294b673a41bacd8c17",
        "text": "print(1)",
    }
    archive = {
        "4dabf18193072939515e22adb298388d": "0def7320c3a5731c473e5ecbe6d01bc7",
        "assets": {"a.py": asset},
    }
    assert from_wire({"b": [1.0, 2.5], "a": secret}) == {"a": SECRET_MARKER, "b": [1, 2.5]}
    summary = from_wire(archive)["@archive"]["a.py"]["@asset"]
    assert summary["size"] == len("print(1)")
    assert "text" not in summary


def test_a_failed_run_leaves_nothing_behind_for_the_next():
    def failing() -> None:
        vpc = aws.ec2.Vpc("v", cidr_block="10.0.0.0/16")
        for i in range(5):
            aws.ec2.Subnet(
                f"s{i}",
                vpc_id=vpc.id.apply(lambda v: {"present": v}["missing"]),
                cidr_block="10.0.0.0/24",
            )

    with pytest.raises(ProgramError):
        run(failing, RunOptions(project="proj"))
    assert len(_plan()) == 8


def test_the_engines_linear_wait_records_what_the_sdks_own_wait_does(monkeypatch):
    from pulumi.runtime import stack as pulumi_stack

    from paaskit import Rack
    from paaskit.plan import engine

    ours = run(lambda: Rack("rk"), RunOptions(project="proj")).to_json()
    monkeypatch.setattr(engine, "_wait_for_rpcs", pulumi_stack.wait_for_rpcs)
    sdks = run(lambda: Rack("rk"), RunOptions(project="proj")).to_json()
    assert ours == sdks


def _tag_subnets(args: pulumi.ResourceTransformArgs) -> pulumi.ResourceTransformResult | None:
    if args.type_ != "aws:ec2/subnet:Subnet":
        return None
    props: dict[str, Any] = dict(args.props)
    props["tags"] = {**(props.get("tags") or {}), "owner": "team-a"}
    return pulumi.ResourceTransformResult(props, args.opts)


def test_a_transform_on_a_component_reaches_every_child_as_the_engine_applies_it():
    def program() -> None:
        Box("box", pulumi.ResourceOptions(transforms=[_tag_subnets]))
        aws.ec2.Subnet("outside", vpc_id="vpc-1", cidr_block="10.9.0.0/24")

    records = run(program, RunOptions(project="proj"))
    assert records.named("box-inner-subnet").inputs["tags"] == {"owner": "team-a"}
    assert "tags" not in records.named("box-inner-vpc").inputs
    assert "tags" not in records.named("outside").inputs


def test_stack_transforms_apply_to_everything_and_may_change_options():
    def protect_all(args: pulumi.ResourceTransformArgs) -> pulumi.ResourceTransformResult:
        return pulumi.ResourceTransformResult(
            args.props,
            pulumi.ResourceOptions.merge(args.opts, pulumi.ResourceOptions(protect=True)),
        )

    def program() -> None:
        pulumi.runtime.register_resource_transform(protect_all)
        Box("box")

    records = run(program, RunOptions(project="proj"))
    assert all(r.protect for r in records if r.custom)


def test_transformed_secrets_stay_secret():
    def program() -> None:
        def add_secret(args: pulumi.ResourceTransformArgs) -> pulumi.ResourceTransformResult:
            return pulumi.ResourceTransformResult(
                {**args.props, "value": pulumi.Output.secret("hunter2")}, args.opts
            )

        aws.ssm.Parameter(
            "p",
            type="SecureString",
            value="x",
            opts=pulumi.ResourceOptions(transforms=[add_secret]),
        )

    records = run(program, RunOptions(project="proj"))
    assert records.named("p").inputs["value"] == SECRET_MARKER
    assert "hunter2" not in json.dumps(records.to_json())


def test_the_programs_warnings_are_kept_with_the_resource_they_concern():
    def program() -> None:
        box = Box("box")
        pulumi.log.warn("about the box", resource=box)
        pulumi.log.warn("about nothing in particular")
        pulumi.log.info("not a warning")

    plan = run(program, RunOptions(project="test"))
    box = plan.one("test:box:Box")
    assert sorted(plan.warnings, key=lambda w: w["message"]) == [
        {"urn": "", "message": "about nothing in particular"},
        {"urn": box.urn, "message": "about the box"},
    ]
    assert type(plan).from_json(plan.to_json()).warnings == plan.warnings
    shown = render_text(plan).split("\nWarnings:\n", 1)[1].splitlines()
    assert sorted(shown) == ["  about nothing in particular", "  about the box"]
