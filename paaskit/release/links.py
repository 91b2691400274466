"""Link secrets: a linked resource's URL and password, written from the database's own secret
or from the AUTH token the runner sets on a cache.

An app's service linked to a database gets `<NAME>_URL` and `<NAME>_PASS` as
ECS secrets from the app's *link secret*, which Pulumi creates without a
value. This module writes it, from the database's secret (RDS's
`{"username", "password"}`) and where the database listens:

    {"url": "postgres://user:pass@host:5432/db", "host": ..., "port": 5432,
     "username": ..., "password": ..., "database": ..., "engine": "postgres"}

(`mysql://...:3306/db` for MySQL and MariaDB, as Convox gives them.) For a
Valkey or Redis OSS cache (`write_cache_link`) there is no source secret: the
runner generates the AUTH token into the link secret, then applies it to the
replication group, which Pulumi made with TLS and no token (anything Pulumi
passes is kept in its state): `ModifyReplicationGroup` with ROTATE (the token
is accepted, AUTH still optional), then, once ROTATE has completed, SET (AUTH
required, only this token). The link secret records how far it got (`auth`:
`new`, `rotated`, `set`), so a retried or timed-out invocation resumes:

    {"url": "rediss://:<token>@host:6379/0", "host": ..., "port": 6379,
     "username": "", "password": <token>, "engine": "valkey", "auth": "set"}

at deploy time (an `aws.lambda_.Invocation` of the runner, before any
release or service reads it) and whenever the database's secret gets a new
current version (EventBridge's `Secret Label Updated`, `AWSCURRENT`), after
which it forces a new deployment of the services that read it: ECS resolves
secrets only when a task starts.

The password never leaves the two secrets: the event holds only ARNs, and the
result (kept in Pulumi's state) says only whether the secret changed.
"""

from __future__ import annotations

import contextlib
import json
import secrets as random
import string
import time
import urllib.parse
from collections.abc import Callable
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

__all__ = [
    "CACHE_ENGINES",
    "LinkFailed",
    "compose_cache_link",
    "compose_link",
    "new_token",
    "restart_services",
    "write_cache_link",
    "write_link",
]

# dj-database-url knows no mariadb:// scheme; Convox gives mysql:// for MariaDB too.
_SCHEMES = {"postgres": "postgres", "mysql": "mysql", "mariadb": "mysql"}

CACHE_ENGINES = ("valkey", "redis")
"""Engines whose link secret holds an AUTH token the runner sets (ElastiCache replication groups)."""

_TOKEN_ALPHABET = string.ascii_letters + string.digits
_TOKEN_LENGTH = 64


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


def write_link(
    event: dict[str, Any], *, secrets: Any, ecs: Any = None, elasticache: Any = None
) -> dict[str, Any]:
    """Write the link secret from its source when it differs; with `restart` (a rotation), then
    force a new deployment of those services. Returns what happened, never a secret value.

    The event: `sourceSecret`, `linkSecret` (ARNs), `host`, `port`, `database`, `engine`
    (`postgres`, `mysql`, `mariadb`), and for a rotation `cluster` and `restart` (service
    names). A cache's (`engine` valkey or redis) goes to `write_cache_link`.
    """
    if event.get("engine") in CACHE_ENGINES:
        if elasticache is None:
            import boto3

            elasticache = boto3.client("elasticache")
        return write_cache_link(event, secrets=secrets, elasticache=elasticache)
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


# --- a cache's AUTH token -------------------------------------------------------------


def new_token() -> str:
    """A new AUTH token: 64 letters and digits, with an upper-case letter, a lower-case letter and
    a digit (ElastiCache takes 16-128 printable characters but not / " @ %; letters and digits
    also need no escaping in a URL)."""
    while True:
        token = "".join(random.choice(_TOKEN_ALPHABET) for _ in range(_TOKEN_LENGTH))
        if (
            any(c.islower() for c in token)
            and any(c.isupper() for c in token)
            and any(c.isdigit() for c in token)
        ):
            return token


def compose_cache_link(engine: str, token: str, host: str, port: int) -> dict[str, Any]:
    """A cache's link secret: `rediss://:<token>@host:port/0` (TLS, AUTH with the token, db 0),
    the URL Convox gives an encrypted Redis, which redis-py, ioredis and redis-client
    (Sidekiq) read as TLS with that password."""
    return {
        "engine": engine,
        "url": f"rediss://:{token}@{host}:{port}/0",
        "host": host,
        "port": port,
        "username": "",
        "password": token,
    }


def _read_link(secrets: Any, link: str) -> dict[str, Any] | None:
    try:
        text = secrets.get_secret_value(SecretId=link)["SecretString"]
    except ClientError as exc:
        # A secret Pulumi just made has no value yet: "can't find the specified secret value".
        if exc.response.get("Error", {}).get("Code") == "ResourceNotFoundException":
            return None
        raise LinkFailed(f"cannot read the link secret {link}: {exc}") from exc
    except BotoCoreError as exc:
        raise LinkFailed(f"cannot read the link secret {link}: {exc}") from exc
    try:
        value = json.loads(text)
    except ValueError:
        return None
    return value if isinstance(value, dict) else None


