"""The IAM policies of an app's roles: task execution, ECS Exec, the deploy runner and timers, each scoped to this app."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from paaskit._aws import policy_document
from paaskit.tags import APP_TAG, RACK_TAG

__all__ = [
    "EXEC_ACTIONS",
    "exec_policy",
    "execution_policy",
    "run_task_policy",
    "runner_policy",
]

EXEC_ACTIONS = (
    "ssmmessages:CreateControlChannel",
    "ssmmessages:CreateDataChannel",
    "ssmmessages:OpenControlChannel",
    "ssmmessages:OpenDataChannel",
)
"""What the SSM agent ECS runs inside a task needs for ECS Exec (`paaskit exec`): the
session's control and data channels. AWS gives these no resource-level permissions."""


def _statement(
    actions: Sequence[str], resources: Sequence[str] | str, **extra: Any
) -> dict[str, Any]:
    return {"Effect": "Allow", "Action": sorted(actions), "Resource": resources, **extra}


def _kms_statements(keys: Sequence[str | None], actions: Sequence[str]) -> list[dict[str, Any]]:
    """Use of customer KMS keys, only on behalf of Secrets Manager in the key's own region."""
    statements = []
    for key in sorted({k for k in keys if k}):
        region = key.split(":")[3]
        statements.append(
            _statement(
                actions,
                [key],
                Condition={
                    "StringEquals": {"kms:ViaService": f"secretsmanager.{region}.amazonaws.com"}
                },
            )
        )
    return statements


def execution_policy(
    repository: str | None,
    log_group: str,
    parameters: list[str],
    secrets: list[str],
    kms_keys: Sequence[str | None] = (),
) -> str:
    """The execution role's policy: pull this app's images, write its logs, read its settings and
    its resources' link secrets (and decrypt them when a customer KMS key encrypts them)."""
    statements = [_statement(["logs:CreateLogStream", "logs:PutLogEvents"], [f"{log_group}:*"])]
    if repository:
        # GetAuthorizationToken has no resource-level permissions: AWS requires "*".
        statements.append(_statement(["ecr:GetAuthorizationToken"], "*"))
        statements.append(
            _statement(
                [
                    "ecr:BatchCheckLayerAvailability",
                    "ecr:BatchGetImage",
                    "ecr:GetDownloadUrlForLayer",
                ],
                [repository],
            )
        )
    if parameters:
        statements.append(_statement(["ssm:GetParameters"], sorted(parameters)))
    if secrets:
        statements.append(_statement(["secretsmanager:GetSecretValue"], sorted(set(secrets))))
    statements += _kms_statements(kms_keys, ["kms:Decrypt"])
    return policy_document(statements, sort_keys=True)


def exec_policy() -> str:
    """A task role's ECS Exec statement: the session channels only, on `*` (AWS has no other
    resource for them). Who may open a session is the caller's `ecs:ExecuteCommand`, which
    names the cluster and task; the task role cannot reach anything with these actions."""
    return policy_document([_statement(EXEC_ACTIONS, "*")], sort_keys=True)


def _record_parameter(cluster: str, rack: str, app: str) -> str:
    """The ARN of the app's release record parameter, in the cluster's partition, region and account."""
    _, partition, _, region, account, _ = cluster.split(":", 5)
    return f"arn:{partition}:ssm:{region}:{account}:parameter/paaskit/{rack}/{app}/release-record"


def _run_task_statements(
    cluster: str, families: list[str], passed_roles: list[str]
) -> list[dict[str, Any]]:
    return [
        _statement(
            ["ecs:RunTask"],
            sorted({f"{family}:*" for family in families}),
            Condition={"ArnEquals": {"ecs:cluster": cluster}},
        ),
        _statement(
            ["ecs:TagResource"],
            [cluster.replace(":cluster/", ":task/") + "/*"],
            Condition={"StringEquals": {"ecs:CreateAction": "RunTask"}},
        ),
        _statement(
            ["iam:PassRole"],
            sorted(set(passed_roles)),
            Condition={"StringLike": {"iam:PassedToService": "ecs-tasks.amazonaws.com"}},
        ),
    ]


