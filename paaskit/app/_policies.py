"""The IAM policies of an app's roles: task execution, releases and timers, each scoped to this app."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from paaskit._aws import policy_document

__all__ = [
    "execution_policy",
    "release_policy",
    "run_task_policy",
]


def _statement(
    actions: Sequence[str], resources: Sequence[str] | str, **extra: Any
) -> dict[str, Any]:
    return {"Effect": "Allow", "Action": sorted(actions), "Resource": resources, **extra}


def execution_policy(
    repository: str | None, log_group: str, parameters: list[str], secrets: list[str]
) -> str:
    """The execution role's policy: pull this app's images, write its logs, read its settings and database secrets."""
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
    return policy_document(statements, sort_keys=True)


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


def release_policy(
    cluster: str, log_group: str, families: list[str], passed_roles: list[str]
) -> str:
    """The release function's policy: run, watch and stop this app's release tasks, and write its logs."""
    tasks = cluster.replace(":cluster/", ":task/") + "/*"
    return policy_document(
        [
            *_run_task_statements(cluster, families, passed_roles),
            _statement(
                ["ecs:DescribeTasks", "ecs:StopTask"],
                [tasks],
                Condition={"ArnEquals": {"ecs:cluster": cluster}},
            ),
            _statement(["logs:CreateLogStream", "logs:PutLogEvents"], [f"{log_group}:*"]),
        ],
        sort_keys=True,
    )
