"""App: every manifest feature maps to the resources it should register."""

from __future__ import annotations

import io
import json
import textwrap
import zipfile
from pathlib import Path
from typing import Any

import pytest

from paaskit.app import App, AppArgs
from paaskit.config import ConfigError
from paaskit.manifest import ManifestError, parse_manifest
from paaskit.plan import Plan
from paaskit.rack import EdgeInfo, RackInfo, SharedDatabase
from paaskit.testing import plan

ACCOUNT = "123456789012"
CLUSTER_ARN = f"arn:aws:ecs:us-east-1:{ACCOUNT}:cluster/rack-cluster-1a2b3c4"
EDGE = EdgeInfo(
    listener_arn=f"arn:aws:elasticloadbalancing:us-east-1:{ACCOUNT}:listener/app/rack-ilb/1/2",
    load_balancer_arn_suffix="app/rack-ilb/0123456789abcdef",
    origin_domain_name="internal-rack-ilb-1234567890.us-east-1.elb.amazonaws.com",
    vpc_origin_id="vo_ABCDEFGHIJKLMNOPQRSTUV",
    origin_access_control_id="E2QWRUHAPOMQZL",
    response_headers_policy_id="67f7725c-6f97-4210-82d7-5512b31e9d03",
    log_destination_arn=f"arn:aws:logs:us-east-1:{ACCOUNT}:delivery-destination:rack-edge-logs",
    certificate_arn=f"arn:aws:acm:us-east-1:{ACCOUNT}:certificate/00000000-0000-4000-8000-000000000001",
    zone_name="example.com",
    zone_id="Z0123456789ABCDEFGHIJ",
    registry_function_name="rack-edge-registry-1a2b3c4",
    price_class="PriceClass_100",
    web_acl_id="",
    origin_read_timeout=30,
    static_version_days=30,
    origin_header_name="X-Origin-Verify",
    origin_secret="origin-secret-value",
)

RACK = RackInfo(
    name="rack",
    vpc_id="vpc-0123456789abcdef0",
    private_subnet_ids=["subnet-0aaaaaaaaaaaaaaa1", "subnet-0aaaaaaaaaaaaaaa2"],
    cluster_name="rack-cluster-1a2b3c4",
    cluster_arn=CLUSTER_ARN,
    capacity_provider="rack-cluster-cp",
    docker_platform="linux/arm64",
    node_security_group_id="sg-0nodes00000000000",
    domain="apps.example.com",
    log_retention_days=30,
    edge=EDGE,
)

MANIFEST = """
environment:
  - SECRET_KEY
  - DEBUG=false
resources:
  database:
    type: postgres
services:
  web:
    build: .
    port: 8000
    health:
      path: /health
      interval: 10
      grace: 30
    drain: 15
    sticky: true
    scale:
      count: 2-6
      targets:
        cpu: 60
        requests: 500
    resources:
      - database
    release: python manage.py migrate
    static: static
    policies:
      - arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess
  worker:
    build: .
    command: python worker.py
    environment:
      - QUEUE=default
  agent:
    image: public.ecr.aws/datadog/agent:7
    agent: true
  scheduler:
    image: ghcr.io/example/beat:1.2
    singleton: true
timers:
  cleanup:
    schedule: "0 3 * * *"
    command: python cleanup.py
    service: worker
"""


def make_app(root: Path, manifest: str = MANIFEST, *, dockerfile: str | None = None) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    (root / "paaskit.yml").write_text(textwrap.dedent(manifest))
    (root / "requirements.txt").write_text("django==5.2\ngunicorn==23.0.0\n")
    (root / "Procfile").write_text("web: gunicorn shop.wsgi --bind 0.0.0.0:$PORT\n")
    (root / "manage.py").write_text("print('manage')\n")
    static = root / "static"
    static.mkdir(exist_ok=True)
    (static / "app.3f9a1c2e.css").write_text("body{}")
    (static / "robots.txt").write_text("User-agent: *\n")
    if dockerfile is not None:
        (root / "Dockerfile").write_text(dockerfile)
    return root


def plan_app(
    root: Path, *, rack: RackInfo = RACK, environment=None, name: str = "shop", **settings
) -> Plan:
    from paaskit.manifest import load_manifest

    env = {"SECRET_KEY": "s3cr3t-value"} if environment is None else environment
    return plan(
        lambda: App(
            name, AppArgs(manifest=load_manifest(root), rack=rack, environment=env, **settings)
        )
    )


@pytest.fixture(scope="module")
def shop(tmp_path_factory) -> Plan:
    return plan_app(make_app(tmp_path_factory.mktemp("shop")))


