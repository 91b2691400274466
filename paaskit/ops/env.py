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
from dataclasses import dataclass, field
from typing import Any

from .aws import Aws
from .discovery import App

__all__ = ["env", "secret_reference"]

_SSM_BATCH = 10  # GetParameters takes at most 10 names


@dataclass
class _Variable:
    """One variable as `env` reports it; `arn` is where a secret is read (not shown)."""

    name: str
    value: str | None
    source: str
    origin: str | None = None
    key: str | None = None
    arn: str | None = None
    services: list[str] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "value": self.value,
            "secret": self.source != "task-definition",
            "source": self.source,
            "from": self.origin,
            "key": self.key,
            "services": self.services,
        }


def secret_reference(value_from: str) -> _Variable:
    """Where an ECS secret's `valueFrom` points (source, name, JSON key), as a nameless variable."""
    if value_from.startswith("arn:") and ":secretsmanager:" in value_from:
        # arn:aws:secretsmanager:region:account:secret:name-AbCdEf[:json-key:version-stage:version-id]
        parts = value_from.split(":")
        key = parts[7] if len(parts) > 7 and parts[7] else None
        return _Variable("", None, "secrets-manager", parts[6], key, ":".join(parts[:7]))
    if value_from.startswith("arn:") and ":ssm:" in value_from:
        name = value_from.split(":parameter", 1)[1]
        return _Variable("", None, "ssm-parameter", name, None, value_from)
    name = value_from if value_from.startswith("/") else f"/{value_from}"
    return _Variable("", None, "ssm-parameter", name, None, value_from)


def _container(definition: dict[str, Any], name: str) -> dict[str, Any]:
    found: dict[str, Any] = next(
        (c for c in definition.get("containerDefinitions", []) if c.get("name") == name), {}
    )
    return found


def _settings(aws: Aws, app: App) -> Iterator[str]:
    """Names of the SSM SecureString parameters directly under the app's path."""
    paginator = aws.client("ssm").get_paginator("get_parameters_by_path")
    for page in paginator.paginate(Path=app.parameter_path, Recursive=False):
        for parameter in page.get("Parameters", []):
            if parameter.get("Type") == "SecureString":
                yield parameter["Name"]


def _json_key(text: str | None, key: str | None) -> str | None:
    if text is None or key is None:
        return text
    try:
        value = json.loads(text).get(key)
    except (ValueError, AttributeError):
        return None
    return None if value is None else str(value)


def _reveal(aws: Aws, variables: list[_Variable]) -> None:
    """Fill in the value of every secret variable."""
    names = sorted({v.origin for v in variables if v.source == "ssm-parameter" and v.origin})
    values: dict[str, str] = {}
    ssm = aws.client("ssm")
    for start in range(0, len(names), _SSM_BATCH):
        found = ssm.get_parameters(Names=names[start : start + _SSM_BATCH], WithDecryption=True)
        values.update({p["Name"]: p["Value"] for p in found.get("Parameters", [])})
    secrets: dict[str, str | None] = {}
    manager = aws.client("secretsmanager")
    for variable in variables:
        if variable.source == "ssm-parameter" and variable.origin:
            variable.value = values.get(variable.origin)
        elif variable.source == "secrets-manager" and variable.arn:
            if variable.arn not in secrets:
                secrets[variable.arn] = manager.get_secret_value(SecretId=variable.arn).get(
                    "SecretString"
                )
            variable.value = _json_key(secrets[variable.arn], variable.key)


def env(
    aws: Aws, app: App, *, service: str | None = None, show_secrets: bool = False
) -> dict[str, Any]:
    """The data of `paaskit env APP`."""
    if service is not None:
        app.service_arn(service)
    names = [service] if service is not None else list(app.described)
    ecs = aws.client("ecs")
    merged: dict[tuple[str, str | None, str, str | None], _Variable] = {}
    for name in names:
        arn = app.described[name].get("taskDefinition", "")
        container = _container(
            ecs.describe_task_definition(taskDefinition=arn)["taskDefinition"], name
        )
        found = [
            _Variable(e["name"], e.get("value"), "task-definition")
            for e in container.get("environment", [])
        ]
        for entry in container.get("secrets", []):
            where = secret_reference(entry["valueFrom"])
            where.name = entry["name"]
            found.append(where)
        for variable in found:
            key = (variable.name, variable.value, variable.source, variable.arn)
            merged.setdefault(key, variable).services.append(name)
    variables = list(merged.values())
    if service is None:
        read = {v.origin for v in variables if v.source == "ssm-parameter"}
        for parameter in _settings(aws, app):
            if parameter not in read:
                variables.append(
                    _Variable(
                        parameter.rsplit("/", 1)[-1],
                        None,
                        "ssm-parameter",
                        parameter,
                        arn=parameter,
                    )
                )
    if show_secrets:
        _reveal(aws, variables)
    variables.sort(key=lambda v: (v.name, v.source, v.services))
    return {
        "app": app.name,
        "rack": app.rack.name,
        "showSecrets": show_secrets,
        "variables": [v.to_json() for v in variables],
    }