def _put_link(secrets: Any, link: str, value: dict[str, Any]) -> None:
    try:
        secrets.put_secret_value(SecretId=link, SecretString=json.dumps(value, sort_keys=True))
    except (BotoCoreError, ClientError) as exc:
        raise LinkFailed(f"cannot write the link secret {link}: {exc}") from exc


def _group_state(elasticache: Any, group: str) -> dict[str, Any]:
    """The replication group's status, whether it takes a token, and an AUTH change under way."""
    try:
        found = elasticache.describe_replication_groups(ReplicationGroupId=group)
    except (BotoCoreError, ClientError) as exc:
        raise LinkFailed(f"cannot read the cache {group}: {exc}") from exc
    described = (found.get("ReplicationGroups") or [{}])[0]
    pending = (described.get("PendingModifiedValues") or {}).get("AuthTokenStatus")
    status = str(described.get("Status", "unknown"))
    return {
        "status": status,
        "enabled": bool(described.get("AuthTokenEnabled")),
        "pending": pending,
        "busy": status != "available" or bool(pending),
    }


def _modify(elasticache: Any, group: str, token: str, strategy: str) -> None:
    try:
        elasticache.modify_replication_group(
            ReplicationGroupId=group,
            AuthToken=token,
            AuthTokenUpdateStrategy=strategy,
            ApplyImmediately=True,
        )
    except (BotoCoreError, ClientError) as exc:
        raise LinkFailed(f"cannot {strategy} the AUTH token of the cache {group}: {exc}") from exc


def write_cache_link(
    event: dict[str, Any],
    *,
    secrets: Any,
    elasticache: Any,
    sleep: Callable[[float], None] = time.sleep,
    clock: Callable[[], float] = time.monotonic,
) -> dict[str, Any]:
    """Generate a cache's AUTH token into its link secret and apply it to the replication group.

    In this order, each step recorded in the link secret before it is taken (and taken
    back if the call fails), so a retried or timed-out invocation resumes:

    1. no token yet: a new one, written with the URL (`auth: new`) before the cache is
       touched, so the token applied is always the one the app reads;
    2. `new` (or a later step on a group that takes no token: a replaced cache): ROTATE,
       then wait until the group is available and takes the token: it works, AUTH still
       optional;
    3. `rotated`: SET: only the token works from now on. Not waited for: clients with the
       token connect before and after it completes.

    Services start only after this returns (they depend on the invocation), so none starts
    before the token works. The event: `linkSecret`, `replicationGroup`, `host`, `port`,
    `engine` (valkey, redis), `timeoutSeconds` (how long to wait for ROTATE) and
    `pollSeconds`. Returns what happened, never the token.
    """
    link, group = str(event["linkSecret"]), str(event["replicationGroup"])
    engine, host, port = str(event["engine"]), str(event["host"]), int(event["port"])
    deadline = clock() + float(event.get("timeoutSeconds", 780))
    poll = float(event.get("pollSeconds", 15))

    current = _read_link(secrets, link)
    token = str(current["password"]) if current and current.get("password") else new_token()
    step = str(current.get("auth", "new")) if current and current.get("password") else "new"
    value = {**compose_cache_link(engine, token, host, port), "auth": step}
    written = value != current
    if written:
        _put_link(secrets, link, value)

    def record(new_step: str) -> None:
        value["auth"] = new_step
        _put_link(secrets, link, value)

    def take(strategy: str, before: str, after: str) -> None:
        record(after)
        try:
            _modify(elasticache, group, token, strategy)
        except LinkFailed:
            with contextlib.suppress(LinkFailed):  # the call's own failure is the one to report
                record(before)
            raise

    done: list[str] = []
    while True:
        state = _group_state(elasticache, group)
        if state["busy"]:
            if clock() >= deadline:
                raise LinkFailed(
                    f"the cache {group} is still {state['status']}"
                    + (f" (AUTH token {state['pending'].lower()})" if state["pending"] else "")
                    + "; run `pulumi up` again: the deploy runner resumes where it stopped "
                    f"(link secret at step {value['auth']!r})"
                )
            sleep(poll)
            continue
        if value["auth"] in ("rotated", "set") and not state["enabled"] and "ROTATE" not in done:
            # A replaced cache, or a ROTATE that never happened: the group takes no token yet.
            value["auth"] = "new"
        if value["auth"] == "new":
            take("ROTATE", "new", "rotated")
            done.append("ROTATE")
            continue
        if value["auth"] == "rotated":
            if not state["enabled"]:
                # ROTATE was just asked for and is not visible yet.
                if clock() >= deadline:
                    raise LinkFailed(
                        f"the cache {group} has not applied the AUTH token (ROTATE) yet; run "
                        "`pulumi up` again: the deploy runner resumes where it stopped"
                    )
                sleep(poll)
                continue
            take("SET", "rotated", "set")
            done.append("SET")
        break
    return {
        "status": "written" if written or done else "unchanged",
        "resource": event.get("resource"),
        "linkSecret": link,
        "auth": value["auth"],
        "applied": done,
    }
