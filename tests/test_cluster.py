"""SpotCluster: hardened nodes on a spot group of equivalent types, drained and rebalanced."""

from __future__ import annotations

import base64
import functools
import json
import re
import subprocess
import sys
from pathlib import Path

import botocore.session
import pytest
from pydantic import ValidationError

from paaskit.cluster import (
    AMI_PARAMETERS,
    DYNAMIC_PORTS,
    SpotCluster,
    SpotClusterArgs,
    SpotClusterSettings,
)
from paaskit.config import ConfigError
from paaskit.instance_types import instance_type
from paaskit.spot import wiring
from paaskit.testing import plan

ASG = "aws:autoscaling/group:Group"
LAUNCH_TEMPLATE = "aws:ec2/launchTemplate:LaunchTemplate"
RULE = "aws:cloudwatch/eventRule:EventRule"
TARGET = "aws:cloudwatch/eventTarget:EventTarget"
PERMISSION = "aws:lambda/permission:Permission"
FUNCTION = "aws:lambda/function:Function"
INGRESS = "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule"
EGRESS = "aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule"
OFFERINGS = "aws:ec2/getInstanceTypeOfferings:getInstanceTypeOfferings"
SSM_PARAMETER = "aws:ssm/getParameter:getParameter"

SPOT_DIR = Path(__file__).resolve().parents[1] / "paaskit" / "spot"
SUBNETS = ["subnet-0aaa", "subnet-0bbb"]


def args(**settings):
    return SpotClusterArgs(**{"vpc_id": "vpc-0123", "subnet_ids": SUBNETS, **settings})


def plan_cluster(name="rack", invokes=None, **settings):
    return plan(lambda: SpotCluster(name, args(**settings)), invokes=invokes)


@functools.cache
def default_plan():
    """The plan of a cluster with default settings, made once: tests only read it."""
    return plan_cluster()


def user_data(p):
    return base64.b64decode(p.one(LAUNCH_TEMPLATE).inputs["userData"]).decode()


def overrides(p):
    policy = p.one(ASG).inputs["mixedInstancesPolicy"]
    return [o["instanceType"] for o in policy["launchTemplate"]["overrides"]]


def role_policy(p, name="rack-spot-role-policy"):
    return json.loads(p.named(name).inputs["policy"])


def offered_except(*missing):
    """An offerings answer for a region that lacks `missing` types."""

    def answer(request):
        (instance_filter,) = request["filters"]
        names = [n for n in instance_filter["values"] if n not in missing]
        return {"id": "us-east-1", "instanceTypes": names, "locationTypes": [], "locations": []}

    return answer


# --- the launch template ----------------------------------------------------------------


def test_nodes_require_imdsv2_with_one_hop_and_have_no_public_ip_or_key():
    inputs = default_plan().one(LAUNCH_TEMPLATE).inputs
    assert inputs["metadataOptions"]["httpTokens"] == "required"
    assert inputs["metadataOptions"]["httpPutResponseHopLimit"] == 1
    assert inputs["metadataOptions"]["httpEndpoint"] == "enabled"
    (interface,) = inputs["networkInterfaces"]
    assert interface["associatePublicIpAddress"] == "false"
    assert "keyName" not in inputs
    assert "securityGroupNames" not in inputs
    assert inputs["updateDefaultVersion"] is True


def test_root_volume_is_encrypted_gp3_of_the_requested_size():
    inputs = plan_cluster(root_volume_gib=60).one(LAUNCH_TEMPLATE).inputs
    (device,) = inputs["blockDeviceMappings"]
    assert device["deviceName"] == "/dev/xvda"
    assert device["ebs"] == {
        "encrypted": "true",
        "volumeType": "gp3",
        "volumeSize": 60,
        "deleteOnTermination": "true",
    }


def test_nodes_carry_the_node_security_group_and_instance_profile():
    p = default_plan()
    template = p.one(LAUNCH_TEMPLATE)
    assert p.named("rack-node-sg").urn in template.dependencies
    assert p.named("rack-node-profile").urn in template.dependencies
    assert template.inputs["iamInstanceProfile"]["arn"].startswith("arn:aws:iam::")


def ssm_recorder(seen):
    def answer(request):
        seen.append(request["name"])
        return {"id": request["name"], "name": request["name"], "value": "ami-0feedfacecafe1234"}

    return answer


def test_ami_is_the_ecs_optimised_al2023_image_from_ssm_for_the_architecture():
    seen: list[str] = []
    p = plan_cluster(invokes={SSM_PARAMETER: ssm_recorder(seen)})
    assert seen == ["/aws/service/ecs/optimized-ami/amazon-linux-2023/recommended/image_id"]
    assert p.one(LAUNCH_TEMPLATE).inputs["imageId"] == "ami-0feedfacecafe1234"

    seen.clear()
    plan_cluster(instance_type="m7g.large", invokes={SSM_PARAMETER: ssm_recorder(seen)})
    assert seen == [AMI_PARAMETERS["arm64"]]
    assert "/arm64/" in seen[0]


