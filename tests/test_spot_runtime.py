"""The spot Lambda: events, configuration, packaging, and the handler and boto3 layer against moto.

(The decision is tested in tests/test_spot_decision.py; the whole handler in a model of
AWS in tests/test_spot_sim.py.)
"""

from __future__ import annotations

import ast
import json
import shutil
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import boto3
import pytest

from paaskit.spot import wiring
from paaskit.spot.aws import Clients, apply, read_group
from paaskit.spot.config import RuntimeConfig, Settings, SpotConfigError
from paaskit.spot.decision import (
    STATE_TAGS,
    TAG_FALLBACK_SINCE,
    Decision,
    Replacement,
    SpotState,
    is_spot_capacity_failure,
    state_from_tags,
    state_to_tags,
)
from paaskit.spot.events import (
    EventError,
    InterruptionWarning,
    LaunchUnsuccessful,
    RebalanceRecommendation,
    Reconcile,
    Unrecognised,
    parse_event,
    parse_time,
)
from paaskit.spot.handler import handler, is_batch, reconcile
from tests.spot_helpers import (
    MotoRack,
    emulate_partial_policy_updates,
    interruption_event,
    launch_unsuccessful_event,
    make_moto_rack,
    rebalance_event,
    scheduled_event,
)

CONFIGURED = Settings(on_demand_base=1, on_demand_percentage=0)
MINUTE = timedelta(minutes=1)
SPOT_ROOT = Path(__file__).resolve().parents[1] / "paaskit" / "spot"


# =====================================================================================
# Events and configuration
# =====================================================================================


def test_events_parse_into_their_kinds():
    assert parse_event(interruption_event("i-0123456789abcdef0")) == InterruptionWarning(
        "i-0123456789abcdef0", "terminate", parse_time("2025-06-02T12:00:00Z")
    )
    assert parse_event(rebalance_event("i-0123456789abcdef0")) == RebalanceRecommendation(
        "i-0123456789abcdef0"
    )
    launch = parse_event(launch_unsuccessful_event("rack-nodes"))
    assert isinstance(launch, LaunchUnsuccessful)
    assert launch.group_name == "rack-nodes"
    assert is_spot_capacity_failure(launch.activity)
    assert isinstance(parse_event(scheduled_event()), Reconcile)
    assert isinstance(parse_event({"action": "reconcile"}), Reconcile)
    other = parse_event({"source": "aws.s3", "detail-type": "Object Created"})
    assert other == Unrecognised("aws.s3", "Object Created")


def test_an_interruption_without_a_valid_instance_id_is_refused():
    event = interruption_event("i-0123456789abcdef0")
    event["detail"]["instance-id"] = "i-1 || ec2InstanceId == i-2"
    with pytest.raises(EventError, match="instance-id"):
        parse_event(event)


def test_configuration_comes_from_the_environment():
    config = RuntimeConfig.from_env(
        {
            "PAASKIT_CLUSTER": "rack",
            "PAASKIT_ASG": "rack-nodes",
            "PAASKIT_ON_DEMAND_BASE": "2",
            "PAASKIT_ON_DEMAND_PERCENTAGE": "10",
            "PAASKIT_SPOT_COOLDOWN_SECONDS": "600",
            "PAASKIT_REPLACE_ON_DEMAND": "false",
        }
    )
    assert (config.cluster, config.group) == ("rack", "rack-nodes")
    assert config.settings == Settings(
        on_demand_base=2,
        on_demand_percentage=10,
        cooldown=timedelta(minutes=10),
        replace_on_demand=False,
    )
    assert wiring.environment(cluster="c", group="g")["PAASKIT_FALLBACK_ON_DEMAND_PERCENTAGE"] == (
        "100"
    )


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"PAASKIT_ASG": "g"}, "PAASKIT_CLUSTER is required"),
        ({"PAASKIT_CLUSTER": "c"}, "PAASKIT_ASG is required"),
        (
            {"PAASKIT_CLUSTER": "c", "PAASKIT_ASG": "g", "PAASKIT_ON_DEMAND_PERCENTAGE": "150"},
            "PAASKIT_ON_DEMAND_PERCENTAGE=150 is out of range",
        ),
        (
            {"PAASKIT_CLUSTER": "c", "PAASKIT_ASG": "g", "PAASKIT_REPLACE_ON_DEMAND": "maybe"},
            "PAASKIT_REPLACE_ON_DEMAND='maybe' is not a boolean",
        ),
    ],
)
def test_configuration_errors_name_the_variable(env, message):
    with pytest.raises(SpotConfigError, match=message):
        RuntimeConfig.from_env(env)