def container(records: Plan, service: str) -> Any:
    (definition,) = json.loads(records.named(f"shop-{service}-task").inputs["containerDefinitions"])
    return definition


def policy(records: Plan, name: str) -> Any:
    return json.loads(records.named(name).inputs["policy"])["Statement"]


# --- images -------------------------------------------------------------------------


def test_images_are_built_for_the_nodes_architecture_and_pushed_to_the_apps_repository(shop):
    image = shop.named("shop-web-image")
    assert image.type == "docker:index/image:Image"
    assert image.inputs["build"]["platform"] == "linux/arm64"
    repository = shop.one("aws:ecr/repository:Repository")
    assert repository.urn in image.dependencies
    assert image.inputs["registry"]["password"] == "[secret]"
    assert image.inputs["imageName"].startswith(f"{ACCOUNT}.dkr.ecr.us-east-1.amazonaws.com/")
    assert image.inputs["imageName"].split(":")[-1].startswith("web.")


def test_the_task_runs_the_image_by_digest(shop):
    assert "@sha256:" in container(shop, "web")["image"]


def test_a_python_app_without_a_dockerfile_gets_a_generated_one(shop):
    dockerfile = Path(shop.named("shop-web-image").inputs["build"]["dockerfile"])
    text = dockerfile.read_text()
    assert "requirements.txt" in text
    assert "USER" in text
    assert dockerfile.parent != Path(shop.named("shop-web-image").inputs["build"]["context"])


def test_an_apps_own_dockerfile_is_used(tmp_path):
    root = make_app(
        tmp_path / "app",
        dockerfile='FROM python:3.12-slim\nCOPY . /app\nCMD ["python", "/app/run.py"]\n',
    )
    records = plan_app(root)
    build = records.named("shop-web-image").inputs["build"]
    # Relative to the program's directory (here, the tests' own), where pulumi-docker reads them.
    assert (Path.cwd() / build["dockerfile"]).resolve() == (root / "Dockerfile").resolve()
    assert (Path.cwd() / build["context"]).resolve() == root.resolve()
    assert not Path(build["context"]).is_absolute()


def test_the_image_tag_names_the_content(tmp_path):
    root = make_app(tmp_path / "app")
    first = plan_app(root).named("shop-web-image").inputs["imageName"]
    assert plan_app(root).named("shop-web-image").inputs["imageName"] == first
    (root / "manage.py").write_text("print('changed')\n")
    assert plan_app(root).named("shop-web-image").inputs["imageName"] != first


def test_the_repository_scans_on_push_and_keeps_each_services_images_apart(shop):
    repository = shop.one("aws:ecr/repository:Repository")
    assert repository.inputs["imageScanningConfiguration"] == {"scanOnPush": True}
    assert repository.inputs["imageTagMutability"] == "MUTABLE"
    rules = json.loads(shop.one("aws:ecr/lifecyclePolicy:LifecyclePolicy").inputs["policy"])[
        "rules"
    ]
    assert [r["selection"] for r in rules] == [
        {
            "tagStatus": "tagged",
            "tagPrefixList": [f"{service}."],
            "countType": "imageCountMoreThan",
            "countNumber": 20,
        }
        for service in ("web", "worker")
    ]


def test_prebuilt_images_are_used_as_given(shop):
    assert container(shop, "agent")["image"] == "public.ecr.aws/datadog/agent:7"
    assert not any(r.name == "shop-agent-image" for r in shop)


# --- task definitions ----------------------------------------------------------------


def test_tasks_use_bridge_networking_on_ec2_with_separate_task_and_execution_roles(shop):
    task = shop.named("shop-web-task")
    assert task.inputs["networkMode"] == "bridge"
    assert task.inputs["requiresCompatibilities"] == ["EC2"]
    assert shop.named("shop-execution-role").urn in task.dependencies
    assert shop.named("shop-web-task-role").urn in task.dependencies
    assert task.inputs["executionRoleArn"] != task.inputs["taskRoleArn"]


def test_containers_log_to_the_apps_log_group_with_retention(shop):
    options = container(shop, "web")["logConfiguration"]
    assert options["logDriver"] == "awslogs"
    assert options["options"]["awslogs-group"] == "/paaskit/rack/shop"
    assert options["options"]["awslogs-stream-prefix"] == "web"
    assert shop.named("shop-logs").inputs["retentionInDays"] == 30


def test_containers_are_unprivileged_with_the_manifests_sizes_ports_and_grace(shop):
    web = container(shop, "web")
    assert web["privileged"] is False
    assert (web["cpu"], web["memory"]) == (256, 512)
    assert web["portMappings"] == [{"containerPort": 8000, "hostPort": 0, "protocol": "tcp"}]
    assert web["stopTimeout"] == 30
    assert web["linuxParameters"] == {"initProcessEnabled": True}


