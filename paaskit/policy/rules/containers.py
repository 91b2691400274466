"""Container rules: ECS clusters, services and task definitions; ECR repositories."""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from typing import Any

from paaskit.plan import PlanIndex, ResourceRecord
from paaskit.plan import types as t
from paaskit.plan.values import dig, document, flag, items, known
from paaskit.policy.model import RuleSet

__all__ = [
    "HOST_PATH_EXPOSURE",
    "aws_keys_in_environment",
    "circuit_breaker",
    "container_insights",
    "container_logging",
    "containers",
    "efs_in_transit",
    "host_paths",
    "host_pid",
    "immutable_tags",
    "lifecycle_policy",
    "privileged",
    "read_only_root",
    "rules",
    "scan_on_push",
    "secrets_in_environment",
    "separate_roles",
    "service_public_ip",
]

rules = RuleSet()

_AWS_CREDENTIAL_NAMES = ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "ECS_ENGINE_AUTH_DATA")
_ACCESS_KEY = re.compile(r"\b(?:AKIA|ASIA)[0-9A-Z]{16}\b")
_SECRET_NAME = re.compile(r"(?i)(password|passwd|secret|token|api_?key|private_?key|credentials)")
_URL_WITH_PASSWORD = re.compile(r"://[^/\s:@]+:[^@/\s]+@")


def containers(r: ResourceRecord) -> list[Mapping[str, Any]]:
    """A task definition's container definitions (a JSON string on the wire)."""
    doc = document(r.inputs.get("containerDefinitions"))
    return [c for c in items(doc) if isinstance(c, Mapping)]


def _name(container: Mapping[str, Any], i: int) -> str:
    return str(container.get("name") or f"container {i}")


def _environment(container: Mapping[str, Any]) -> list[tuple[str, Any]]:
    return [
        (str(e.get("name")), e.get("value"))
        for e in items(container.get("environment"))
        if isinstance(e, Mapping)
    ]


@rules.rule(
    "PK-ECS-001",
    "Clusters record Container Insights",
    severity="warning",
    sources=["ECS.12", "CKV_AWS_65"],
    types=[t.ECS_CLUSTER],
)
def container_insights(r: ResourceRecord, index: PlanIndex) -> Iterator[str]:
    """Per-task CPU, memory and restart metrics are what tell a crash loop from a slow
    deploy. Costs roughly $15-25 a month for a small rack (SpotClusterArgs.container_insights)."""
    settings = {
        s.get("name"): s.get("value")
        for s in items(r.inputs.get("settings"))
        if isinstance(s, Mapping)
    }
    value = settings.get("containerInsights")
    if value not in ("enabled", "enhanced"):
        yield f"containerInsights is {value or 'not set'}: turn it on to see per-task metrics"


@rules.rule(
    "PK-ECS-002",
    "Services roll back a failed deployment",
    severity="warning",
    sources=["REL08-BP01", "REL08-BP05"],
    types=[t.ECS_SERVICE],
)
def circuit_breaker(r: ResourceRecord, index: PlanIndex) -> Iterator[str]:
    """Without the deployment circuit breaker a task that never turns healthy is
    retried forever and the deploy never ends; with `rollback` ECS puts the last
    working revision back on its own."""
    controller = dig(r.inputs, "deploymentController", "type")
    if controller not in (None, "ECS"):
        return
    breaker = r.inputs.get("deploymentCircuitBreaker")
    if not isinstance(breaker, Mapping) or flag(breaker.get("enable")) is not True:
        yield "deploymentCircuitBreaker is off: a failing deploy retries forever; enable it with rollback"
    elif flag(breaker.get("rollback")) is not True:
        yield "deploymentCircuitBreaker has rollback off: a failed deploy stops but the last good revision is not restored"


@rules.rule(
    "PK-ECS-003",
    "Containers send their logs somewhere",
    severity="error",
    sources=["ECS.9"],
    types=[t.TASK_DEFINITION],
)
def container_logging(r: ResourceRecord, index: PlanIndex) -> Iterator[str]:
    """A container without a log driver leaves no trace of what it did or why it died."""
    for i, container in enumerate(containers(r)):
        if not dig(container, "logConfiguration", "logDriver"):
            yield f"{_name(container, i)}: no logConfiguration.logDriver (use awslogs)"


@rules.rule(
    "PK-ECS-004",
    "No privileged containers",
    severity="error",
    sources=["ECS.4", "CKV_AWS_334"],
    types=[t.TASK_DEFINITION],
)
def privileged(r: ResourceRecord, index: PlanIndex) -> Iterator[str]:
    """A privileged container is root on the node: every other task's secrets and the
    node's role are its to take. A monitoring agent may need it (an App's manifest asks
    for it on an agent only, and its task definition then waives this rule, the
    manifest's request being the reason)."""
    for i, container in enumerate(containers(r)):
        if flag(container.get("privileged")):
            yield (
                f"{_name(container, i)}: privileged is true: every Linux capability and every "
                "device of the node, outside its isolation: root on the node, with every "
                "other task's files, secrets and network, and the node's role"
            )


