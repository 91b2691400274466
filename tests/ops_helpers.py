"""A deployed paaskit app, built in moto with boto3 as the stacks and deploys leave it.

Everything here goes through moto's AWS API (on 127.0.0.1) and is tagged as
the tag contract says (`paaskit:rack`, `paaskit:app`, `paaskit:service`), with
physical names the ops code must not rely on (services are named like
Pulumi's auto-names). Where moto's API cannot produce a state — a task's start
time, health, image digest and container runtime id, a container's exit code,
a service's running count, rollout state and events — the helper sets it in
moto's in-process backend (the server runs in this process), and says so at
each place.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import threading
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import boto3
import pytest

from paaskit.release import records
from paaskit.release.records import Release, ReleaseCommand, ServiceRelease
from paaskit.release.tasks import RUN_STARTED_BY

ACCOUNT = "123456789012"
REGION = "us-east-1"


def moto_api(server: str, path: str, body: dict[str, Any]) -> None:
    request = urllib.request.Request(  # noqa: S310 - the loopback emulator only
        f"{server}/moto-api/state-manager/{path}", data=json.dumps(body).encode(), method="POST"
    )
    with urllib.request.urlopen(request, timeout=10):  # noqa: S310
        pass


_LOADER: list[Any] = []


def _session() -> boto3.session.Session:
    """A boto3 session as `paaskit.ops.aws.new_session` makes one, sharing botocore's model loader.

    Each `paaskit` command makes a new session, which reads AWS's service models
    again (~25 ms a service); the tests run hundreds of commands in one process.
    """
    import botocore.session

    core = botocore.session.Session()
    if not _LOADER:
        _LOADER.append(core.get_component("data_loader"))
    core.register_component("data_loader", _LOADER[0])
    return boto3.session.Session(botocore_session=core, region_name=os.environ.get("AWS_REGION"))


@pytest.fixture
def ops_env(aws: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """moto for the ops code: tasks stay RUNNING until stopped (moto would move them on at
    each describe), and sessions share botocore's model loader."""
    from paaskit.ops import aws as ops_aws

    monkeypatch.setattr(ops_aws, "new_session", _session)
    moto_api(
        aws,
        "set-transition",
        {"model_name": "ecs::task", "transition": {"progression": "manual", "times": 10**6}},
    )
    yield aws
    moto_api(aws, "unset-transition", {"model_name": "ecs::task"})


_CLIENTS: dict[tuple[str, str], Any] = {}
_AMI: list[str] = []


def client(service: str) -> Any:
    """A boto3 client for moto, kept for the session (making one costs ~20 ms)."""
    key = (service, os.environ["AWS_ENDPOINT_URL"])
    if key not in _CLIENTS:
        _CLIENTS[key] = boto3.client(service)
    return _CLIENTS[key]


def ecs_backend() -> Any:
    """moto's in-process ECS state, for what its API cannot set."""
    from moto.ecs.models import ecs_backends

    return ecs_backends[ACCOUNT][REGION]


def tags(rack: str, app: str | None = None, service: str | None = None) -> dict[str, str]:
    found = {"paaskit:rack": rack}
    if app:
        found["paaskit:app"] = app
    if service:
        found["paaskit:service"] = service
    return found


def _ecs_tags(values: dict[str, str]) -> list[dict[str, str]]:
    return [{"key": k, "value": v} for k, v in values.items()]


@dataclass
class Deployed:
    """What `deploy_app` made."""

    rack: str
    app: str
    cluster_arn: str
    repository: str
    services: dict[str, str] = field(default_factory=dict)
    """service -> ECS service ARN."""
    ecs_names: dict[str, str] = field(default_factory=dict)
    task_definitions: dict[str, list[str]] = field(default_factory=dict)
    """service -> task definition ARNs, oldest first."""
    images: dict[str, list[str]] = field(default_factory=dict)
    releases: list[int] = field(default_factory=list)

    @property
    def log_group(self) -> str:
        return f"/paaskit/{self.rack}/{self.app}"