def test_defaults_are_plain_environment_and_required_settings_are_secrets(shop):
    web = container(shop, "web")
    env = {e["name"]: e["value"] for e in web["environment"]}
    assert env["DEBUG"] == "false"
    assert env["PORT"] == "8000"
    assert "SECRET_KEY" not in env
    secrets = {s["name"]: s["valueFrom"] for s in web["secrets"]}
    parameter = shop.named("shop-env-secret-key")
    assert parameter.inputs["type"] == "SecureString"
    assert parameter.inputs["value"] == "[secret]"
    assert secrets["SECRET_KEY"].startswith(f"arn:aws:ssm:us-east-1:{ACCOUNT}:parameter/")
    assert "s3cr3t-value" not in json.dumps(shop.to_json())


def test_a_service_gets_its_own_variables_and_the_apps(shop):
    env = {e["name"]: e["value"] for e in container(shop, "worker")["environment"]}
    assert env["QUEUE"] == "default"
    assert env["DEBUG"] == "false"


def test_a_linked_database_reaches_the_task_without_its_password(shop):
    web = container(shop, "web")
    env = {e["name"]: e["value"] for e in web["environment"]}
    assert env["DATABASE_NAME"] == "app"
    assert env["DATABASE_PORT"] == "5432"
    assert env["PGSSLMODE"] == "require"
    assert env["DATABASE_HOST"].endswith(".rds.amazonaws.com")
    secrets = {s["name"]: s["valueFrom"] for s in web["secrets"]}
    assert secrets["DATABASE_PASS"].endswith(":password::")
    assert "DATABASE_URL" not in env
    assert "DATABASE_PASS" not in env


def test_no_container_overrides_its_images_entry_point(shop):
    for service in ("web", "worker", "agent", "scheduler"):
        assert "entryPoint" not in container(shop, service)
    # web has no `command`: its image's CMD (the Procfile's web process) runs.
    assert "command" not in container(shop, "web")


def test_database_url_comes_from_the_link_secret(shop):
    secrets = {s["name"]: s["valueFrom"] for s in container(shop, "web")["secrets"]}
    link = shop.named("shop-database-url")
    assert link.type == "aws:secretsmanager/secret:Secret"
    assert "secretString" not in link.inputs
    arn = secrets["DATABASE_URL"].removesuffix(":url::")
    assert arn.startswith(f"arn:aws:secretsmanager:us-east-1:{ACCOUNT}:secret:shop-database-url")
    assert secrets["DATABASE_PASS"] == f"{arn}:password::"
    assert secrets["PGPASSWORD"] == f"{arn}:password::"
    assert not shop.of_type("aws:secretsmanager/secretVersion:SecretVersion")


def test_a_service_without_links_keeps_its_command(shop):
    worker = container(shop, "worker")
    assert "entryPoint" not in worker
    assert worker["command"] == ["python", "worker.py"]


def test_each_app_gets_its_own_database_open_to_the_rack_nodes_only(shop):
    db = shop.one("aws:rds/instance:Instance")
    assert db.protect is True
    rule = next(
        r
        for r in shop.of_type("aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule")
        if r.inputs.get("fromPort") == 5432
    )
    assert rule.inputs["referencedSecurityGroupId"] == "sg-0nodes00000000000"


def test_a_shared_database_comes_from_the_rack(tmp_path):
    manifest = MANIFEST.replace(
        "    type: postgres\n", "    type: postgres\n    options:\n      shared: true\n"
    )
    shared = SharedDatabase(
        host="rack-db.c0.us-east-1.rds.amazonaws.com",
        port=5432,
        name="app",
        username="app",
        secret_arn=f"arn:aws:secretsmanager:us-east-1:{ACCOUNT}:secret:rds!db-1-abcdef",
        security_group_id="sg-0db",
    )
    from dataclasses import replace

    records = plan_app(make_app(tmp_path / "app", manifest), rack=replace(RACK, database=shared))
    assert not records.of_type("aws:rds/instance:Instance")
    (web,) = json.loads(records.named("shop-web-task").inputs["containerDefinitions"])
    env = {e["name"]: e["value"] for e in web["environment"]}
    assert env["DATABASE_HOST"] == "rack-db.c0.us-east-1.rds.amazonaws.com"
    secrets = {s["name"]: s["valueFrom"] for s in web["secrets"]}
    # Through the app's link secret, which the runner writes from the rack's.
    assert secrets["DATABASE_PASS"].endswith(":password::")
    assert str(shared.secret_arn) not in json.dumps(web)
    link = json.loads(records.named("shop-database-link").inputs["input"])
    assert link["sourceSecret"] == shared.secret_arn
    assert link["host"] == "rack-db.c0.us-east-1.rds.amazonaws.com"