def test_a_pinned_ami_is_used_without_a_lookup():
    seen: list[str] = []
    p = plan_cluster(ami_id="ami-0123456789abcdef0", invokes={SSM_PARAMETER: ssm_recorder(seen)})
    assert seen == []
    assert p.one(LAUNCH_TEMPLATE).inputs["imageId"] == "ami-0123456789abcdef0"


def test_user_data_joins_the_cluster_with_spot_draining_and_no_secrets():
    p = plan_cluster(ecs_config={"ECS_LOG_LEVEL": "debug", "ECS_RESERVED_MEMORY": "512"})
    script = user_data(p)
    assert script.startswith("#!/bin/bash\n")
    settings = dict(
        line.split("=", 1) for line in script.splitlines() if re.match(r"^ECS_[A-Z_]+=", line)
    )
    assert settings["ECS_CLUSTER"].startswith("rack-cluster-")
    assert p.named("rack-cluster").urn in p.one(LAUNCH_TEMPLATE).dependencies
    assert settings["ECS_ENABLE_SPOT_INSTANCE_DRAINING"] == "true"
    assert settings["ECS_CONTAINER_STOP_TIMEOUT"] == "30s"
    assert settings["ECS_LOG_LEVEL"] == "debug"
    assert settings["ECS_RESERVED_MEMORY"] == "512"
    assert ">> /etc/ecs/ecs.config" in script
    assert not re.search(r"(?i)password|secret_|token", script)


# --- instance types ----------------------------------------------------------------------


def test_one_named_type_becomes_several_equivalent_types_never_smaller_same_architecture():
    p = plan_cluster(instance_type="m6i.large")
    types = overrides(p)
    assert types[0] == "m6i.large"
    assert len(types) == 10
    assert len(set(types)) == len(types)
    base = instance_type("m6i.large")
    for name in types:
        candidate = instance_type(name)
        assert candidate.architecture == base.architecture
        assert candidate.vcpus >= base.vcpus
        assert candidate.memory_mib >= base.memory_mib


def test_default_is_t3_medium_on_x86_64():
    p = default_plan()
    types = overrides(p)
    assert types[0] == "t3.medium"
    assert {instance_type(t).architecture for t in types} == {"x86_64"}


def test_architecture_and_docker_platform_follow_the_types():
    seen: dict[str, tuple[str, str]] = {}

    def program():
        arm = SpotCluster("arm", args(instance_type="m7g.large"))
        x86 = SpotCluster("x86", args(vcpus=2, memory_mib=4096))
        seen.update(
            arm=(arm.architecture, arm.docker_platform),
            x86=(x86.architecture, x86.docker_platform),
        )

    plan(program)
    assert seen == {"arm": ("arm64", "linux/arm64"), "x86": ("x86_64", "linux/amd64")}


def test_types_the_region_does_not_offer_are_left_out_but_the_requested_one_stays():
    everywhere = overrides(plan_cluster(instance_type="m6i.large"))
    missing = everywhere[1:4]
    p = plan_cluster(
        instance_type="m6i.large", invokes={OFFERINGS: offered_except("m6i.large", *missing)}
    )
    types = overrides(p)
    assert types[0] == "m6i.large"
    assert not set(missing) & set(types)
    assert len(types) == 10


def test_region_offerings_are_asked_about_by_name():
    requests = []

    def answer(request):
        requests.append(request)
        return offered_except()(request)

    plan_cluster(instance_type="c6i.large", invokes={OFFERINGS: answer})
    (request,) = requests
    assert request["locationType"] == "region"
    (instance_filter,) = request["filters"]
    assert instance_filter["name"] == "instance-type"
    assert instance_filter["values"][0] == "c6i.large"
    assert len(instance_filter["values"]) <= 40


def test_a_size_chooses_types_of_at_least_that_size():
    p = plan_cluster(vcpus=4, memory_mib=16384, architecture="arm64", max_instance_types=6)
    types = overrides(p)
    assert len(types) == 6
    for name in types:
        t = instance_type(name)
        assert (t.vcpus >= 4, t.memory_mib >= 16384, t.architecture) == (True, True, "arm64")


def test_listed_types_are_used_as_given_without_a_region_lookup():
    def refuse(request):
        raise AssertionError("listed types must not be filtered")

    p = plan_cluster(instance_types=["c7i.large", "m7i.large"], invokes={OFFERINGS: refuse})
    assert overrides(p) == ["c7i.large", "m7i.large"]


# --- the group ---------------------------------------------------------------------------