def make_rack(rack: str = "dev") -> str:
    """An ECS cluster tagged as rack `rack`, with one registered node; returns its ARN."""
    ecs = client("ecs")
    ec2 = client("ec2")
    cluster = ecs.create_cluster(clusterName=f"{rack}-cluster-3f9a1c2", tags=_ecs_tags(tags(rack)))[
        "cluster"
    ]["clusterArn"]
    if not _AMI:  # moto lists hundreds of AMIs, slowly: once is enough
        _AMI.append(ec2.describe_images(Owners=["amazon"])["Images"][0]["ImageId"])
    instance = ec2.run_instances(ImageId=_AMI[0], MinCount=1, MaxCount=1)["Instances"][0][
        "InstanceId"
    ]
    ecs.register_container_instance(
        cluster=cluster, instanceIdentityDocument=json.dumps({"instanceId": instance})
    )
    provider = capacity_provider(rack)
    ecs.create_capacity_provider(
        name=provider,
        autoScalingGroupProvider={
            "autoScalingGroupArn": f"arn:aws:autoscaling:{REGION}:{ACCOUNT}:autoScalingGroup:0:autoScalingGroupName/{rack}-nodes",
        },
        tags=_ecs_tags(tags(rack)),
    )
    ecs.put_cluster_capacity_providers(
        cluster=cluster,
        capacityProviders=[provider],
        defaultCapacityProviderStrategy=[{"capacityProvider": provider, "weight": 1}],
    )
    return str(cluster)


def capacity_provider(rack: str) -> str:
    return f"{rack}-cluster-capacity-5e6f7a8"


def push_image(repository: str, content: str) -> str:
    """Push an image manifest to ECR; return its reference by digest, as task definitions hold it."""
    ecr = client("ecr")
    manifest = json.dumps(
        {
            "schemaVersion": 2,
            "mediaType": "application/vnd.docker.distribution.manifest.v2+json",
            "config": {
                "mediaType": "application/vnd.docker.container.image.v1+json",
                "size": 7023,
                "digest": "sha256:" + hashlib.sha256(content.encode()).hexdigest(),
            },
            "layers": [
                {
                    "mediaType": "application/vnd.docker.image.rootfs.diff.tar.gzip",
                    "size": 1024,
                    "digest": "sha256:" + hashlib.sha256(f"layer {content}".encode()).hexdigest(),
                }
            ],
        }
    )
    pushed = ecr.put_image(repositoryName=repository, imageManifest=manifest, imageTag=content)
    digest = pushed["image"]["imageId"]["imageDigest"]
    return f"{ACCOUNT}.dkr.ecr.{REGION}.amazonaws.com/{repository}@{digest}"


def register(
    d: Deployed,
    service: str,
    image: str,
    *,
    environment: dict[str, str] | None = None,
    secrets: dict[str, str] | None = None,
) -> str:
    """A task definition revision of `service`, as the App component registers it."""
    ecs = client("ecs")
    container = {
        "name": service,
        "image": image,
        "memory": 256,
        "essential": True,
        "environment": [
            {"name": k, "value": v}
            for k, v in sorted(
                {"APP": d.app, "SERVICE": service, "RACK": d.rack, **(environment or {})}.items()
            )
        ],
        "secrets": [{"name": k, "valueFrom": v} for k, v in sorted((secrets or {}).items())],
        "logConfiguration": {
            "logDriver": "awslogs",
            "options": {
                "awslogs-group": d.log_group,
                "awslogs-region": REGION,
                "awslogs-stream-prefix": service,
            },
        },
    }
    arn = ecs.register_task_definition(
        family=f"{d.rack}-{d.app}-{service}",
        containerDefinitions=[container],
        networkMode="bridge",
        requiresCompatibilities=["EC2"],
        tags=_ecs_tags(tags(d.rack, d.app, service)),
    )["taskDefinition"]["taskDefinitionArn"]
    d.task_definitions.setdefault(service, []).append(arn)
    d.images.setdefault(service, []).append(image)
    return str(arn)


def record(
    d: Deployed, *, release_command: dict[str, list[str]] | None = None, exit_code: int = 0
) -> int:
    """Write the release record a deploy writes: every service's current task definition."""
    services = {}
    for service, arns in d.task_definitions.items():
        command = (release_command or {}).get(service)
        services[service] = ServiceRelease(
            task_definition=records.short_task_definition(arns[-1]),
            image=d.images[service][-1],
            release=ReleaseCommand(tuple(command), exit_code, "0123456789abcdef")
            if command
            else None,
        )
    number = records.write(
        client("ssm"),
        rack=d.rack,
        app=d.app,
        release=Release(services=services, time=datetime.now(UTC)),
    )
    d.releases.append(number)
    return number