def test_the_execution_role_may_pull_log_and_read_only_this_apps_things(shop):
    statements = policy(shop, "shop-execution-policy")
    by_action = {tuple(s["Action"]): s["Resource"] for s in statements}
    assert by_action[("ecr:GetAuthorizationToken",)] == "*"
    (repository_arn,) = by_action[
        ("ecr:BatchCheckLayerAvailability", "ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer")
    ]
    assert repository_arn.startswith(f"arn:aws:ecr:us-east-1:{ACCOUNT}:repository/shop-images-")
    assert by_action[("logs:CreateLogStream", "logs:PutLogEvents")] == [
        f"arn:aws:logs:us-east-1:{ACCOUNT}:log-group:/paaskit/rack/shop:*"
    ]
    (parameters,) = [r for a, r in by_action.items() if a == ("ssm:GetParameters",)]
    assert len(parameters) == 1
    (secrets,) = [r for a, r in by_action.items() if a == ("secretsmanager:GetSecretValue",)]
    assert all(s.startswith(f"arn:aws:secretsmanager:us-east-1:{ACCOUNT}:secret:") for s in secrets)
    assert not any("*" in a for s in statements for a in s["Action"])


def test_task_roles_carry_the_manifests_policies_only(shop):
    (attachment,) = [
        r
        for r in shop.of_type("aws:iam/rolePolicyAttachment:RolePolicyAttachment")
        if r.parent == shop.one("paaskit:app:App").urn
    ]
    assert attachment.inputs["policyArn"] == "arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess"
    assert shop.named("shop-web-task-role").urn in attachment.dependencies
    trust = json.loads(shop.named("shop-web-task-role").inputs["assumeRolePolicy"])["Statement"][0]
    assert trust["Principal"] == {"Service": "ecs-tasks.amazonaws.com"}
    assert trust["Condition"] == {"StringEquals": {"aws:SourceAccount": ACCOUNT}}


# --- services ---------------------------------------------------------------------


def test_services_roll_back_bad_deploys_and_let_nodes_drain(shop):
    service = shop.named("shop-web")
    assert service.inputs["deploymentCircuitBreaker"] == {"enable": True, "rollback": True}
    assert service.inputs["deploymentMinimumHealthyPercent"] == 50
    assert service.inputs["deploymentMaximumPercent"] == 200
    assert service.inputs["waitForSteadyState"] is True


def test_services_spread_across_zones_then_nodes_on_the_racks_capacity_provider(shop):
    service = shop.named("shop-web")
    assert service.inputs["orderedPlacementStrategies"] == [
        {"field": "attribute:ecs.availability-zone", "type": "spread"},
        {"field": "instanceId", "type": "spread"},
    ]
    assert service.inputs["capacityProviderStrategies"] == [
        {"base": 0, "capacityProvider": "rack-cluster-cp", "weight": 1}
    ]
    assert service.inputs["cluster"] == CLUSTER_ARN


def test_web_services_sit_behind_the_load_balancer_with_a_health_check_grace(shop):
    service = shop.named("shop-web")
    (balancer,) = service.inputs["loadBalancers"]
    assert balancer["containerName"] == "web"
    assert balancer["containerPort"] == 8000
    assert service.inputs["healthCheckGracePeriodSeconds"] == 30


def test_an_autoscaled_service_starts_at_its_minimum_and_leaves_the_count_to_the_scalers(shop):
    service = shop.named("shop-web")
    assert service.inputs["desiredCount"] == 2
    assert "desiredCount" in service.ignore_changes
    assert shop.named("shop-worker").inputs["desiredCount"] == 1
    assert "desiredCount" not in shop.named("shop-worker").ignore_changes


def test_an_agent_runs_once_per_node(shop):
    agent = shop.named("shop-agent")
    assert agent.inputs["schedulingStrategy"] == "DAEMON"
    assert agent.inputs["launchType"] == "EC2"
    assert "capacityProviderStrategies" not in agent.inputs
    assert "desiredCount" not in agent.inputs


def test_a_singleton_never_overlaps_itself(shop):
    singleton = shop.named("shop-scheduler")
    assert singleton.inputs["desiredCount"] == 1
    assert singleton.inputs["deploymentMaximumPercent"] == 100
    assert singleton.inputs["deploymentMinimumHealthyPercent"] == 0


def test_the_target_group_checks_health_and_drains_as_the_manifest_says(shop):
    group = shop.named("shop-web-tg")
    check = group.inputs["healthCheck"]
    assert (check["path"], check["interval"], check["port"]) == ("/health", 10, "traffic-port")
    assert check["timeout"] < check["interval"]
    assert group.inputs["deregistrationDelay"] == 15
    assert group.inputs["stickiness"]["enabled"] is True
    assert group.inputs["targetType"] == "instance"
    assert group.inputs["vpcId"] == RACK.vpc_id