def run_task_policy(cluster: str, families: list[str], passed_roles: list[str]) -> str:
    """A timer's role's policy: run this app's task families on its cluster, passing only its roles."""
    return policy_document(_run_task_statements(cluster, families, passed_roles), sort_keys=True)


def runner_policy(
    *,
    cluster: str,
    log_group: str,
    families: list[str],
    passed_roles: list[str],
    app: str,
    rack: str,
    source_secrets: list[str],
    link_secrets: list[str],
    kms_keys: Sequence[str | None],
    failure_queue: str | None = None,
    caches: Sequence[str] = (),
) -> str:
    """The deploy runner's policy: run and watch this app's release tasks, check its services'
    deployments, write its link secrets from their sources, set the AUTH token of its caches
    (their replication groups' ARNs, `caches`), restart its services, write its release
    records, and keep the rotation events it failed to handle in its failure queue.

    Services are named by Pulumi (`<app>-<service>-<suffix>`) after the runner must exist
    (they wait for its releases), so they are reached by the cluster and their tags.
    """
    tasks = cluster.replace(":cluster/", ":task/") + "/*"
    services = cluster.replace(":cluster/", ":service/") + "/*"
    statements = [
        *_run_task_statements(cluster, families, passed_roles),
        _statement(
            ["ecs:DescribeTasks", "ecs:StopTask"],
            [tasks],
            Condition={"ArnEquals": {"ecs:cluster": cluster}},
        ),
        # ListTasks is granted on container instances, which a release task's cluster may not
        # have yet; listing task ARNs reveals nothing the runner could act on elsewhere.
        _statement(["ecs:ListTasks"], "*"),
        _statement(["ecs:DescribeServices"], [services]),
        _statement(
            ["ecs:UpdateService"],
            [services],
            Condition={
                "StringEquals": {
                    f"aws:ResourceTag/{APP_TAG}": app,
                    f"aws:ResourceTag/{RACK_TAG}": rack,
                }
            },
        ),
        _statement(["logs:CreateLogStream", "logs:PutLogEvents"], [f"{log_group}:*"]),
        # The `record` action: read the newest record (a retried invocation writes nothing),
        # write a new version; the first write creates the parameter with its tags.
        _statement(
            ["ssm:AddTagsToResource", "ssm:GetParameter", "ssm:PutParameter"],
            [_record_parameter(cluster, rack, app)],
        ),
    ]
    if source_secrets:
        statements.append(
            _statement(["secretsmanager:GetSecretValue"], sorted(set(source_secrets)))
        )
    if link_secrets:
        statements.append(
            _statement(
                ["secretsmanager:GetSecretValue", "secretsmanager:PutSecretValue"],
                sorted(set(link_secrets)),
            )
        )
    if caches:
        # The token is set with ModifyReplicationGroup (ROTATE, then SET); the runner reads the
        # group's status and AuthTokenEnabled between the two. A group's member clusters
        # (`<group>-001`...) are named too: a modification applies to them, and IAM may
        # check them (moto enforces no IAM, so this is not shown offline).
        members = [
            group.replace(":replicationgroup:", ":cluster:") + "-*"
            for group in caches
            if ":replicationgroup:" in group
        ]
        statements.append(
            _statement(
                ["elasticache:DescribeReplicationGroups", "elasticache:ModifyReplicationGroup"],
                sorted(set(caches) | set(members)),
            )
        )
    if failure_queue:
        # Lambda sends a failed asynchronous event to its on-failure destination as the function.
        statements.append(_statement(["sqs:SendMessage"], [failure_queue]))
    statements += _kms_statements(kms_keys, ["kms:Decrypt", "kms:GenerateDataKey"])
    return policy_document(statements, sort_keys=True)