def start_service_task(
    d: Deployed, service: str, *, health: str = "HEALTHY", started_at: datetime | None = None
) -> str:
    """A task of the service, as ECS starts it (group `service:<name>`, startedBy its deployment).

    moto's ECS services start no tasks, so this runs one with the service's group and
    startedBy; its start time, health, image digest and runtime id are set in moto's
    backend, which its API has no way to set.
    """
    ecs = client("ecs")
    described = ecs.describe_services(cluster=d.cluster_arn, services=[d.services[service]])
    current = described["services"][0]
    task = ecs.run_task(
        cluster=d.cluster_arn,
        taskDefinition=current["taskDefinition"],
        startedBy=current["deployments"][0]["id"],
        group=f"service:{d.ecs_names[service]}",
        tags=_ecs_tags(tags(d.rack, d.app, service)),
    )["tasks"][0]
    stored = ecs_backend().tasks[d.cluster_arn.rsplit("/", 1)[-1]][task["taskArn"]]
    stored.started_at = started_at or datetime(2026, 5, 1, 12, 0, tzinfo=UTC)
    stored.health_status = health
    digest = current["taskDefinition"]  # the image the task definition names
    image = ecs.describe_task_definition(taskDefinition=digest)["taskDefinition"][
        "containerDefinitions"
    ][0]["image"]
    stored.containers[0].image_digest = image.partition("@")[2] or None
    stored.containers[0].runtime_id = f"{stored.id}-{service}-runtime"
    return str(task["taskArn"])


def deploy_app(
    rack: str = "dev",
    app: str = "shop",
    services: tuple[str, ...] = ("web", "worker"),
    *,
    cluster_arn: str | None = None,
    settings: dict[str, str] | None = None,
    tasks_per_service: int = 1,
    release_command: dict[str, list[str]] | None = None,
) -> Deployed:
    """The AWS state of `app` deployed on `rack` by paaskit, with one release recorded."""
    cluster_arn = cluster_arn or make_rack(rack)
    d = Deployed(
        rack=rack, app=app, cluster_arn=cluster_arn, repository=f"{rack}-{app}-images-8c1e2"
    )
    app_tags = tags(rack, app)
    client("logs").create_log_group(logGroupName=d.log_group, tags=app_tags)
    client("ecr").create_repository(
        repositoryName=d.repository, tags=[{"Key": k, "Value": v} for k, v in app_tags.items()]
    )
    ssm = client("ssm")
    secret_refs = {}
    for key, value in sorted((settings or {}).items()):
        name = f"/paaskit/{rack}/{app}/{key}"
        ssm.put_parameter(
            Name=name,
            Value=value,
            Type="SecureString",
            Tags=[{"Key": k, "Value": v} for k, v in app_tags.items()],
        )
        secret_refs[key] = f"arn:aws:ssm:{REGION}:{ACCOUNT}:parameter{name}"
    ecs = client("ecs")
    for service in services:
        image = push_image(d.repository, f"{service}-1")
        register(d, service, image, environment={"DEBUG": "false"}, secrets=secret_refs)
        ecs_name = f"{app}-{service}-{hashlib.sha256(service.encode()).hexdigest()[:7]}"
        created = ecs.create_service(
            cluster=cluster_arn,
            serviceName=ecs_name,
            taskDefinition=d.task_definitions[service][-1],
            desiredCount=tasks_per_service,
            capacityProviderStrategy=[
                {"capacityProvider": capacity_provider(rack), "weight": 1, "base": 0}
            ],
            tags=_ecs_tags(tags(rack, app, service)),
            propagateTags="SERVICE",
            enableECSManagedTags=True,
            enableExecuteCommand=True,
        )["service"]
        d.services[service] = created["serviceArn"]
        d.ecs_names[service] = ecs_name
        # moto's services run nothing, and moto keeps no capacity provider strategy: the
        # strategy (instead of a launch type), counts and finished rollout are set in its backend.
        stored = ecs_backend().services[f"{cluster_arn.rsplit('/', 1)[-1]}:{ecs_name}"]
        stored.capacity_provider_strategy = [
            {"capacityProvider": capacity_provider(rack), "weight": 1, "base": 0}
        ]
        stored.launch_type = None
        stored.running_count, stored.pending_count = tasks_per_service, 0
        stored.deployments[0].update(
            runningCount=tasks_per_service,
            pendingCount=0,
            rolloutState="COMPLETED",
            rolloutStateReason="ECS deployment completed.",
        )
        for _ in range(tasks_per_service):
            start_service_task(d, service)
    record(d, release_command=release_command)
    return d


def redeploy(d: Deployed, service: str, content: str, *, write_record: bool = True) -> str:
    """A new image and task definition for `service`, the service moved to it, and a record."""
    image = push_image(d.repository, content)
    arn = register(d, service, image, environment={"DEBUG": "false"})
    client("ecs").update_service(
        cluster=d.cluster_arn, service=d.services[service], taskDefinition=arn
    )
    if write_record:
        record(d)
    return arn