@rules.rule(
    "PK-ECS-005",
    "Tasks and the ECS agent use separate roles",
    severity="error",
    sources=["CKV_AWS_249"],
    types=[t.TASK_DEFINITION],
)
def separate_roles(r: ResourceRecord, index: PlanIndex) -> Iterator[str]:
    """The execution role pulls images and reads the task's secrets at start; the task
    role is what the app's code may do. One role for both gives the app every secret
    of the task definition and pull rights on the registry."""
    task, execution = r.inputs.get("taskRoleArn"), r.inputs.get("executionRoleArn")
    if known(task) and known(execution) and task == execution:
        yield "taskRoleArn and executionRoleArn are the same role: give the app a role of its own"


@rules.rule(
    "PK-ECS-006",
    "No AWS credentials in container environments",
    severity="error",
    sources=["ECS.8"],
    types=[t.TASK_DEFINITION],
)
def aws_keys_in_environment(r: ResourceRecord, index: PlanIndex) -> Iterator[str]:
    """Plain environment variables are readable by anyone who can describe the task
    definition. Tasks get credentials from their task role, never from keys."""
    for i, container in enumerate(containers(r)):
        for name, value in _environment(container):
            if name in _AWS_CREDENTIAL_NAMES:
                yield f"{_name(container, i)}: environment sets {name}; use the task role"
            elif isinstance(value, str) and _ACCESS_KEY.search(value):
                yield f"{_name(container, i)}: environment {name} holds an AWS access key id"


@rules.rule(
    "PK-ECS-007",
    "Secrets reach containers as secrets, not environment values",
    severity="warning",
    sources=["ECS.8", "SEC02-BP03"],
    types=[t.TASK_DEFINITION],
)
def secrets_in_environment(r: ResourceRecord, index: PlanIndex) -> Iterator[str]:
    """A password in `environment` is in plain text in the task definition, in Pulumi
    state and in every `describe-task-definition`. Put it in Secrets Manager or SSM
    and list it under the container's `secrets`."""
    for i, container in enumerate(containers(r)):
        for name, value in _environment(container):
            if name in _AWS_CREDENTIAL_NAMES or not isinstance(value, str) or not value:
                continue
            if _URL_WITH_PASSWORD.search(value):
                yield f"{_name(container, i)}: environment {name} is a URL with a password in it"
            elif _SECRET_NAME.search(name):
                yield f"{_name(container, i)}: environment {name} looks like a secret; pass it under secrets"


@rules.rule(
    "PK-ECS-008",
    "Tasks do not share the node's process namespace",
    severity="error",
    sources=["ECS.3", "CKV_AWS_335"],
    types=[t.TASK_DEFINITION],
)
def host_pid(r: ResourceRecord, index: PlanIndex) -> Iterator[str]:
    """With `pidMode: host` a container sees, signals and traces every process on the node."""
    if r.inputs.get("pidMode") == "host":
        yield "pidMode is host: the task sees every process on the node"


@rules.rule(
    "PK-ECS-009",
    "Services do not give tasks public IPs",
    severity="error",
    sources=["ECS.2", "CKV_AWS_333"],
    types=[t.ECS_SERVICE],
)
def service_public_ip(r: ResourceRecord, index: PlanIndex) -> Iterator[str]:
    """Tasks are reached through the load balancer; a public address bypasses it."""
    if flag(dig(r.inputs, "networkConfiguration", "assignPublicIp")):
        yield "networkConfiguration.assignPublicIp is true: tasks are reachable from the internet"


@rules.rule(
    "PK-ECS-010",
    "Containers run with a read-only root filesystem",
    severity="info",
    sources=["ECS.5", "CKV_AWS_336"],
    types=[t.TASK_DEFINITION],
)
def read_only_root(r: ResourceRecord, index: PlanIndex) -> Iterator[str]:
    """An attacker who gets code execution cannot drop tools or change the app on disk.
    Many frameworks write to /tmp; give them a volume for it before turning this on."""
    for i, container in enumerate(containers(r)):
        if flag(container.get("readonlyRootFilesystem")) is not True:
            yield f"{_name(container, i)}: root filesystem is writable"


HOST_PATH_EXPOSURE: Mapping[str, str] = {
    "/var/run/docker.sock": "the Docker daemon: it starts containers as root with the node's "
    "disks mounted, and reads every container's environment and secrets: root on the node",
    "/var/run": "the node's runtime sockets, the Docker daemon's among them: root on the node",
    "/proc": "every process of the node: command lines, environments (secrets included) and "
    "open files, read-only or not as mounted",
    "/sys/fs/cgroup": "every container's resource accounting, and writable, their limits",
    "/cgroup": "cgroups v1's mount point, absent on Amazon Linux 2023 (cgroups v2 is at "
    "/sys/fs/cgroup): Docker makes an empty directory there",
    "/sys/kernel/debug": "the kernel's debug interfaces (debugfs): kernel memory and tracing",
    "/var/lib/docker/containers": "every container's logs and configuration, environment "
    "variables included",
    "/var/log/audit": "the node's audit log: who ran what on it",
    "/dev/log": "the node's syslog socket: it can write the node's log",
    "/etc/passwd": "the node's user list",
}
"""What each host path an App may mount (Convox's list) gives a container."""