def test_only_web_services_get_a_target_group_and_a_route(shop):
    assert [r.name for r in shop.of_type("aws:lb/targetGroup:TargetGroup")] == ["shop-web-tg"]
    assert [r.name for r in shop.of_type("aws:lb/listenerRule:ListenerRule")] == ["shop-web-route"]


def test_autoscaling_tracks_cpu_and_requests_per_target(shop):
    target = shop.named("shop-web-scaling")
    assert (target.inputs["minCapacity"], target.inputs["maxCapacity"]) == (2, 6)
    cpu = shop.named("shop-web-scale-on-cpu").inputs["targetTrackingScalingPolicyConfiguration"]
    assert cpu["targetValue"] == 60
    assert (
        cpu["predefinedMetricSpecification"]["predefinedMetricType"]
        == "ECSServiceAverageCPUUtilization"
    )
    requests = shop.named("shop-web-scale-on-requests").inputs[
        "targetTrackingScalingPolicyConfiguration"
    ]
    spec = requests["predefinedMetricSpecification"]
    assert spec["predefinedMetricType"] == "ALBRequestCountPerTarget"
    # The internal load balancer's requests per target (the rack's edge).
    assert spec["resourceLabel"].startswith("app/rack-ilb/0123456789abcdef/targetgroup/")


# --- release -----------------------------------------------------------------------


def test_the_release_runs_the_new_task_definition_before_services_move(shop):
    invocation = shop.named("shop-web-release")
    event = json.loads(invocation.inputs["input"])
    assert event["command"] == ["python", "manage.py", "migrate"]
    assert event["container"] == "web"
    assert event["cluster"] == CLUSTER_ARN
    assert event["capacityProvider"] == "rack-cluster-cp"
    task_definition = shop.named("shop-web-task")
    assert task_definition.urn in invocation.dependencies
    assert invocation.inputs["triggers"]["taskDefinition"] == event["taskDefinition"]
    for service in ("web", "worker", "agent", "scheduler"):
        assert invocation.urn in shop.named(f"shop-{service}").dependencies


def test_the_release_function_is_packaged_from_paaskit_itself(shop):
    function = shop.named("shop-release")
    assert function.inputs["handler"] == "paaskit.release.handler.handler"
    assert function.inputs["timeout"] == 900
    archive = function.inputs["code"]["@archive"]
    assert set(archive) >= {"paaskit/__init__.py", "paaskit/release/handler.py"}
    assert archive["paaskit/__init__.py"]["@asset"]["size"] == 0
    assert shop.named("shop-release-logs").inputs["retentionInDays"] == 30


def test_the_release_role_runs_only_this_apps_tasks_on_this_cluster(shop):
    statements = policy(shop, "shop-release-policy")
    run = next(s for s in statements if s["Action"] == ["ecs:RunTask"])
    assert run["Condition"] == {"ArnEquals": {"ecs:cluster": CLUSTER_ARN}}
    assert all(
        r.startswith(f"arn:aws:ecs:us-east-1:{ACCOUNT}:task-definition/") and r.endswith(":*")
        for r in run["Resource"]
    )
    passrole = next(s for s in statements if s["Action"] == ["iam:PassRole"])
    assert passrole["Condition"] == {
        "StringLike": {"iam:PassedToService": "ecs-tasks.amazonaws.com"}
    }
    assert all(":role/" in r for r in passrole["Resource"])
    describe = next(s for s in statements if "ecs:DescribeTasks" in s["Action"])
    assert describe["Resource"] == [f"arn:aws:ecs:us-east-1:{ACCOUNT}:task/rack-cluster-1a2b3c4/*"]


# --- static files and timers -------------------------------------------------------


def test_timers_run_their_command_as_a_task_of_their_service(shop):
    schedule = shop.named("shop-timer-cleanup")
    assert schedule.inputs["scheduleExpression"] == "cron(0 3 * * ? *)"
    assert schedule.inputs["scheduleExpressionTimezone"] == "UTC"
    target = schedule.inputs["target"]
    assert target["arn"] == CLUSTER_ARN
    assert json.loads(target["input"]) == {
        "containerOverrides": [{"command": ["python", "cleanup.py"], "name": "worker"}]
    }
    assert shop.named("shop-worker-task").urn in schedule.dependencies
    statements = policy(shop, "shop-timer-policy")
    assert next(s for s in statements if s["Action"] == ["ecs:RunTask"])["Condition"] == {
        "ArnEquals": {"ecs:cluster": CLUSTER_ARN}
    }
    trust = json.loads(shop.named("shop-timer-role").inputs["assumeRolePolicy"])["Statement"][0]
    assert trust["Principal"] == {"Service": "scheduler.amazonaws.com"}