def test_group_mixes_an_on_demand_base_with_spot_above_it():
    p = plan_cluster(on_demand_base=2, on_demand_percentage=25, min_size=2, max_size=8)
    group = p.one(ASG).inputs
    assert group["mixedInstancesPolicy"]["instancesDistribution"] == {
        "onDemandAllocationStrategy": "prioritized",
        "onDemandBaseCapacity": 2,
        "onDemandPercentageAboveBaseCapacity": 25,
        "spotAllocationStrategy": "price-capacity-optimized",
    }
    assert (group["minSize"], group["maxSize"]) == (2, 8)
    assert group["capacityRebalance"] is True
    assert group["vpcZoneIdentifiers"] == SUBNETS
    assert "desiredCapacity" not in group


def test_defaults_are_one_on_demand_node_and_spot_for_the_rest():
    group = default_plan().one(ASG).inputs
    distribution = group["mixedInstancesPolicy"]["instancesDistribution"]
    assert distribution["onDemandBaseCapacity"] == 1
    assert distribution["onDemandPercentageAboveBaseCapacity"] == 0
    assert group["minSize"] == 2


def test_group_leaves_desired_capacity_to_the_scalers_and_refreshes_on_new_templates():
    p = default_plan()
    group = p.one(ASG)
    assert "desiredCapacity" in group.ignore_changes
    assert group.inputs["protectFromScaleIn"] is True
    refresh = group.inputs["instanceRefresh"]
    assert refresh["strategy"] == "Rolling"
    assert refresh["preferences"]["minHealthyPercentage"] == 100
    assert refresh["preferences"]["scaleInProtectedInstances"] == "Refresh"
    spec = group.inputs["mixedInstancesPolicy"]["launchTemplate"]["launchTemplateSpecification"]
    assert spec["launchTemplateId"].startswith("lt-")
    # A version number (a new one starts a refresh), never $Latest or $Default.
    assert spec["version"].isdigit()
    assert p.one(LAUNCH_TEMPLATE).urn in group.dependencies
    # Nodes protected from scale-in would otherwise block `pulumi destroy`.
    assert group.inputs["forceDelete"] is True


def test_the_spot_handler_owns_the_on_demand_share_only_when_it_runs():
    path = "mixedInstancesPolicy.instancesDistribution.onDemandPercentageAboveBaseCapacity"
    assert path in default_plan().one(ASG).ignore_changes
    assert plan_cluster(spot_handler=False).one(ASG).ignore_changes == ("desiredCapacity",)


def test_group_tags_propagate_to_nodes_and_include_ecs_managed():
    p = plan_cluster(tags={"team": "platform"})
    tags = {t["key"]: t for t in p.one(ASG).inputs["tags"]}
    assert tags["paaskit:component"]["value"] == "rack"
    assert tags["team"]["value"] == "platform"
    assert "AmazonECSManaged" in tags
    assert all(t["propagateAtLaunch"] is True for t in tags.values())
    # The spot handler's state tags belong to it, never to Pulumi.
    assert not [k for k in tags if k.startswith("paaskit:spot:")]


# --- ECS ---------------------------------------------------------------------------------


def test_capacity_provider_manages_scaling_termination_protection_and_draining():
    p = plan_cluster(target_capacity=90)
    provider = p.one("aws:ecs/capacityProvider:CapacityProvider")
    group = provider.inputs["autoScalingGroupProvider"]
    assert group["managedTerminationProtection"] == "ENABLED"
    assert group["managedDraining"] == "ENABLED"
    assert group["managedScaling"]["status"] == "ENABLED"
    assert group["managedScaling"]["targetCapacity"] == 90
    assert group["managedScaling"]["minimumScalingStepSize"] >= 1
    assert p.one(ASG).urn in provider.dependencies
    assert group["autoScalingGroupArn"].startswith("arn:aws:autoscaling:")


def test_capacity_provider_is_the_clusters_default_strategy():
    p = default_plan()
    defaults = p.one("aws:ecs/clusterCapacityProviders:ClusterCapacityProviders")
    provider = p.one("aws:ecs/capacityProvider:CapacityProvider")
    cluster = p.one("aws:ecs/cluster:Cluster")
    assert {provider.urn, cluster.urn} <= set(defaults.dependencies)
    (strategy,) = defaults.inputs["defaultCapacityProviderStrategies"]
    assert strategy["capacityProvider"] == defaults.inputs["capacityProviders"][0]
    assert strategy["weight"] == 1


def test_capacity_provider_name_never_starts_with_a_reserved_prefix():
    p = plan_cluster(name="ecs-main")
    provider = p.one("aws:ecs/capacityProvider:CapacityProvider")
    assert provider.inputs["name"] == "cp-ecs-main"
    assert provider.delete_before_replace is True
    assert "name" not in default_plan().one("aws:ecs/capacityProvider:CapacityProvider").inputs


