"""`paaskit env APP`: the app's environment variables, and where each comes from.

Read from what the tasks actually get, the task definitions the services run
now, so it shows the truth rather than the manifest's intent:

- `task-definition`: a plain value in the container definition (a manifest
  default, or what paaskit sets: APP, SERVICE, RACK, PORT, a linked resource's
  host and port);
- `ssm-parameter`: an ECS secret read from an SSM parameter at task start; the
  app's settings are `/paaskit/<rack>/<app>/<KEY>` (SecureString);
- `secrets-manager`: an ECS secret read from a Secrets Manager secret (a linked
  resource's URL, password...), with the JSON key it takes.

Settings stored for the app that no task definition reads (declared nowhere,
or not yet deployed) are listed too, with no service. Secret values are shown
only with `--show-secrets` (read with GetParameters/GetSecretValue, so the
caller needs ssm:GetParameters, kms:Decrypt and secretsmanager:GetSecretValue);
otherwise a secret's value is null.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

from .aws import Aws
from .discovery import App

__all__ = ["env", "secret_reference"]

_SSM_BATCH = 10  # GetParameters takes at most 10 names


def secret_reference(value_from: str) -> dict[str, Any]:
    """Where an ECS secret's `valueFrom` points: source, name (and JSON key), as `env` shows it."""
    if value_from.startswith("arn:") and ":secretsmanager:" in value_from:
        # arn:aws:secretsmanager:region:account:secret:name-AbCdEf[:json-key:version-stage:version-id]
        parts = value_from.split(":")
        secret_arn = ":".join(parts[:7])
        key = parts[7] if len(parts) > 7 and parts[7] else None
        return {"source": "secrets-manager", "from": parts[6], "arn": secret_arn, "key": key}
    if value_from.startswith("arn:") and ":ssm:" in value_from:
        name = value_from.split(":parameter", 1)[1]
        return {"source": "ssm-parameter", "from": name, "arn": value_from, "key": None}
    name = value_from if value_from.startswith("/") else f"/{value_from}"
    return {"source": "ssm-parameter", "from": name, "arn": value_from, "key": None}


def _container(definition: dict[str, Any], name: str) -> dict[str, Any]:
    return next(
        (c for c in definition.get("containerDefinitions", []) if c.get("name") == name), {}
    )


def _settings(aws: Aws, app: App) -> Iterator[str]:
    """Names of the SSM SecureString parameters directly under the app's path."""
    paginator = aws.client("ssm").get_paginator("get_parameters_by_path")
    for page in paginator.paginate(Path=app.parameter_path, Recursive=False):
        for parameter in page.get("Parameters", []):
            if parameter.get("Type") == "SecureString":
                yield parameter["Name"]


def _reveal(aws: Aws, variables: list[dict[str, Any]]) -> None:
    """Fill in the value of every secret variable (in place)."""
    ssm_names = sorted({v["from"] for v in variables if v["source"] == "ssm-parameter"})
    values: dict[str, str] = {}
    ssm = aws.client("ssm")
    for start in range(0, len(ssm_names), _SSM_BATCH):
        found = ssm.get_parameters(Names=ssm_names[start : start + _SSM_BATCH], WithDecryption=True)
        for parameter in found.get("Parameters", []):
            values[parameter["Name"]] = parameter["Value"]
    secrets: dict[str, Any] = {}
    manager = aws.client("secretsmanager")
    for variable in variables:
        if variable["source"] == "ssm-parameter":
            variable["value"] = values.get(variable["from"])
        elif variable["source"] == "secrets-manager":
            arn = variable.pop("_arn")
            if arn not in secrets:
                secrets[arn] = manager.get_secret_value(SecretId=arn).get("SecretString")
            text = secrets[arn]
            if variable["key"] and text is not None:
                try:
                    value = json.loads(text).get(variable["key"])
                except (ValueError, AttributeError):
                    value = None
                variable["value"] = None if value is None else str(value)
            else:
                variable["value"] = text
    for variable in variables:
        variable.pop("_arn", None)


def env(
    aws: Aws, app: App, *, service: str | None = None, show_secrets: bool = False
) -> dict[str, Any]:
    """The data of `paaskit env APP`."""
    names = [service] if service is not None else list(app.described)
    if service is not None:
        app.service_arn(service)
    ecs = aws.client("ecs")
    merged: dict[tuple[str, str | None, str, str | None], dict[str, Any]] = {}
    read_parameters: set[str] = set()
    for name in names:
        arn = app.described[name].get("taskDefinition", "")
        definition = ecs.describe_task_definition(taskDefinition=arn)["taskDefinition"]
        container = _container(definition, name)
        for entry in container.get("environment", []):
            key = (entry["name"], entry.get("value"), "task-definition", None)
            merged.setdefault(
                key,
                {
                    "name": entry["name"],
                    "value": entry.get("value"),
                    "secret": False,
                    "source": "task-definition",
                    "from": None,
                    "key": None,
                    "services": [],
                },
            )["services"].append(name)
        for entry in container.get("secrets", []):
            where = secret_reference(entry["valueFrom"])
            if where["source"] == "ssm-parameter":
                read_parameters.add(where["from"])
            key = (entry["name"], None, where["source"], where["arn"])
            merged.setdefault(
                key,
                {
                    "name": entry["name"],
                    "value": None,
                    "secret": True,
                    "source": where["source"],
                    "from": where["from"],
                    "key": where["key"],
                    "services": [],
                    "_arn": where["arn"],
                },
            )["services"].append(name)
    variables = list(merged.values())
    if service is None:
        for parameter in _settings(aws, app):
            if parameter not in read_parameters:
                variables.append(
                    {
                        "name": parameter.rsplit("/", 1)[-1],
                        "value": None,
                        "secret": True,
                        "source": "ssm-parameter",
                        "from": parameter,
                        "key": None,
                        "services": [],
                        "_arn": parameter,
                    }
                )
    if show_secrets:
        _reveal(aws, variables)
    for variable in variables:
        variable.pop("_arn", None)
    variables.sort(key=lambda v: (v["name"], v["source"], v["services"]))
    return {
        "app": app.name,
        "rack": app.rack.name,
        "showSecrets": show_secrets,
        "variables": variables,
    }