def _host_exposure(path: str) -> str:
    cleaned = path.rstrip("/") or "/"
    return HOST_PATH_EXPOSURE.get(cleaned, "a path of the node itself, shared with its other tasks")


@rules.rule(
    "PK-ECS-011",
    "Host paths mounted into containers say what they expose",
    severity="warning",
    sources=["CKV_AWS_335", "CIS Docker 5.31"],
    types=[t.TASK_DEFINITION],
)
def host_paths(r: ResourceRecord, index: PlanIndex) -> Iterator[str]:
    """A container that mounts a path of its node shares it with the node and its
    other tasks; some paths give it the node (the Docker socket is root there). Monitoring
    and log agents mount them on purpose (an App allows it for agents only), and this
    finding says what each gives, so a review sees it."""
    for volume in items(r.inputs.get("volumes")):
        if not isinstance(volume, Mapping):
            continue
        path = volume.get("hostPath")
        if isinstance(path, str) and path:
            yield f"volume {volume.get('name')} mounts the node's {path}: {_host_exposure(path)}"


@rules.rule(
    "PK-ECS-012",
    "EFS volumes are mounted with TLS and the task role",
    severity="error",
    sources=["CKV_AWS_97", "SEC09-BP02"],
    types=[t.TASK_DEFINITION],
)
def efs_in_transit(r: ResourceRecord, index: PlanIndex) -> Iterator[str]:
    """NFS without TLS crosses the VPC in the clear; without IAM authorization a task
    mounts as an anonymous client, which a file system policy that admits only roles
    refuses, or one that admits anyone lets in."""
    for volume in items(r.inputs.get("volumes")):
        config = volume.get("efsVolumeConfiguration") if isinstance(volume, Mapping) else None
        if not isinstance(config, Mapping):
            continue
        name = volume.get("name")
        if config.get("transitEncryption") != "ENABLED":
            yield f"volume {name}: transitEncryption is not ENABLED: NFS in the clear"
        if dig(config, "authorizationConfig", "iam") != "ENABLED":
            yield f"volume {name}: authorizationConfig.iam is not ENABLED: the task mounts anonymously"


@rules.rule(
    "PK-ECR-001",
    "Images are scanned for vulnerabilities on push",
    severity="warning",
    sources=["ECR.1", "CKV_AWS_163"],
    types=[t.ECR_REPOSITORY],
    scope="stack",
)
def scan_on_push(r: ResourceRecord, index: PlanIndex) -> Iterator[str]:
    """Scanning is free for basic scans and tells you which images carry known CVEs.
    A registry-wide scanning configuration counts too."""
    if flag(dig(r.inputs, "imageScanningConfiguration", "scanOnPush")):
        return
    for registry in index.of_type(t.ECR_REGISTRY_SCANNING):
        if registry.inputs.get("scanType") == "ENHANCED" or any(
            isinstance(rule, Mapping)
            and rule.get("scanFrequency") in ("SCAN_ON_PUSH", "CONTINUOUS_SCAN")
            for rule in items(registry.inputs.get("rules"))
        ):
            return
    yield "imageScanningConfiguration.scanOnPush is off and no registry scanning configuration covers it"


@rules.rule(
    "PK-ECR-002",
    "Repositories expire old images",
    severity="warning",
    sources=["ECR.3"],
    types=[t.ECR_REPOSITORY],
    scope="stack",
)
def lifecycle_policy(r: ResourceRecord, index: PlanIndex) -> Iterator[str]:
    """Every deploy pushes an image; without a lifecycle policy they are kept (and
    billed at $0.10 per GB-month) forever."""
    if not index.attached(r, t.ECR_LIFECYCLE_POLICY, "repository"):
        yield "no lifecycle policy: every image ever pushed is kept and billed"


@rules.rule(
    "PK-ECR-003",
    "Image tags are immutable",
    severity="warning",
    sources=["ECR.2", "CKV_AWS_51"],
    types=[t.ECR_REPOSITORY],
)
def immutable_tags(r: ResourceRecord, index: PlanIndex) -> Iterator[str]:
    """A mutable tag can be pushed over: the image a task definition names is then not
    the one that was reviewed and deployed."""
    mutability = r.inputs.get("imageTagMutability", "MUTABLE")
    if known(mutability) and not str(mutability).startswith("IMMUTABLE"):
        yield f"imageTagMutability is {mutability}: a tag can be pushed over"