def test_container_insights_is_on_by_default_and_can_be_switched_off():
    def insights(p):
        (setting,) = p.one("aws:ecs/cluster:Cluster").inputs["settings"]
        return setting

    assert insights(default_plan()) == {"name": "containerInsights", "value": "enabled"}
    assert insights(plan_cluster(container_insights=False))["value"] == "disabled"


# --- network and IAM of the nodes -------------------------------------------------------


def test_nodes_admit_only_dynamic_ports_from_their_own_security_group():
    p = default_plan()
    sg = p.named("rack-node-sg")
    assert sg.inputs["vpcId"] == "vpc-0123"
    assert "ingress" not in sg.inputs
    assert "egress" not in sg.inputs
    (rule,) = p.of_type(INGRESS)
    assert (rule.inputs["fromPort"], rule.inputs["toPort"]) == DYNAMIC_PORTS == (32768, 65535)
    assert rule.inputs["ipProtocol"] == "tcp"
    assert rule.inputs["referencedSecurityGroupId"] == rule.inputs["securityGroupId"]
    assert not any(k.startswith("cidr") for k in rule.inputs)
    egress = {r.inputs.get("cidrIpv4") or r.inputs.get("cidrIpv6") for r in p.of_type(EGRESS)}
    assert egress == {"0.0.0.0/0", "::/0"}


def test_node_role_has_only_the_managed_policies_an_ecs_node_needs():
    p = default_plan()
    trust = json.loads(p.named("rack-node-role").inputs["assumeRolePolicy"])
    assert trust["Statement"][0]["Principal"] == {"Service": "ec2.amazonaws.com"}
    attached = sorted(
        r.inputs["policyArn"]
        for r in p.of_type("aws:iam/rolePolicyAttachment:RolePolicyAttachment")
    )
    assert attached == [
        "arn:aws:iam::aws:policy/AmazonSSMManagedInstanceCore",
        "arn:aws:iam::aws:policy/service-role/AmazonEC2ContainerServiceforEC2Role",
    ]
    assert not [
        r for r in p.of_type("aws:iam/rolePolicy:RolePolicy") if r.name.startswith("rack-node")
    ]


# --- the spot handler --------------------------------------------------------------------


def test_event_rules_cover_interruptions_rebalances_launch_failures_and_a_schedule():
    p = default_plan()
    rules = {r.name: r.inputs for r in p.of_type(RULE)}
    patterns = {
        name: json.loads(inputs["eventPattern"])
        for name, inputs in rules.items()
        if "eventPattern" in inputs
    }
    assert patterns["rack-spot-interruption"] == {
        "source": ["aws.ec2"],
        "detail-type": ["EC2 Spot Instance Interruption Warning"],
    }
    assert patterns["rack-spot-rebalance"]["detail-type"] == [
        "EC2 Instance Rebalance Recommendation"
    ]
    failure = patterns["rack-spot-launch-unsuccessful"]
    assert failure["source"] == ["aws.autoscaling"]
    assert failure["detail-type"] == ["EC2 Instance Launch Unsuccessful"]
    (group_name,) = failure["detail"]["AutoScalingGroupName"]
    assert group_name.startswith("rack-asg-")
    assert p.one(ASG).urn in p.named("rack-spot-launch-unsuccessful").dependencies
    assert rules["rack-spot-schedule"]["scheduleExpression"] == wiring.SCHEDULE_EXPRESSION
    assert len(rules) == 4
    assert set(wiring.DIRECT_ROLES) | set(wiring.QUEUED_ROLES) == {
        name.removeprefix("rack-spot-") for name in rules
    }


QUEUE = "aws:sqs/queue:Queue"
QUEUE_POLICY = "aws:sqs/queuePolicy:QueuePolicy"


def test_drain_rules_invoke_the_function_with_a_scoped_permission_and_a_dead_letter_queue():
    p = default_plan()
    function = p.one(FUNCTION)
    queue = p.named("rack-spot-dlq")
    for role in wiring.DIRECT_ROLES:
        rule = p.named(f"rack-spot-{role}")
        target = p.named(f"{rule.name}-target")
        assert rule.urn in target.dependencies
        assert function.urn in target.dependencies
        assert target.inputs["arn"].startswith("arn:aws:lambda:")
        assert "sqsTarget" not in target.inputs
        assert queue.urn in target.dependencies
        assert target.inputs["deadLetterConfig"]["arn"].startswith("arn:aws:sqs:")
        permission = p.named(f"{rule.name}-invoke")
        assert permission.inputs["principal"] == "events.amazonaws.com"
        assert permission.inputs["action"] == "lambda:InvokeFunction"
        assert rule.urn in permission.dependencies
        assert permission.inputs["sourceArn"].startswith("arn:aws:events:")
        assert permission.urn in target.dependencies
    assert len(p.of_type(PERMISSION)) == len(wiring.DIRECT_ROLES)
    assert len(p.of_type(RULE)) == len(p.of_type(TARGET)) == 4