# --- day-2 operations: exec, old revisions, release records -------------------------


def test_services_start_their_tasks_with_ecs_exec_and_task_roles_may_open_its_channels(shop):
    for service in ("web", "worker", "agent", "scheduler"):
        assert shop.named(f"shop-{service}").inputs["enableExecuteCommand"] is True
        exec_policy = shop.named(f"shop-{service}-exec-policy")
        role = shop.named(f"shop-{service}-task-role")
        assert role.urn in exec_policy.dependencies
        (statement,) = json.loads(exec_policy.inputs["policy"])["Statement"]
        assert statement == {
            "Effect": "Allow",
            "Action": [
                "ssmmessages:CreateControlChannel",
                "ssmmessages:CreateDataChannel",
                "ssmmessages:OpenControlChannel",
                "ssmmessages:OpenDataChannel",
            ],
            "Resource": "*",
        }


def test_the_exec_statement_raises_no_policy_finding(shop):
    # ssmmessages has no resource-level permissions: "*" is what AWS allows (PK-IAM-005).
    from paaskit.policy import evaluate

    findings = [
        f for f in evaluate(shop).findings if f.urn.endswith("-exec-policy") and not f.waived
    ]
    assert findings == []


def test_replaced_task_definitions_stay_registered_for_rollbacks(shop):
    for record in shop.of_type("aws:ecs/taskDefinition:TaskDefinition"):
        assert record.inputs["skipDestroy"] is True, record.name


def test_the_release_is_recorded_once_every_deploy_check_passed(shop):
    record = shop.named("shop-record")
    assert shop.named("shop-release").urn in record.dependencies  # the runner
    for service in ("web", "worker", "agent", "scheduler"):
        assert shop.named(f"shop-{service}-verify").urn in record.dependencies
    event = json.loads(record.inputs["input"])
    assert (event["action"], event["rack"], event["app"]) == ("record", "rack", "shop")
    assert set(event["services"]) == {"web", "worker", "agent", "scheduler"}
    web = event["services"]["web"]
    assert (
        web["taskDefinition"]
        == json.loads(shop.named("shop-web-verify").inputs["input"])["taskDefinition"]
    )
    assert web["image"] == container(shop, "web")["image"]
    # The release command as its invocation ran it, and its result (none offline).
    assert web["release"] == {"command": ["python", "manage.py", "migrate"], "result": None}
    assert shop.named("shop-web-release").urn in record.dependencies
    assert "release" not in event["services"]["worker"]
    assert event["services"]["agent"]["image"] == "public.ecr.aws/datadog/agent:7"


def test_the_record_event_is_what_the_runner_records(shop, aws):
    """The planned event, run through the runner's record action against moto's SSM."""
    import boto3

    from paaskit.release import records
    from paaskit.release.recorder import record_release

    event = json.loads(shop.named("shop-record").inputs["input"])
    done = record_release(event, ssm=boto3.client("ssm"))
    assert done["status"] == "recorded"
    (release,) = records.history(boto3.client("ssm"), rack="rack", app="shop")
    assert release.services["web"].task_definition == records.short_task_definition(
        event["services"]["web"]["taskDefinition"]
    )
    assert release.services["web"].release == records.ReleaseCommand(
        ("python", "manage.py", "migrate"), None, None
    )


def test_the_runner_may_write_only_this_apps_release_record(shop):
    statements = policy(shop, "shop-release-policy")
    (ssm,) = [s for s in statements if any(a.startswith("ssm:") for a in s["Action"])]
    assert ssm["Action"] == ["ssm:AddTagsToResource", "ssm:GetParameter", "ssm:PutParameter"]
    assert ssm["Resource"] == [
        f"arn:aws:ssm:us-east-1:{ACCOUNT}:parameter/paaskit/rack/shop/release-record"
    ]


# --- mistakes ----------------------------------------------------------------------


def test_a_required_setting_that_is_missing_is_named(tmp_path):
    with pytest.raises(Exception, match="required but not set: SECRET_KEY"):
        plan_app(make_app(tmp_path / "app"), environment={})


def test_a_setting_the_manifest_does_not_declare_is_refused(tmp_path):
    with pytest.raises(Exception, match="environment: API_TOKEN not declared"):
        plan_app(make_app(tmp_path / "app"), environment={"SECRET_KEY": "x", "API_TOKEN": "y"})