def test_event_patterns_match_the_events_the_handler_understands():
    patterns = wiring.event_patterns("rack-nodes")
    samples = {
        "interruption": interruption_event("i-0123456789abcdef0"),
        "rebalance": rebalance_event("i-0123456789abcdef0"),
        "launch-unsuccessful": launch_unsuccessful_event("rack-nodes"),
    }
    for role, pattern in patterns.items():
        event = samples[role]
        assert event["source"] in pattern["source"]
        assert event["detail-type"] in pattern["detail-type"]
        for key, allowed in pattern.get("detail", {}).items():
            assert event["detail"][key] in allowed
        assert not isinstance(parse_event(event), Unrecognised)


# =====================================================================================
# The Lambda package
# =====================================================================================

ALLOWED_TOP_LEVEL = set(sys.stdlib_module_names) | {"boto3", "botocore", "paaskit"}


def test_spot_code_imports_only_the_standard_library_boto3_and_itself():
    for path in SPOT_ROOT.glob("*.py"):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for item in ast.walk(tree):
            if isinstance(item, ast.Import):
                names = [alias.name for alias in item.names]
            elif isinstance(item, ast.ImportFrom) and item.module and item.level == 0:
                names = [item.module]
            else:
                continue
            for name in names:
                assert name.split(".")[0] in ALLOWED_TOP_LEVEL, f"{path.name} imports {name}"
                if name.startswith("paaskit"):
                    assert name.startswith("paaskit.spot"), f"{path.name} imports {name}"