def put_logs(d: Deployed, service: str, task: str, lines: list[tuple[int, str]]) -> None:
    """Write `(timestamp ms, message)` lines to the task's stream, as the awslogs driver does."""
    logs = client("logs")
    stream = f"{service}/{service}/{task}"
    with contextlib.suppress(logs.exceptions.ResourceAlreadyExistsException):
        logs.create_log_stream(logGroupName=d.log_group, logStreamName=stream)
    logs.put_log_events(
        logGroupName=d.log_group,
        logStreamName=stream,
        logEvents=[{"timestamp": ts, "message": m} for ts, m in lines],
    )


def finish_one_off(
    d: Deployed,
    *,
    exit_code: int | None = 0,
    lines: tuple[str, ...] = (),
    started_by: str = RUN_STARTED_BY,
    reason: str = "Essential container in task exited",
) -> threading.Thread:
    """Play the container of the next one-off task: write its lines, then stop it with `exit_code`.

    moto runs no containers: this thread waits for the task, writes its log lines as
    the awslogs driver would, sets the container's exit code in moto's backend (a
    stopped task's container always reports 0 through moto's API) and stops it.
    """

    def finish() -> None:
        ecs = client("ecs")
        for _ in range(400):
            arns = ecs.list_tasks(
                cluster=d.cluster_arn, startedBy=started_by, desiredStatus="RUNNING"
            )["taskArns"]
            if arns:
                arn = arns[0]
                task = ecs.describe_tasks(cluster=d.cluster_arn, tasks=[arn])["tasks"][0]
                container = task["containers"][0]["name"]
                now = int(time.time() * 1000)
                if lines:
                    put_logs(
                        d,
                        container,
                        arn.rsplit("/", 1)[-1],
                        [(now + i, line) for i, line in enumerate(lines)],
                    )
                stored = ecs_backend().tasks[d.cluster_arn.rsplit("/", 1)[-1]][arn]
                stored.containers[0].exitCode = exit_code
                ecs.stop_task(cluster=d.cluster_arn, task=arn, reason=reason)
                return
            time.sleep(0.02)

    thread = threading.Thread(target=finish)
    thread.start()
    return thread


@dataclass
class Ran:
    """What `paaskit ...` did: exit status, stdout, stderr."""

    code: int
    out: str
    err: str

    def json(self) -> Any:
        return json.loads(self.out)


def cli(capsys: pytest.CaptureFixture[str], *argv: str) -> Ran:
    """Run `paaskit ARGV` in-process, as a user's shell would."""
    from paaskit.cli import main

    code = main(list(argv))
    out, err = capsys.readouterr()
    return Ran(code, out, err)


@dataclass
class Replies:
    """Answers given instead of moto's for chosen operations, and the requests they answered."""

    answers: dict[str, tuple[int, dict[str, Any]]] = field(default_factory=dict)
    calls: list[tuple[str, dict[str, Any]]] = field(default_factory=list)

    def answer(self, operation: str, body: dict[str, Any], status: int = 200) -> None:
        """Answer `operation` (`ecs.ExecuteCommand`) with `body` (an `Error` body when status >= 300)."""
        self.answers[operation] = (status, body)

    def deny(self, operation: str, message: str = "is not authorized") -> None:
        """Refuse `operation` as IAM does."""
        self.answer(
            operation,
            {
                "Error": {
                    "Code": "AccessDeniedException",
                    "Message": f"User: arn:aws:iam::{ACCOUNT}:user/dev {message} to perform: {operation.replace('.', ':').lower()}",
                }
            },
            status=400,
        )


@pytest.fixture
def replies(ops_env: str, monkeypatch: pytest.MonkeyPatch) -> Replies:
    """Make the ops code's boto3 session answer chosen operations itself, before moto sees them.

    For what moto does not do (ECS ExecuteCommand: its server answers 500) and for
    AWS's refusals (AccessDenied), which moto's server does not play without IAM
    enforcement for the whole session. botocore raises the same ClientError as for
    a real error response.
    """
    from botocore.awsrequest import AWSResponse

    from paaskit.ops import aws as ops_aws

    found = Replies()

    def handler(model: Any, params: dict[str, Any], **_: Any) -> Any:
        key = f"{model.service_model.endpoint_prefix}.{model.name}"
        if key not in found.answers:
            return None
        body = params.get("body") or b"{}"
        found.calls.append(
            (key, json.loads(body) if body.strip().startswith(b"{") else {"raw": body})
        )
        status, answer = found.answers[key]
        return AWSResponse(params["url"], status, {}, None), answer

    def new_session() -> boto3.session.Session:
        session = _session()
        session.events.register("before-call", handler)
        return session

    monkeypatch.setattr(ops_aws, "new_session", new_session)
    return found