def test_an_app_name_must_fit_hosts_and_aws_names(tmp_path):
    with pytest.raises(Exception, match="name: 'Shop_App'"):
        plan_app(make_app(tmp_path / "app"), name="Shop_App")


def test_a_build_with_nothing_to_build_from_is_named(tmp_path):
    root = make_app(tmp_path / "app")
    (root / "requirements.txt").unlink()
    with pytest.raises(Exception, match=r"services\.web\.build: no Dockerfile"):
        plan_app(root)


def test_unsupported_database_options_are_named(tmp_path):
    manifest = MANIFEST.replace(
        "    type: postgres\n", "    type: postgres\n    options:\n      encrypted: false\n"
    )
    with pytest.raises(Exception, match=r"resources\.database\.options\.encrypted: not supported"):
        plan_app(make_app(tmp_path / "app", manifest))


def test_a_shared_database_needs_a_rack_that_has_one(tmp_path):
    manifest = MANIFEST.replace(
        "    type: postgres\n", "    type: postgres\n    options:\n      shared: true\n"
    )
    with pytest.raises(
        Exception, match=r"resources\.database\.options\.shared: the rack has no shared database"
    ):
        plan_app(make_app(tmp_path / "app", manifest))


def test_config_errors_are_config_errors():
    with pytest.raises(ConfigError):
        App(
            "Bad Name",
            AppArgs(manifest=parse_manifest({"services": {"web": {"image": "x"}}}), rack=RACK),
        )


def test_bad_manifests_fail_with_the_key_path():
    with pytest.raises(ManifestError, match=r"services\.web\.scale"):
        parse_manifest({"services": {"web": {"image": "x", "scale": "lots"}}})


def test_the_release_archive_imports_without_pulumi(shop, tmp_path):
    """The Lambda zip holds the release package and an empty paaskit: it must import alone."""
    import importlib.util
    import sys

    archive = shop.named("shop-release").inputs["code"]["@archive"]
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as zf:
        for name, asset in archive.items():
            path = asset["@asset"].get("path")
            zf.writestr(name, Path(path).read_text() if path else "")
    with zipfile.ZipFile(buffer) as zf, pytest.MonkeyPatch.context() as mp:
        root = tmp_path / "lambda"
        zf.extractall(root)
        for loaded in [m for m in sys.modules if m == "paaskit" or m.startswith("paaskit.")]:
            mp.delitem(sys.modules, loaded)
        mp.syspath_prepend(str(root))
        mp.setitem(sys.modules, "pulumi", None)  # importing pulumi would fail
        spec = importlib.util.find_spec("paaskit.release.handler")
        assert spec is not None
        assert spec.origin is not None
        assert spec.origin.startswith(str(root))
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)  # type: ignore[union-attr]
        assert callable(module.handler)


def test_an_internal_service_with_a_port_gets_no_target_group_or_route(tmp_path):
    manifest = """
    services:
      api:
        image: ghcr.io/example/api:1
        port: 9000
        internal: true
    """
    records = plan_app(make_app(tmp_path / "app", manifest), environment={})
    assert not records.of_type("aws:lb/targetGroup:TargetGroup")
    assert not records.of_type("aws:lb/listenerRule:ListenerRule")
    service = records.named("shop-api")
    assert "loadBalancers" not in service.inputs
    assert not records.of_type("aws:cloudfront/distribution:Distribution")
    (api,) = json.loads(records.named("shop-api-task").inputs["containerDefinitions"])
    # Reached by its internal name (`tests/test_app_internal.py`): its own address, its port.
    assert records.named("shop-api-task").inputs["networkMode"] == "awsvpc"
    assert api["portMappings"] == [{"containerPort": 9000, "protocol": "tcp"}]


# --- settings and secrets over time ------------------------------------------------


SETTINGS_MANIFEST = """
environment:
  - SECRET_KEY
services:
  web:
    image: ghcr.io/example/web:1
    port: 8000
  worker:
    image: ghcr.io/example/worker:1
    environment:
      - QUEUE_TOKEN
"""


def _with_versions(monkeypatch, tmp_path, versions: dict[str, int]) -> dict[str, str]:
    """Plan with SSM reporting these parameter versions (a parameter's version is bumped by
    every change of its value); the task definitions' container definitions, by service."""
    from paaskit.plan import fakes

    original = fakes.STATES["aws:ssm/parameter:Parameter"]

    def parameter(r, ctx):
        state = original(r, ctx)
        key = str(r.inputs.get("name", "")).rsplit("/", 1)[-1]
        return {**state, "version": versions.get(key, 1)}

    monkeypatch.setitem(fakes.STATES, "aws:ssm/parameter:Parameter", parameter)
    root = make_app(tmp_path / "settings", SETTINGS_MANIFEST)
    records = plan_app(root, environment={"SECRET_KEY": "k", "QUEUE_TOKEN": "t"})
    return {
        service: records.named(f"shop-{service}-task").inputs["containerDefinitions"]
        for service in ("web", "worker")
    }