def test_reconciles_go_through_a_fifo_queue_one_message_group_per_group():
    """Serialisation without reserved concurrency: SQS hands a message group to one consumer."""
    p = default_plan()
    events = p.named("rack-spot-events")
    assert events.inputs["fifoQueue"] is True
    # EventBridge sets no deduplication id: a FIFO target needs content-based deduplication.
    assert events.inputs["contentBasedDeduplication"] is True
    assert events.inputs["sqsManagedSseEnabled"] is True
    assert events.inputs["visibilityTimeoutSeconds"] >= wiring.TIMEOUT_SECONDS  # AWS requires it
    redrive = json.loads(events.inputs["redrivePolicy"])
    assert redrive["maxReceiveCount"] == wiring.QUEUE_MAX_RECEIVES
    dlq = p.named("rack-spot-events-dlq")
    assert dlq.inputs["fifoQueue"] is True  # a FIFO queue's dead-letter queue is FIFO
    assert dlq.urn in events.dependencies
    group = json.loads(p.named("rack-spot-launch-unsuccessful").inputs["eventPattern"])["detail"][
        "AutoScalingGroupName"
    ][0]
    for role in wiring.QUEUED_ROLES:
        rule = p.named(f"rack-spot-{role}")
        target = p.named(f"{rule.name}-target")
        assert events.urn in target.dependencies
        assert target.inputs["arn"].startswith("arn:aws:sqs:")
        assert target.inputs["sqsTarget"] == {"messageGroupId": wiring.message_group(group)}
        assert target.inputs["deadLetterConfig"]["arn"].startswith("arn:aws:sqs:")
        assert not [r for r in p.of_type(PERMISSION) if r.name == f"{rule.name}-invoke"]
    source = p.one("aws:lambda/eventSourceMapping:EventSourceMapping")
    assert events.urn in source.dependencies
    assert p.one(FUNCTION).urn in source.dependencies
    assert p.named("rack-spot-role-policy").urn in source.dependencies
    assert source.inputs["batchSize"] == wiring.BATCH_SIZE <= 10  # the FIFO maximum
    assert source.inputs["functionResponseTypes"] == ["ReportBatchItemFailures"]
    (statement,) = json.loads(p.named("rack-spot-events-policy").inputs["policy"])["Statement"]
    assert statement["Principal"] == {"Service": "events.amazonaws.com"}
    assert statement["Action"] == "sqs:SendMessage"
    assert len(statement["Condition"]["ArnEquals"]["aws:SourceArn"]) == len(wiring.QUEUED_ROLES)
    for role in wiring.QUEUED_ROLES:
        assert p.named(f"rack-spot-{role}").urn in p.named("rack-spot-events-policy").dependencies


def test_the_dead_letter_queue_admits_only_this_clusters_rules():
    p = default_plan()
    queue = p.named("rack-spot-dlq")
    assert queue.inputs["sqsManagedSseEnabled"] is True
    assert "fifoQueue" not in queue.inputs  # EventBridge takes only standard dead-letter queues
    policy_record = p.named("rack-spot-dlq-policy")
    (statement,) = json.loads(policy_record.inputs["policy"])["Statement"]
    assert statement["Principal"] == {"Service": "events.amazonaws.com"}
    assert statement["Action"] == "sqs:SendMessage"
    assert len(statement["Condition"]["ArnEquals"]["aws:SourceArn"]) == 4
    assert all(r.urn in policy_record.dependencies for r in p.of_type(RULE))


def test_failed_invocations_are_retried_then_sent_to_the_dead_letter_queue():
    p = default_plan()
    config = p.one("aws:lambda/functionEventInvokeConfig:FunctionEventInvokeConfig")
    assert config.inputs["maximumRetryAttempts"] == 2
    assert config.inputs["destinationConfig"]["onFailure"]["destination"].startswith("arn:aws:sqs:")
    assert p.named("rack-spot-dlq").urn in config.dependencies
    assert p.one(FUNCTION).urn in config.dependencies