def test_the_lambda_zip_layout_imports_without_pulumi_or_pydantic(tmp_path):
    package = tmp_path / "paaskit"
    shutil.copytree(SPOT_ROOT, package / "spot", ignore=shutil.ignore_patterns("__pycache__"))
    (package / "__init__.py").write_text("")
    script = (
        "import sys\n"
        f"sys.path.insert(0, {str(tmp_path)!r})\n"
        "import paaskit.spot.handler, paaskit.spot.wiring\n"
        f"assert paaskit.__file__.startswith({str(tmp_path)!r}), paaskit.__file__\n"
        "print(sorted(m for m in ('pulumi', 'pydantic', 'pulumi_aws') if m in sys.modules))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=60, check=False
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"


POLICY_ARGS = {
    "partition": "aws",
    "region": "us-east-1",
    "account_id": "123456789012",
    "cluster": "rack",
    "group": "rack-nodes",
    "launch_template_arn": "arn:aws:ec2:us-east-1:123456789012:launch-template/lt-0123456789abcdef0",
    "node_role_arn": "arn:aws:iam::123456789012:role/rack-node-role",
}


def test_the_policy_is_scoped_to_one_cluster_and_one_group():
    doc = wiring.policy_document(**POLICY_ARGS)
    for statement in doc["Statement"]:
        actions = (
            statement["Action"] if isinstance(statement["Action"], list) else [statement["Action"]]
        )
        if statement["Resource"] != "*":
            assert "rack" in statement["Resource"]
        elif "Condition" not in statement:
            # Only the Describe calls, which support no resource-level permissions.
            assert all(a.split(":")[1].startswith("Describe") for a in actions)
    tags = next(s for s in doc["Statement"] if s["Action"] == "autoscaling:CreateOrUpdateTags")
    assert tags["Condition"]["ForAllValues:StringEquals"]["aws:TagKeys"] == list(STATE_TAGS)
    run = next(s for s in doc["Statement"] if s["Action"] == "ec2:RunInstances")
    assert run["Condition"] == {
        "ArnEquals": {"ec2:LaunchTemplate": POLICY_ARGS["launch_template_arn"]}
    }
    passing = next(s for s in doc["Statement"] if s["Action"] == "iam:PassRole")
    assert passing["Resource"] == POLICY_ARGS["node_role_arn"]


def test_the_environment_carries_every_setting():
    env = wiring.environment(cluster="c", group="g", fallback_grace_seconds=60)
    settings = RuntimeConfig.from_env(env).settings
    assert settings == Settings(fallback_grace=timedelta(seconds=60))
    assert env["PAASKIT_FALLBACK_ON_DEMAND_PERCENTAGE"] == "100"


# =====================================================================================
# Against moto's AWS API server
# =====================================================================================


@pytest.fixture
def rack(aws, monkeypatch) -> MotoRack:
    # Not needed here, and loading moto's AMI catalogue after every reset is slow.
    monkeypatch.setenv("MOTO_EC2_LOAD_DEFAULT_AMIS", "false")
    emulate_partial_policy_updates(monkeypatch)
    monkeypatch.setenv("PAASKIT_CLUSTER", "rack")
    monkeypatch.setenv("PAASKIT_ASG", "rack-nodes")
    monkeypatch.setenv("PAASKIT_ON_DEMAND_BASE", "1")
    monkeypatch.setenv("PAASKIT_ON_DEMAND_PERCENTAGE", "0")
    made = make_moto_rack(desired=3, base=1, percentage=0)
    made.record_calls(monkeypatch)
    return made


def granted_actions() -> set[str]:
    granted: set[str] = set()
    for statement in wiring.policy_document(**POLICY_ARGS)["Statement"]:
        actions = statement["Action"]
        granted.update([actions] if isinstance(actions, str) else actions)
    return granted


def statuses(rack: MotoRack) -> dict[str, str]:
    return {i: ci["status"] for i, ci in rack.container_instances().items()}


def test_interruption_warning_drains_that_node_and_only_it(rack):
    first, doomed, third = rack.instance_ids()
    result = handler(interruption_event(doomed))
    assert result == {"result": "draining", "instance_id": doomed}
    assert statuses(rack) == {first: "ACTIVE", doomed: "DRAINING", third: "ACTIVE"}


def test_interruption_warning_twice_is_harmless(rack):
    doomed = rack.instance_ids()[0]
    handler(interruption_event(doomed))
    # e.g. the ECS agent's own spot draining got there first, or EventBridge redelivered
    assert handler(interruption_event(doomed))["result"] == "already-draining"
    assert statuses(rack)[doomed] == "DRAINING"


def test_interruption_of_a_node_of_another_cluster_is_ignored(rack, capsys):
    rack.ecs.create_cluster(clusterName="other")
    stranger = rack.spot_instance()
    rack.register(stranger, cluster="other")
    before = statuses(rack)
    assert handler(interruption_event(stranger))["result"] == "not-in-cluster"
    assert statuses(rack) == before
    assert {ci["status"] for ci in rack.container_instances("other").values()} == {"ACTIVE"}
    logged = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert any(
        r.get("outcome") == "not-in-cluster" and r["instance_id"] == stranger for r in logged
    )


def test_rebalance_recommendation_is_only_logged(rack, capsys):
    target = rack.instance_ids()[0]
    assert handler(rebalance_event(target))["result"] == "logged"
    assert set(statuses(rack).values()) == {"ACTIVE"}
    assert "rebalance recommendation" in capsys.readouterr().out


def fall_back(rack: MotoRack) -> tuple[dict[str, Any], dict[str, Any]]:
    """A lasting spot shortage, as AWS shows it: a node gone unhealthy (its spot pool was
    reclaimed) and its replacement's spot launch failing, seen again after the grace.

    (moto launches every instance at once and never fails a launch, nor keeps
    scaling activities, so the shortage is set up mid-way and the failure comes
    with the event, which the handler adds to what DescribeScalingActivities says.)
    """
    rack.autoscaling.set_instance_health(
        InstanceId=rack.instance_ids()[0], HealthStatus="Unhealthy"
    )
    event = launch_unsuccessful_event("rack-nodes")
    first = handler(event)
    assert first["in_fallback"] is False  # one failure: the group may find spot elsewhere
    short_since = state_from_tags(rack.tags()).short_since
    assert short_since is not None
    config = RuntimeConfig.from_env()
    (activity,) = [parse_event(event).activity]  # type: ignore[union-attr]
    later = short_since + config.settings.fallback_grace
    return reconcile(Clients.create(), config, now=later, extra_activities=[activity]), event


def test_a_lasting_spot_shortage_raises_the_on_demand_share_of_the_group(rack):
    result, event = fall_back(rack)
    assert result["in_fallback"] is True
    # The whole distribution went back, so nothing fell back to AWS's defaults.
    assert rack.distribution() == {
        "OnDemandAllocationStrategy": "prioritized",
        "OnDemandBaseCapacity": 1,
        "OnDemandPercentageAboveBaseCapacity": 100,
        "SpotAllocationStrategy": "price-capacity-optimized",
    }
    (update,) = [params for name, params in rack.requests if name == "UpdateAutoScalingGroup"]
    assert set(update["MixedInstancesPolicy"]) == {"InstancesDistribution"}  # no launch template
    assert rack.tags()[TAG_FALLBACK_SINCE] != ""
    assert rack.describe()["DesiredCapacity"] == 3
    # the state is recorded before the purchase option changes (see paaskit.spot.aws)
    writes = rack.writes()
    assert writes.index("CreateOrUpdateTags") < writes.index("UpdateAutoScalingGroup")
    # the same event again (EventBridge delivers at least once) changes nothing more
    assert handler(event)["actions"] == []


def test_launch_failure_of_another_group_is_ignored(rack):
    rack.autoscaling.set_instance_health(
        InstanceId=rack.instance_ids()[0], HealthStatus="Unhealthy"
    )
    assert handler(launch_unsuccessful_event("someone-else"))["result"] == "ignored"
    assert rack.distribution()["OnDemandPercentageAboveBaseCapacity"] == 0
    assert rack.writes() == []


def test_recovery_brings_the_configured_share_back(rack):
    fall_back(rack)
    assert rack.distribution()["OnDemandPercentageAboveBaseCapacity"] == 100
    # moto keeps no scaling activities (DescribeScalingActivities is always empty), so
    # "no failure since" is the truth here; the clock is moved past the cool-down.
    config = RuntimeConfig.from_env()
    later = rack_time_after_cooldown(rack, config)
    summary = reconcile(Clients.create(), config, now=later)
    assert summary["in_fallback"] is False
    assert rack.distribution()["OnDemandPercentageAboveBaseCapacity"] == 0
    assert rack.distribution()["SpotAllocationStrategy"] == "price-capacity-optimized"
    assert rack.tags()[TAG_FALLBACK_SINCE] == ""
    assert (rack.describe()["DesiredCapacity"], len(rack.instance_ids())) == (3, 3)


def rack_time_after_cooldown(rack: MotoRack, config: RuntimeConfig):
    state = state_from_tags(rack.tags())
    assert state.last_spot_failure is not None
    assert state.fallback_since is not None
    return max(state.last_spot_failure, state.fallback_since) + config.settings.cooldown + MINUTE


def test_replacement_on_moto_launches_drains_then_removes(rack):
    # moto's group runs everything on-demand; configured is base 1 + 0%: two extra nodes.
    config = RuntimeConfig.from_env()
    for instance_id in rack.instance_ids():
        rack.run_task_on(instance_id)
    t0 = datetime.now(UTC) + timedelta(hours=1)  # after any cool-down an earlier step started

    # 1. a scheduled run: no spot trouble, so no fallback, but one extra node launched first
    first = reconcile(Clients.create(), config, now=t0)
    assert rack.distribution()["OnDemandPercentageAboveBaseCapacity"] == 0
    assert rack.describe()["DesiredCapacity"] == 4
    record = state_from_tags(rack.tags()).replacement
    assert record is not None
    assert (record.desired, record.draining_since) == (3, None)
    target = record.instance_id
    assert "launching a spot node" in " ".join(first["reasons"])

    # moto launched the extra node on-demand (it cannot launch spot through an ASG);
    # swap it for a spot instance, as the ASG would have launched, and let ECS register it.
    extra = next(i for i in rack.instance_ids() if i not in statuses(rack))
    rack.autoscaling.detach_instances(
        AutoScalingGroupName="rack-nodes", InstanceIds=[extra], ShouldDecrementDesiredCapacity=True
    )
    spot = rack.spot_instance()
    rack.autoscaling.attach_instances(AutoScalingGroupName="rack-nodes", InstanceIds=[spot])
    rack.register(spot)
    assert rack.describe()["DesiredCapacity"] == 4

    # 2. the spot node serves, with room for the old node's task: it is drained
    reconcile(Clients.create(), config, now=t0 + 3 * MINUTE)
    assert statuses(rack)[target] == "DRAINING"
    assert [s for i, s in statuses(rack).items() if i != target] == ["ACTIVE"] * 3
    assert target in rack.instance_ids()

    # 3. it still runs a task: wait
    reconcile(Clients.create(), config, now=t0 + 4 * MINUTE)
    assert target in rack.instance_ids()

    # ECS would move the service task away from a draining node; moto does not.
    task = rack.ecs.list_tasks(cluster="rack", containerInstance=statuses_arn(rack, target))
    for arn in task["taskArns"]:
        rack.ecs.stop_task(cluster="rack", task=arn)

    # 4. drained: removed, and the desired capacity is back to 3, all of it in service
    reconcile(Clients.create(), config, now=t0 + 5 * MINUTE)
    group_now = rack.describe()
    assert target not in rack.instance_ids()
    assert group_now["DesiredCapacity"] == 3
    assert sum(1 for i in group_now["Instances"] if i["LifecycleState"] == "InService") == 3
    assert state_from_tags(rack.tags()).replacement is None


def test_a_drain_that_times_out_sets_the_node_active_again_and_kills_nothing(rack):
    config = RuntimeConfig.from_env()
    target = rack.instance_ids()[1]
    rack.run_task_on(target)
    now = datetime.now(UTC) + timedelta(hours=1)
    record = Replacement(
        target, now - 20 * MINUTE, desired=2, spot=0, draining_since=now - 11 * MINUTE
    )
    rack.autoscaling.create_or_update_tags(
        Tags=[
            {
                "ResourceId": "rack-nodes",
                "ResourceType": "auto-scaling-group",
                "Key": k,
                "Value": v,
                "PropagateAtLaunch": False,
            }
            for k, v in state_to_tags(SpotState(replacement=record)).items()
        ]
    )
    rack.ecs.update_container_instances_state(
        cluster="rack", containerInstances=[statuses_arn(rack, target)], status="DRAINING"
    )
    summary = reconcile(Clients.create(), config, now=now)
    assert f"activating {target}" in summary["actions"]
    assert statuses(rack)[target] == "ACTIVE"
    assert target in rack.instance_ids()
    assert "TerminateInstanceInAutoScalingGroup" not in rack.writes()


def test_apply_never_terminates_a_node_that_runs_tasks(rack):
    """Belt and braces: even a decision asking for it (decide never does) kills no task."""
    config = RuntimeConfig.from_env()
    busy = rack.instance_ids()[0]
    rack.run_task_on(busy)
    clients = Clients.create()
    group = read_group(clients, config)
    done = apply(clients, config, group, Decision(state=group.state, terminate=(busy,)))
    assert done == []
    assert busy in rack.instance_ids()
    assert "TerminateInstanceInAutoScalingGroup" not in rack.writes()


def statuses_arn(rack: MotoRack, instance_id: str) -> str:
    return str(rack.container_instances()[instance_id]["containerInstanceArn"])


def test_the_policy_allows_every_call_the_function_makes(rack):
    """A drain, a fallback, a recovery and a whole replacement: every call is granted.

    moto does not evaluate IAM policies, so this checks the action list, not the scoping.
    """
    test_interruption_warning_drains_that_node_and_only_it(rack)
    rack.ecs.update_container_instances_state(
        cluster="rack",
        containerInstances=[
            ci["containerInstanceArn"] for ci in rack.container_instances().values()
        ],
        status="ACTIVE",
    )
    test_recovery_brings_the_configured_share_back(rack)
    rack.autoscaling.set_instance_health(InstanceId=rack.instance_ids()[0], HealthStatus="Healthy")
    test_replacement_on_moto_launches_drains_then_removes(rack)
    assert rack.calls <= granted_actions(), rack.calls - granted_actions()
    assert {
        "autoscaling:UpdateAutoScalingGroup",
        "autoscaling:SetDesiredCapacity",
        "autoscaling:SetInstanceProtection",
        "autoscaling:TerminateInstanceInAutoScalingGroup",
        "autoscaling:CreateOrUpdateTags",
        "ecs:UpdateContainerInstancesState",
    } <= rack.calls


# =====================================================================================
# Serialised through an SQS FIFO queue (moto's SQS)
# =====================================================================================


def fifo_queue(rack: MotoRack) -> tuple[Any, str]:
    """The queue as the component makes it (FIFO, content-based deduplication)."""
    sqs = boto3.client("sqs")
    url = sqs.create_queue(
        QueueName="rack-spot-events.fifo",
        Attributes={
            "FifoQueue": "true",
            "ContentBasedDeduplication": "true",
            "VisibilityTimeout": str(wiring.QUEUE_VISIBILITY_TIMEOUT_SECONDS),
        },
    )["QueueUrl"]
    return sqs, url


def send_as_eventbridge(sqs: Any, url: str, event: dict[str, Any]) -> None:
    """What an EventBridge rule with an SQS FIFO target sends: the event as the body,
    the target's message group, no deduplication id (content-based)."""
    sqs.send_message(
        QueueUrl=url,
        MessageBody=json.dumps(event),
        MessageGroupId=wiring.message_group("rack-nodes"),
    )


def as_batch(messages: list[dict[str, Any]]) -> dict[str, Any]:
    """The event a Lambda SQS event source mapping gives the function for ``messages``."""
    return {
        "Records": [
            {
                "messageId": m["MessageId"],
                "receiptHandle": m["ReceiptHandle"],
                "body": m["Body"],
                "attributes": m.get("Attributes", {}),
                "messageAttributes": {},
                "md5OfBody": m["MD5OfBody"],
                "eventSource": "aws:sqs",
                "eventSourceARN": "arn:aws:sqs:us-east-1:123456789012:rack-spot-events.fifo",
                "awsRegion": "us-east-1",
            }
            for m in messages
        ]
    }


def receive(sqs: Any, url: str) -> list[dict[str, Any]]:
    return sqs.receive_message(  # type: ignore[no-any-return]
        QueueUrl=url, MaxNumberOfMessages=wiring.BATCH_SIZE, AttributeNames=["All"]
    ).get("Messages", [])


def test_the_fifo_queue_hands_a_group_to_one_consumer_at_a_time(rack):
    """What the serialisation rests on: while a batch of the group is being handled, a
    second poller (a second concurrent invocation) gets nothing of that group."""
    sqs, url = fifo_queue(rack)
    for minute in range(3):
        send_as_eventbridge(sqs, url, scheduled_event(f"2025-06-02T12:0{minute}:00Z"))
    first = receive(sqs, url)
    assert len(first) == 3
    send_as_eventbridge(sqs, url, scheduled_event("2025-06-02T12:03:00Z"))
    assert receive(sqs, url) == []  # in flight: the group is held
    for m in first:
        sqs.delete_message(QueueUrl=url, ReceiptHandle=m["ReceiptHandle"])
    (later,) = receive(sqs, url)
    assert json.loads(later["Body"])["time"] == "2025-06-02T12:03:00Z"


def test_an_eventbridge_duplicate_is_dropped_by_the_queue(rack):
    sqs, url = fifo_queue(rack)
    event = launch_unsuccessful_event("rack-nodes", at="2025-06-02T12:00:00Z")
    send_as_eventbridge(sqs, url, event)
    send_as_eventbridge(sqs, url, event)  # at least once: the same event again
    assert len(receive(sqs, url)) == 1


def test_a_batch_makes_one_reconcile_and_a_second_delivery_changes_nothing(rack):
    sqs, url = fifo_queue(rack)
    rack.autoscaling.set_instance_health(
        InstanceId=rack.instance_ids()[0], HealthStatus="Unhealthy"
    )
    send_as_eventbridge(sqs, url, scheduled_event("2025-06-02T12:00:00Z"))
    send_as_eventbridge(sqs, url, launch_unsuccessful_event("rack-nodes"))
    send_as_eventbridge(sqs, url, launch_unsuccessful_event("someone-else"))
    sqs.send_message(QueueUrl=url, MessageBody="{not json", MessageGroupId="rack-nodes")
    batch = as_batch(receive(sqs, url))
    assert len(batch["Records"]) == 4
    assert handler(batch) == {"batchItemFailures": []}
    reads = [name for name, _ in rack.requests if name == "DescribeAutoScalingGroups"]
    assert len(reads) == 1  # one reconcile for the whole batch
    assert state_from_tags(rack.tags()).short_since is not None  # the event's failure counted
    writes = len(rack.writes())
    handler(batch)  # delivered again (a retry after a lost reply)
    assert len(rack.writes()) == writes


def test_a_failed_reconcile_reports_its_messages_for_another_delivery(rack, monkeypatch):
    sqs, url = fifo_queue(rack)
    monkeypatch.setenv("PAASKIT_ASG", "no-such-group")
    send_as_eventbridge(sqs, url, scheduled_event("2025-06-02T12:00:00Z"))
    send_as_eventbridge(sqs, url, interruption_event(rack.instance_ids()[0]))
    messages = receive(sqs, url)
    result = handler(as_batch(messages))
    tick = next(m["MessageId"] for m in messages if "Scheduled" in m["Body"])
    assert result == {"batchItemFailures": [{"itemIdentifier": tick}]}
    assert statuses(rack)[rack.instance_ids()[0]] == "DRAINING"  # the drain went through


def test_a_direct_event_is_not_taken_for_a_batch():
    assert not is_batch(scheduled_event())
    assert not is_batch({"Records": [{"eventSource": "aws:s3"}]})
    assert is_batch({"Records": []})