def test_a_changed_setting_rolls_exactly_the_services_that_read_it(monkeypatch, tmp_path):
    first = _with_versions(monkeypatch, tmp_path, {})
    token_changed = _with_versions(monkeypatch, tmp_path, {"QUEUE_TOKEN": 2})
    key_changed = _with_versions(monkeypatch, tmp_path, {"SECRET_KEY": 2})
    # A new task definition is what makes ECS start new tasks, which read the new value.
    assert token_changed["worker"] != first["worker"]
    assert token_changed["web"] == first["web"]
    assert key_changed["worker"] != first["worker"]
    assert key_changed["web"] != first["web"]
    # The value itself never appears.
    (web,) = json.loads(key_changed["web"])
    assert set(web["dockerLabels"]) == {"paaskit.settings"}


def _kms_rack() -> RackInfo:
    from dataclasses import replace

    shared = SharedDatabase(
        host="rack-db.c0.us-east-1.rds.amazonaws.com",
        port=5432,
        name="app",
        username="app",
        secret_arn=f"arn:aws:secretsmanager:us-east-1:{ACCOUNT}:secret:rds!db-1-abcdef",
        security_group_id="sg-0db",
        secret_kms_key_arn=f"arn:aws:kms:us-east-1:{ACCOUNT}:key/0000aaaa-1111-2222-3333-444455556666",
    )
    return replace(RACK, database=shared)


def test_a_shared_database_under_a_customer_key_can_be_read_by_the_app(tmp_path):
    manifest = MANIFEST.replace(
        "    type: postgres\n", "    type: postgres\n    options:\n      shared: true\n"
    )
    rack = _kms_rack()
    key = rack.database.secret_kms_key_arn  # type: ignore[union-attr]
    records = plan_app(make_app(tmp_path / "app", manifest), rack=rack)
    via = {"StringEquals": {"kms:ViaService": "secretsmanager.us-east-1.amazonaws.com"}}
    execution = policy(records, "shop-execution-policy")
    assert {"Action": ["kms:Decrypt"], "Condition": via, "Effect": "Allow", "Resource": [key]} in (
        execution
    )
    runner = policy(records, "shop-release-policy")
    assert {
        "Action": ["kms:Decrypt", "kms:GenerateDataKey"],
        "Condition": via,
        "Effect": "Allow",
        "Resource": [key],
    } in runner
    # The link secret holds the same password: it is encrypted with the same key.
    assert records.named("shop-database-url").inputs["kmsKeyId"] == key
    read = next(s for s in runner if s["Action"] == ["secretsmanager:GetSecretValue"])
    assert read["Resource"] == [rack.database.secret_arn]  # type: ignore[union-attr]


def test_the_manifests_major_version_upgrade_is_honoured(tmp_path):
    manifest = MANIFEST.replace(
        "    type: postgres\n",
        '    type: postgres\n    options:\n      version: "17"\n      allowMajorVersionUpgrade: true\n',
    )
    records = plan_app(make_app(tmp_path / "app", manifest))
    assert records.one("aws:rds/instance:Instance").inputs["allowMajorVersionUpgrade"] is True
    default = plan_app(make_app(tmp_path / "default"))
    assert default.one("aws:rds/instance:Instance").inputs["allowMajorVersionUpgrade"] is False


def test_no_database_password_is_an_input_of_anything(shop):
    """No task definition, invocation or other input holds a password or a URL with one:
    nothing Pulumi keeps in its state. (No value of the database's is known to the plan,
    so the scan looks at where a password would be.)"""
    assert not shop.of_type("aws:secretsmanager/secretVersion:SecretVersion")
    for record in shop:
        assert "secretString" not in record.inputs, record.name
        for key in ("password", "masterPassword", "passwordWo"):
            assert key not in record.inputs, (record.name, key)
    for record in shop.of_type("aws:ecs/taskDefinition:TaskDefinition"):
        (container,) = json.loads(record.inputs["containerDefinitions"])
        names = {e["name"] for e in container["environment"]}
        assert not names & {"DATABASE_URL", "DATABASE_PASS", "PGPASSWORD"}, record.name
        for secret in container["secrets"]:
            assert secret["valueFrom"].startswith(("arn:aws:ssm:", "arn:aws:secretsmanager:"))
    for record in shop.of_type("aws:lambda/invocation:Invocation"):
        event = json.loads(record.inputs["input"])
        assert not {k for k in event if "pass" in k.lower() or k == "url"}, record.name