def test_function_runs_the_packaged_spot_code_with_no_reserved_concurrency():
    p = plan_cluster(on_demand_base=2, on_demand_percentage=10)
    function = p.one(FUNCTION).inputs
    assert function["handler"] == "paaskit.spot.handler.handler"
    assert function["runtime"] in ("python3.12", "python3.13")
    assert function["architectures"] == ["arm64"]
    # Accounts with a concurrency quota of 10 refuse any reservation; the queue serialises.
    assert "reservedConcurrentExecutions" not in function
    assert function["timeout"] == wiring.TIMEOUT_SECONDS
    env = function["environment"]["variables"]
    assert env["PAASKIT_CLUSTER"].startswith("rack-cluster-")
    assert env["PAASKIT_ASG"].startswith("rack-asg-")
    assert (env["PAASKIT_ON_DEMAND_BASE"], env["PAASKIT_ON_DEMAND_PERCENTAGE"]) == ("2", "10")
    archive = function["code"]["@archive"]
    expected = {f"paaskit/spot/{f.name}" for f in SPOT_DIR.glob("*.py")} | {"paaskit/__init__.py"}
    assert set(archive) == expected
    assert archive["paaskit/__init__.py"]["@asset"]["size"] == 0
    for key, asset in archive.items():
        if key != "paaskit/__init__.py":
            assert Path(asset["@asset"]["path"]) == SPOT_DIR / key.rsplit("/", 1)[1]


