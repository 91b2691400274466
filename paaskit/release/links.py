"""Link secrets: a linked resource's URL and password, written from the database's own secret.

An app's service linked to a database gets `<NAME>_URL` and `<NAME>_PASS` as
ECS secrets from the app's *link secret*, which Pulumi creates without a
value. This module writes it, from the database's secret (RDS's
`{"username", "password"}`) and where the database listens:

    {"url": "postgres://user:pass@host:5432/db", "host": ..., "port": 5432,
     "username": ..., "password": ..., "database": ..., "engine": "postgres"}

at deploy time (an `aws.lambda_.Invocation` of the runner, before any
release or service reads it) and whenever the database's secret gets a new
current version (EventBridge's `Secret Label Updated`, `AWSCURRENT`), after
which it forces a new deployment of the services that read it: ECS resolves
secrets only when a task starts.

The password never leaves the two secrets: the event holds only ARNs, and the
result (kept in Pulumi's state) says only whether the secret changed.
"""

from __future__ import annotations

import json
import urllib.parse
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

__all__ = [
    "LinkFailed",
    "compose_link",
    "restart_services",
    "write_link",
]

_SCHEMES = {"postgres": "postgres", "mysql": "mysql", "mariadb": "mysql"}


class LinkFailed(Exception):
    """The link secret could not be written or its services restarted; the message says why."""


def compose_link(
    engine: str, source: dict[str, Any], host: str, port: int, database: str
) -> dict[str, Any]:
    """The link secret's JSON: the URL (user, password and database percent-encoded) and its parts."""
    if engine not in _SCHEMES:
        raise LinkFailed(f"no URL scheme for engine {engine!r} (known: {', '.join(_SCHEMES)})")
    try:
        username, password = str(source["username"]), str(source["password"])
    except KeyError as exc:
        raise LinkFailed(f"the database's secret has no {exc.args[0]!r} key") from None

    def quote(text: str) -> str:
        return urllib.parse.quote(text, safe="")

    url = (
        f"{_SCHEMES[engine]}://{quote(username)}:{quote(password)}@{host}:{port}/{quote(database)}"
    )
    return {
        "engine": engine,
        "url": url,
        "host": host,
        "port": port,
        "username": username,
        "password": password,
        "database": database,
    }


def write_link(event: dict[str, Any], *, secrets: Any, ecs: Any = None) -> dict[str, Any]:
    """Write the link secret from its source when it differs; with `restart` (a rotation), then
    force a new deployment of those services. Returns what happened, never a secret value.

    The event: `sourceSecret`, `linkSecret` (ARNs), `host`, `port`, `database`, `engine`
    (`postgres`), and for a rotation `cluster` and `restart` (service names).
    """
    try:
        source_text = secrets.get_secret_value(SecretId=event["sourceSecret"])["SecretString"]
        source = json.loads(source_text)
    except (BotoCoreError, ClientError, KeyError, ValueError) as exc:
        raise LinkFailed(
            f"cannot read the database's secret {event['sourceSecret']}: {exc}"
        ) from exc
    wanted = compose_link(
        str(event.get("engine", "postgres")),
        source,
        str(event["host"]),
        int(event["port"]),
        str(event["database"]),
    )
    try:
        current = json.loads(secrets.get_secret_value(SecretId=event["linkSecret"])["SecretString"])
    except ClientError as exc:
        # A secret Pulumi just made has no value yet: "can't find the specified secret value".
        if exc.response.get("Error", {}).get("Code") != "ResourceNotFoundException":
            raise LinkFailed(f"cannot read the link secret {event['linkSecret']}: {exc}") from exc
        current = None
    except (BotoCoreError, ValueError) as exc:
        raise LinkFailed(f"cannot read the link secret {event['linkSecret']}: {exc}") from exc
    changed = current != wanted
    if changed:
        try:
            secrets.put_secret_value(
                SecretId=event["linkSecret"], SecretString=json.dumps(wanted, sort_keys=True)
            )
        except (BotoCoreError, ClientError) as exc:
            raise LinkFailed(f"cannot write the link secret {event['linkSecret']}: {exc}") from exc
    result: dict[str, Any] = {
        "status": "written" if changed else "unchanged",
        "resource": event.get("resource"),
        "linkSecret": event["linkSecret"],
    }
    restart = list(event.get("restart") or [])
    if restart:
        # Even when an earlier attempt already wrote the secret: that attempt may have
        # failed to restart, and EventBridge retries the event.
        result["restarted"] = restart_services(ecs, str(event["cluster"]), restart)
    return result


def restart_services(ecs: Any, cluster: str, services: list[str]) -> list[str]:
    """Force a new deployment of each service (its new tasks read the secrets again)."""
    restarted, failures = [], []
    for service in services:
        try:
            ecs.update_service(cluster=cluster, service=service, forceNewDeployment=True)
            restarted.append(service)
        except (BotoCoreError, ClientError) as exc:
            failures.append(f"{service}: {exc}")
    if failures:
        raise LinkFailed(
            "the link secret was rewritten, but these services could not be restarted (their "
            f"tasks keep the old value until they are): {'; '.join(failures)}"
        )
    return restarted
