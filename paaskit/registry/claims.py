"""Claims of app names, hosts and listener-rule priorities, as SSM parameters created without overwrite.

Under `/paaskit/<rack>/claims/`:

- `apps/<app>`: the app's own record: the stack that owns it, and the hosts
  and priorities it holds (the registry's source of truth when releasing);
- `hosts/<host>`: which app and service serve a host (`*.` is written `_.`,
  since SSM names take no `*`);
- `priorities/<n>`: which app and service hold priority `n` on the rack's
  listener.

PutParameter without `Overwrite` is atomic: of two apps claiming the same
name at once, one gets `ParameterAlreadyExists` and reads who holds it. An
owner is a Pulumi stack (`org/project/stack`): the same app redeployed from
its own stack finds its claims and keeps them; another stack is refused.
What a failed call claimed is released before the error is raised, so a
refused deploy leaves nothing behind.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import boto3
from botocore.exceptions import ClientError

__all__ = [
    "MAX_PRIORITY",
    "ClaimError",
    "Registry",
    "host_key",
]

MAX_PRIORITY = 50_000
"""The highest listener-rule priority AWS accepts."""

_ATTEMPTS = 1000


class ClaimError(Exception):
    """A claim is held by another app; the message names both (shown by `pulumi up`)."""


def host_key(host: str) -> str:
    """A host as an SSM name segment: lowercase, `*.` written `_.` (SSM names take no `*`)."""
    return host.lower().replace("*", "_")


def _is_taken(error: ClientError) -> bool:
    return bool(error.response.get("Error", {}).get("Code") == "ParameterAlreadyExists")


def _is_missing(error: ClientError) -> bool:
    return bool(error.response.get("Error", {}).get("Code") == "ParameterNotFound")


@dataclass
class Registry:
    """The claims of one rack, kept in SSM Parameter Store of the rack's account and region."""

    rack: str
    ssm: Any = None
    made: list[str] = field(default_factory=list)
    """Parameters this call created, released again if it fails."""

    def __post_init__(self) -> None:
        self.ssm = self.ssm or boto3.client("ssm")
        self.prefix = f"/paaskit/{self.rack}/claims"

    # --- parameters ------------------------------------------------------------------

    def _read(self, name: str) -> dict[str, Any] | None:
        try:
            value = self.ssm.get_parameter(Name=name)["Parameter"]["Value"]
        except ClientError as error:
            if _is_missing(error):
                return None
            raise
        data = json.loads(value)
        return data if isinstance(data, dict) else None

    def _write(self, name: str, value: Mapping[str, Any], *, overwrite: bool) -> None:
        self.ssm.put_parameter(
            Name=name,
            Value=json.dumps(value, sort_keys=True),
            Type="String",
            Tier="Standard",
            Overwrite=overwrite,
            **(
                {}
                if overwrite
                else {"Description": f"paaskit: a claim on rack {self.rack} (do not edit)"}
            ),
        )

    def _delete(self, name: str) -> None:
        try:
            self.ssm.delete_parameter(Name=name)
        except ClientError as error:
            if not _is_missing(error):
                raise

    def _claim(
        self,
        name: str,
        value: Mapping[str, Any],
        mine: Callable[[Mapping[str, Any]], bool],
    ) -> dict[str, Any] | None:
        """Create `name` holding `value`; None if made (or already ours), else who holds it."""
        try:
            self._write(name, value, overwrite=False)
        except ClientError as error:
            if not _is_taken(error):
                raise
            holder = self._read(name)
            if holder is None:  # released between our two calls: try once more
                self._write(name, value, overwrite=False)
                self.made.append(name)
                return None
            if not mine(holder):
                return holder
            if any(holder.get(k) != v for k, v in value.items()):
                self._write(name, {**holder, **value}, overwrite=True)
            return None
        self.made.append(name)
        return None

    def _release(self, name: str, mine: Callable[[Mapping[str, Any]], bool]) -> None:
        holder = self._read(name)
        if holder is not None and mine(holder):
            self._delete(name)

    # --- what the handler calls ------------------------------------------------------

    def claim(
        self,
        app: str,
        owner: str,
        hosts: Mapping[str, str],
        routes: Mapping[str, int],
        *,
        max_rules: int | None = None,
    ) -> dict[str, Any]:
        """Claim the app's name, its hosts (host -> service) and a priority per route
        (service -> the priority it hashes to); release what it no longer asks for.

        Returns `{"app", "hosts", "priorities"}`: the priority each route was
        given, the hashed one unless another app holds it (then the next free
        one). Raises `ClaimError` naming both apps when a name or host is taken,
        and when the rack's listener would hold more than `max_rules` rules.
        """
        self.made = []
        try:
            return self._claim_all(app, owner, dict(hosts), dict(routes), max_rules)
        except BaseException:
            for name in reversed(self.made):
                self._delete(name)
            raise

    def _claim_all(
        self,
        app: str,
        owner: str,
        hosts: dict[str, str],
        routes: dict[str, int],
        max_rules: int | None,
    ) -> dict[str, Any]:
        def ours(holder: Mapping[str, Any]) -> bool:
            return holder.get("app") == app and holder.get("owner") == owner

        record_name = f"{self.prefix}/apps/{app}"
        record = self._read(record_name)
        if record is not None and record.get("owner") != owner:
            raise ClaimError(
                f"app name {app!r} on rack {self.rack!r} is taken: stack {record.get('owner')} "
                f"deployed an app of that name, and this is stack {owner}; name this app "
                "otherwise (paaskit-app:name), or destroy the other first"
            )
        if record is None:
            record = {"app": app, "owner": owner, "hosts": {}, "priorities": {}}
            holder = self._claim(record_name, record, ours)
            if holder is not None:
                raise ClaimError(
                    f"app name {app!r} on rack {self.rack!r} is taken by stack "
                    f"{holder.get('owner')} (this is stack {owner}); name this app otherwise"
                )

        for host, service in sorted(hosts.items()):
            holder = self._claim(
                f"{self.prefix}/hosts/{host_key(host)}",
                {"app": app, "service": service, "owner": owner, "host": host},
                ours,
            )
            if holder is not None:
                raise ClaimError(
                    f"host {host!r} is served by app {holder.get('app')!r} (service "
                    f"{holder.get('service')!r}, stack {holder.get('owner')}) on rack "
                    f"{self.rack!r}, so app {app!r} (service {service!r}) cannot serve it; "
                    f"remove it from services.{service}.domain, or from the other app first"
                )

        held: dict[str, int] = {k: int(v) for k, v in (record.get("priorities") or {}).items()}
        if max_rules is not None:
            self._check_quota(app, routes, held, max_rules)
        granted: dict[str, int] = {}
        for service, wanted in sorted(routes.items()):
            current = held.get(service)
            if current is not None:
                holder = self._read(f"{self.prefix}/priorities/{current}")
                if holder is not None and ours(holder) and holder.get("service") == service:
                    granted[service] = current
                    continue
            granted[service] = self._allocate(app, owner, service, int(wanted))

        for host in sorted(set(record.get("hosts") or {}) - set(hosts)):
            self._release(f"{self.prefix}/hosts/{host_key(host)}", ours)
        for service, priority in sorted(held.items()):
            if granted.get(service) != priority:
                self._release(f"{self.prefix}/priorities/{priority}", ours)

        self._write(
            record_name,
            {
                "app": app,
                "owner": owner,
                "hosts": dict(sorted(hosts.items())),
                "priorities": granted,
            },
            overwrite=True,
        )
        return {"app": app, "hosts": sorted(hosts), "priorities": granted}

    def _check_quota(
        self, app: str, routes: Mapping[str, int], held: Mapping[str, int], max_rules: int
    ) -> None:
        """Refuse a route that would make the rack's listener hold more rules than AWS allows."""
        new = [s for s in routes if s not in held]
        if not new:
            return
        taken = 0
        pages = self.ssm.get_paginator("get_parameters_by_path").paginate(
            Path=f"{self.prefix}/priorities"
        )
        for page in pages:
            taken += len(page.get("Parameters", []))
        leaving = len([s for s in held if s not in routes])
        if taken - leaving + len(new) > max_rules:
            raise ClaimError(
                f"rack {self.rack!r} holds {taken} listener rules of the {max_rules} its load "
                f"balancer may have (AWS's quota, maxRules): app {app!r} needs {len(new)} more "
                f"({', '.join(sorted(new))}); request a quota increase and raise maxRules"
            )

    def _allocate(self, app: str, owner: str, service: str, wanted: int) -> int:
        """The priority `wanted`, or the next free one after it (wrapping at AWS's maximum)."""

        def same_route(holder: Mapping[str, Any]) -> bool:
            return (
                holder.get("app") == app
                and holder.get("owner") == owner
                and holder.get("service") == service
            )

        candidate = min(max(wanted, 1), MAX_PRIORITY)
        for _ in range(_ATTEMPTS):
            holder = self._claim(
                f"{self.prefix}/priorities/{candidate}",
                {"app": app, "service": service, "owner": owner},
                same_route,
            )
            if holder is None:
                return candidate
            candidate = candidate % MAX_PRIORITY + 1
        raise ClaimError(
            f"no free listener-rule priority near {wanted} on rack {self.rack!r} for app "
            f"{app!r} (service {service!r}) after {_ATTEMPTS} tries"
        )

    def release(self, app: str, owner: str) -> dict[str, Any]:
        """Release every claim of `app` that `owner` holds; another stack's are left alone."""
        record_name = f"{self.prefix}/apps/{app}"
        record = self._read(record_name)
        if record is None or record.get("owner") != owner:
            return {"app": app, "released": []}

        def ours(holder: Mapping[str, Any]) -> bool:
            return holder.get("app") == app and holder.get("owner") == owner

        released = []
        for host in sorted(record.get("hosts") or {}):
            self._release(f"{self.prefix}/hosts/{host_key(host)}", ours)
            released.append(f"host {host}")
        for service, priority in sorted((record.get("priorities") or {}).items()):
            self._release(f"{self.prefix}/priorities/{priority}", ours)
            released.append(f"priority {priority} ({service})")
        self._delete(record_name)
        released.append(f"app {app}")
        return {"app": app, "released": released}