def test_the_packaged_files_alone_import_the_handler(tmp_path):
    archive = default_plan().one(FUNCTION).inputs["code"]["@archive"]
    for key, asset in archive.items():
        target = tmp_path / key
        target.parent.mkdir(parents=True, exist_ok=True)
        source = asset["@asset"].get("path")
        target.write_text(Path(source).read_text() if source else "")
    result = subprocess.run(
        [sys.executable, "-S", "-c", "import paaskit.spot.handler as h; print(h.handler.__name__)"],
        cwd=tmp_path,
        env={"PYTHONPATH": f"{tmp_path}:{_site_packages()}"},
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "handler"


def _site_packages() -> str:
    import boto3

    return str(Path(boto3.__file__).resolve().parents[1])


def test_function_logs_to_its_own_group_with_retention():
    p = plan_cluster(log_retention_days=14)
    group = p.one("aws:cloudwatch/logGroup:LogGroup")
    assert group.inputs["retentionInDays"] == 14
    assert group.inputs["namePrefix"].startswith("/aws/lambda/rack-spot-")
    function = p.one(FUNCTION)
    assert group.urn in function.dependencies
    assert function.inputs["loggingConfig"]["logGroup"].startswith("/aws/lambda/rack-spot-")


def _operations_called_by_the_spot_code() -> set[str]:
    """IAM actions of every AWS operation the spot code names (a call or a paginator)."""
    source = "\n".join(path.read_text() for path in SPOT_DIR.glob("*.py"))
    session = botocore.session.get_session()
    called = set()
    for service in ("autoscaling", "ec2", "ecs"):
        model = session.get_service_model(service)
        for operation in model.operation_names:
            snake = re.sub(r"(?<!^)(?=[A-Z])", "_", operation).lower()
            if re.search(rf"\.{snake}\(|\"{snake}\"", source):
                called.add(f"{service}:{operation}")
    return called


CHECKED_ON_UPDATE = {"ec2:RunInstances", "ec2:CreateTags", "iam:PassRole"}
"""What AWS checks of the caller on an UpdateAutoScalingGroup of a group with a launch
template: "permissions ... are checked when an Auto Scaling group is created or updated
using a launch template" (Control Amazon EC2 launch template usage in Auto Scaling groups;
Amazon EC2 Auto Scaling API permissions: ec2:RunInstances, ec2:CreateTags with a tag
specification, iam:PassRole with an instance profile -- the node role's)."""


def test_the_function_role_allows_exactly_what_the_spot_code_calls():
    policy = role_policy(default_plan())
    granted = {
        action
        for statement in policy["Statement"]
        for action in _as_list(statement["Action"])
        if action.split(":")[0] in ("autoscaling", "ec2", "ecs", "iam")
    }
    called = _operations_called_by_the_spot_code()
    assert "autoscaling:UpdateAutoScalingGroup" in called
    assert granted == called | CHECKED_ON_UPDATE
    assert "ecs:UpdateContainerInstancesState" in granted


def test_launch_permissions_are_only_those_of_the_groups_template_and_node_role():
    p = default_plan()
    statements = role_policy(p)["Statement"]
    run = next(s for s in statements if s["Action"] == "ec2:RunInstances")
    (template_arn,) = [run["Condition"]["ArnEquals"]["ec2:LaunchTemplate"]]
    assert template_arn.startswith("arn:aws:ec2:")
    assert ":launch-template/" in template_arn
    assert p.one(LAUNCH_TEMPLATE).urn in p.named("rack-spot-role-policy").dependencies
    tag = next(s for s in statements if s["Action"] == "ec2:CreateTags")
    assert tag["Condition"] == {"StringEquals": {"ec2:CreateAction": "RunInstances"}}
    passing = next(s for s in statements if s["Action"] == "iam:PassRole")
    assert passing["Resource"].startswith("arn:aws:iam::")
    assert ":role/" in passing["Resource"]
    assert passing["Condition"] == {"StringEquals": {"iam:PassedToService": "ec2.amazonaws.com"}}
    assert p.named("rack-node-role").urn in p.named("rack-spot-role-policy").dependencies


def test_the_function_role_is_scoped_to_this_cluster_group_log_group_and_queue():
    p = default_plan()
    policy = role_policy(p)
    cluster = json.loads(p.named("rack-spot-launch-unsuccessful").inputs["eventPattern"])
    group = cluster["detail"]["AutoScalingGroupName"][0]
    cluster_name = p.one(FUNCTION).inputs["environment"]["variables"]["PAASKIT_CLUSTER"]
    for statement in policy["Statement"]:
        actions = _as_list(statement["Action"])
        assert all(":" in a and "*" not in a for a in actions)
        resources = _as_list(statement["Resource"])
        if resources == ["*"] and "Condition" in statement:
            # Launch permissions AWS checks on an update, each bound by a condition.
            assert actions in (["ec2:RunInstances"], ["ec2:CreateTags"])
            continue
        if resources == ["*"]:
            # Only the Describe calls, which support no resource-level permissions.
            assert all(a.split(":")[1].startswith("Describe") for a in actions)
            continue
        for resource in resources:
            if resource.startswith("arn:aws:autoscaling:"):
                assert resource.endswith(f":autoScalingGroupName/{group}")
            elif resource.startswith("arn:aws:ecs:"):
                assert f"/{cluster_name}" in resource
            elif resource.startswith("arn:aws:logs:"):
                assert ":log-group:/aws/lambda/rack-spot-" in resource
            elif resource.startswith("arn:aws:iam:"):
                assert "rack-node-role" in resource
            else:
                assert resource.startswith("arn:aws:sqs:")
                assert "rack-spot-dlq" in resource or "rack-spot-events" in resource
    drain = next(
        s for s in policy["Statement"] if "ecs:UpdateContainerInstancesState" in s["Action"]
    )
    assert drain["Condition"]["ArnEquals"]["ecs:cluster"].endswith(f":cluster/{cluster_name}")
    trust = json.loads(p.named("rack-spot-role").inputs["assumeRolePolicy"])
    (statement,) = trust["Statement"]
    assert statement["Principal"] == {"Service": "lambda.amazonaws.com"}
    assert statement["Condition"]["StringEquals"]["aws:SourceAccount"] == "123456789012"


def _as_list(value):
    return value if isinstance(value, list) else [value]


def test_the_spot_handler_can_be_switched_off():
    p = plan_cluster(spot_handler=False)
    for kind in (FUNCTION, RULE, TARGET, PERMISSION, QUEUE, QUEUE_POLICY):
        assert not p.of_type(kind)
    assert len(p.of_type("aws:iam/role:Role")) == 1


# --- conventions -------------------------------------------------------------------------


def test_every_child_is_parented_named_and_tagged():
    p = plan_cluster(tags={"team": "platform"})
    component = p.one("paaskit:cluster:SpotCluster")
    for record in p:
        if not record.custom:
            continue
        assert record.parent == component.urn
        assert record.name.startswith("rack-")
        if "tags" in record.inputs and isinstance(record.inputs["tags"], dict):
            assert record.inputs["tags"]["paaskit:component"] == "rack"
            assert record.inputs["tags"]["team"] == "platform"


def test_a_transform_changes_a_child_before_it_is_created():
    def detailed_monitoring(kwargs, opts):
        kwargs["monitoring"] = {"enabled": True}

    p = plan_cluster(transform={"launch_template": detailed_monitoring})
    assert p.one(LAUNCH_TEMPLATE).inputs["monitoring"] == {"enabled": True}


def test_an_unknown_transform_kind_is_an_error():
    with pytest.raises(ConfigError, match=r"transform\.lambda: no such child of SpotCluster"):
        SpotCluster("x", args(transform={"lambda": lambda kwargs, opts: None}))


def test_a_racks_settings_become_args_keeping_the_one_way_of_choosing_types():
    def hook(kwargs, opts):
        kwargs["description"] = "changed"

    settings = SpotClusterSettings(
        instance_types=["c7g.large", "m7g.large"], max_size=4, transform={"launch_template": hook}
    ).model_copy(update={"tags": {"paaskit:rack": "main"}})
    made = SpotClusterArgs.from_settings(settings, vpc_id="vpc-9", subnet_ids=SUBNETS)
    assert made.instance_types == ["c7g.large", "m7g.large"]
    assert (made.max_size, made.vpc_id, made.subnet_ids) == (4, "vpc-9", SUBNETS)
    assert made.tags == {"paaskit:rack": "main"}
    assert made.transform == {"launch_template": hook}
    assert made.chosen_architecture == "arm64"
    defaults = SpotClusterArgs.from_settings(
        SpotClusterSettings(), vpc_id="vpc-9", subnet_ids=SUBNETS
    )
    assert defaults.choose_instance_types()[0] == "t3.medium"
    with pytest.raises(ValidationError, match="subnet_ids"):
        SpotClusterArgs.from_settings(SpotClusterSettings(), vpc_id="vpc-9", subnet_ids=[])


def test_every_setting_is_documented():
    for model in (SpotClusterSettings, SpotClusterArgs):
        for field, info in model.model_fields.items():
            assert info.description, f"{model.__name__}.{field} has no docstring"


@pytest.mark.parametrize(
    ("settings", "message"),
    [
        ({"subnet_ids": []}, "subnet_ids"),
        ({"on_demand_base": 5, "max_size": 3}, "on_demand_base: 5 is larger than max_size"),
        ({"min_size": 4, "max_size": 3}, "min_size: 4 is larger than max_size"),
        ({"instance_type": "m6i.larg"}, "instance_type.*unknown EC2 instance type 'm6i.larg'"),
        ({"instance_type": "p4d.24xlarge"}, "instance_type.*accelerators"),
        ({"instance_types": ["m6i.large", "m7g.large"]}, "instance_types.*one CPU architecture"),
        ({"instance_types": ["m6i.large", "nope.large"]}, "instance_types.*unknown"),
        ({"instance_types": []}, "instance_types.*empty"),
        ({"instance_type": "m6i.large", "vcpus": 2, "memory_mib": 8192}, "instance_type: give one"),
        (
            {"instance_type": "m6i.large", "instance_types": ["m6i.large"]},
            "instance_type: give one",
        ),
        ({"vcpus": 2}, "memory_mib: a size needs both"),
        ({"architecture": "arm64"}, "architecture: only chooses among sizes"),
        ({"vcpus": 512, "memory_mib": 1024}, "vcpus"),
        ({"vcpus": 1, "memory_mib": 1024 * 1024}, "vcpus: no current-generation"),
        ({"on_demand_percentage": 101}, "on_demand_percentage"),
        ({"root_volume_gib": 8}, "root_volume_gib"),
        ({"log_retention_days": 10}, "log_retention_days"),
        ({"ami_id": "ubuntu"}, "ami_id"),
        ({"ecs_config": {"ECS_CLUSTER": "other"}}, "ECS_CLUSTER: set by the component"),
        ({"ecs_config": {"ecs_log_level": "debug"}}, "ECS_UPPER_CASE"),
        ({"ecs_config": {"ECS_LOG_LEVEL": "debug\nrm -rf /"}}, "one line"),
        ({"max_instance_types": 41}, "max_instance_types"),
        ({"min_sise": 2}, "min_sise"),
    ],
)
def test_bad_settings_fail_naming_the_key(settings, message):
    with pytest.raises(ValidationError, match="(?s)" + message):
        args(**settings)


def test_vpc_and_subnets_are_required():
    with pytest.raises(ValidationError, match=r"(?s)vpc_id.*subnet_ids"):
        SpotClusterArgs()  # type: ignore[call-arg]


# --- ECS's service-linked role --------------------------------------------------------


def _get_role(error: str | None):
    from paaskit.testing import InvokeFailed

    def answer(args):
        assert args["name"] == "AWSServiceRoleForECS"
        if error is not None:
            raise InvokeFailed(error)
        return {
            "id": args["name"],
            "name": args["name"],
            "arn": "arn:aws:iam::123456789012:role/aws-service-role/ecs.amazonaws.com/AWSServiceRoleForECS",
        }

    return {"aws:iam/getRole:getRole": answer}


def test_an_account_without_ecs_service_linked_role_is_told_the_one_time_step():
    # What the provider reports for a role that does not exist (IAM's NoSuchEntity).
    missing = (
        "reading IAM Role (AWSServiceRoleForECS): operation error IAM: GetRole, https "
        "response error StatusCode: 404, NoSuchEntity: The role with name "
        "AWSServiceRoleForECS cannot be found."
    )
    with pytest.raises(Exception, match="no ECS service-linked role") as failed:
        plan_cluster(invokes=_get_role(missing))
    assert isinstance(failed.value.__cause__, ConfigError)
    assert "aws iam create-service-linked-role --aws-service-name ecs.amazonaws.com" in str(
        failed.value
    )


def test_an_account_with_the_role_plans_and_makes_no_role_of_its_own():
    records = plan_cluster(invokes=_get_role(None))
    assert not records.of_type("aws:iam/serviceLinkedRole:ServiceLinkedRole")
    assert records.of_type("aws:ecs/capacityProvider:CapacityProvider")


def test_a_lookup_the_deployer_may_not_make_does_not_stop_the_deploy():
    denied = "reading IAM Role (AWSServiceRoleForECS): AccessDenied: not authorized to perform: iam:GetRole"
    records = plan_cluster(invokes=_get_role(denied))
    assert records.of_type("aws:ecs/capacityProvider:CapacityProvider")
