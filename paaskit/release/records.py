"""Release records: what each deploy (or rollback) of an app put live, kept in SSM.

A release is the set of task definition revisions an app's services run after
a deploy, with their images and the release commands' results. The app's
deploy runner writes one record at the end of each successful deploy;
`paaskit rollback` writes one when it moves the services; `paaskit releases`
and `paaskit apps` read them back. Standard library and boto3 only: the
writer runs in the release function.

Where: one SSM String parameter per app, `/paaskit/<rack>/<app>/release-record`,
tagged `paaskit:rack` and `paaskit:app`; each record is one parameter version,
so the parameter's version number is the release number (`v12` is version 12),
and any past release is read with `GetParameter(Name="<name>:12")`, which the
App component can do too when it honours a rollback pin. Why this shape:

- One PutParameter per deploy is atomic: a record is whole or absent, never
  half-written across several parameters.
- The history is one paginated call away (`GetParameterHistory`, 50 a page),
  and SSM keeps the 100 newest versions, deleting the oldest as a new one is
  written (as long as no version carries a label: paaskit never labels them).
  100 releases reach back further than the image retention window, beyond
  which a rollback cannot go anyway.
- The name ends in `release-record`, with a dash, so it can never be one of
  the app's settings (`/paaskit/<rack>/<app>/<KEY>`, KEY a variable name).
- Size: the value is compact JSON, about 210 bytes a service (320 with a
  release command). The parameter is written with the `Intelligent-Tiering`
  tier: it stays a free standard parameter up to 4 KB (about 19 services) and
  SSM makes it advanced (8 KB, about 39 services, $0.05 a month) only when a
  record needs it. A record over 8 KB is refused with `RecordTooLarge` before
  anything is written. (The convox.yml files we measured have one or two
  services.)
- Version numbers are never reused, even after a version expires; deleting the
  parameter (see the README's teardown) starts again at 1.

The record (schema 1), as stored:

    {"schema": 1, "time": "2026-05-01T12:00:00Z", "kind": "deploy",
     "services": {"web": {"taskDefinition": "dev-shop-web:12",
                          "image": "<account>.dkr.ecr.<region>.amazonaws.com/<repo>@sha256:...",
                          "release": {"command": ["python", "manage.py", "migrate"],
                                      "exitCode": 0, "task": "<task id>"}}},
     "rollbackOf": null}

`kind` is `deploy` or `rollback` (then `rollbackOf` is the release number
whose task definitions were restored); a service without a release command
has no `release`.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Literal

__all__ = [
    "MAX_BYTES",
    "PARAMETER_SUFFIX",
    "SCHEMA",
    "RecordError",
    "RecordTooLarge",
    "Release",
    "ReleaseCommand",
    "ServiceRelease",
    "decode",
    "encode",
    "history",
    "latest",
    "parameter_name",
    "read",
    "short_task_definition",
    "write",
]

SCHEMA = 1
PARAMETER_SUFFIX = "release-record"
MAX_BYTES = 8192
"""SSM's limit for an advanced parameter's value (standard: 4096)."""

_HISTORY_PAGE = 50  # GetParameterHistory's MaxResults ceiling
_TASK_DEFINITION_ARN = re.compile(r"^arn:[^:]+:ecs:[^:]*:[^:]*:task-definition/(.+:\d+)$")

Kind = Literal["deploy", "rollback"]


class RecordError(Exception):
    """A release record cannot be written or read; the message names the app."""


class RecordTooLarge(RecordError):
    """The record exceeds what one SSM parameter value may hold."""


@dataclass(frozen=True)
class ReleaseCommand:
    """The result of a service's release command in a deploy."""

    command: tuple[str, ...]
    exit_code: int | None
    task: str | None
    """The id of the release task."""

    def to_json(self) -> dict[str, Any]:
        return {"command": list(self.command), "exitCode": self.exit_code, "task": self.task}


@dataclass(frozen=True)
class ServiceRelease:
    """What one service runs in a release."""

    task_definition: str
    """`family:revision` (an ARN is shortened to it)."""
    image: str
    """The container's image as the task definition has it (`repo@sha256:...` for built images)."""
    release: ReleaseCommand | None = None

    @property
    def image_digest(self) -> str | None:
        """`sha256:...` when the image is pinned by digest."""
        _, _, digest = self.image.partition("@")
        return digest or None

    def to_json(self) -> dict[str, Any]:
        data: dict[str, Any] = {"taskDefinition": self.task_definition, "image": self.image}
        if self.release is not None:
            data["release"] = self.release.to_json()
        return data


@dataclass(frozen=True)
class Release:
    """One release of an app: a version of its record parameter."""

    services: Mapping[str, ServiceRelease]
    time: datetime
    kind: Kind = "deploy"
    rollback_of: int | None = None
    number: int | None = field(default=None, compare=False)
    """The release number (the parameter version); None until written."""

    def to_json(self) -> dict[str, Any]:
        """The record as stored (without its number, which SSM assigns)."""
        return {
            "schema": SCHEMA,
            "time": self.time.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
            "kind": self.kind,
            "services": {name: self.services[name].to_json() for name in sorted(self.services)},
            "rollbackOf": self.rollback_of,
        }


def parameter_name(rack: str, app: str) -> str:
    """The SSM parameter that holds `app`'s release records on `rack`."""
    return f"/paaskit/{rack}/{app}/{PARAMETER_SUFFIX}"


def short_task_definition(reference: str) -> str:
    """`family:revision` from a task definition ARN (or the reference itself)."""
    match = _TASK_DEFINITION_ARN.match(reference)
    return match.group(1) if match else reference


def encode(release: Release) -> str:
    """The record's stored form: compact JSON, checked against SSM's size limit."""
    text = json.dumps(release.to_json(), separators=(",", ":"), sort_keys=True)
    size = len(text.encode())
    if size > MAX_BYTES:
        raise RecordTooLarge(
            f"the release record of {len(release.services)} services is {size} bytes; "
            f"an SSM parameter holds at most {MAX_BYTES}"
        )
    return text


def decode(
    text: str, *, number: int | None = None, fallback_time: datetime | None = None
) -> Release:
    """A record read back; raises `RecordError` for a value that is not one."""
    try:
        data = json.loads(text)
        services = {
            name: ServiceRelease(
                task_definition=str(entry["taskDefinition"]),
                image=str(entry.get("image", "")),
                release=_release_command(entry.get("release")),
            )
            for name, entry in data["services"].items()
        }
        stamp = data.get("time")
        when = (
            datetime.strptime(stamp, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)
            if stamp
            else (fallback_time or datetime.fromtimestamp(0, UTC))
        )
        kind = data.get("kind", "deploy")
        if kind not in ("deploy", "rollback"):
            raise ValueError(f"unknown kind {kind!r}")
        rollback_of = data.get("rollbackOf")
        return Release(
            services=services,
            time=when,
            kind=kind,
            rollback_of=int(rollback_of) if rollback_of is not None else None,
            number=number,
        )
    except (ValueError, KeyError, TypeError, AttributeError) as exc:
        raise RecordError(f"not a release record ({exc})") from None


def _release_command(data: Any) -> ReleaseCommand | None:
    if not data:
        return None
    exit_code = data.get("exitCode")
    return ReleaseCommand(
        command=tuple(str(a) for a in data.get("command") or ()),
        exit_code=int(exit_code) if exit_code is not None else None,
        task=data.get("task"),
    )


def write(ssm: Any, *, rack: str, app: str, release: Release) -> int:
    """Record `release` as the newest release of `app`; return its number.

    The first write creates the parameter with its tags (PutParameter refuses
    tags together with Overwrite); later ones add a version.
    """
    name = parameter_name(rack, app)
    value = encode(release)
    common = {"Name": name, "Value": value, "Type": "String", "Tier": "Intelligent-Tiering"}
    try:
        created = ssm.put_parameter(
            **common,
            Description=f"paaskit: release records of app {app} on rack {rack}",
            Tags=[{"Key": "paaskit:rack", "Value": rack}, {"Key": "paaskit:app", "Value": app}],
        )
        return int(created["Version"])
    except ssm.exceptions.ParameterAlreadyExists:
        pass
    return int(ssm.put_parameter(**common, Overwrite=True)["Version"])


def history(ssm: Any, *, rack: str, app: str) -> list[Release]:
    """Every release SSM still keeps for `app`, newest first (empty when none was recorded).

    A version that is not a record (written by hand) is skipped.
    """
    return sorted(_versions(ssm, parameter_name(rack, app)), key=lambda r: -(r.number or 0))


def _versions(ssm: Any, name: str) -> Iterator[Release]:
    token: str | None = None
    while True:
        request: dict[str, Any] = {"Name": name, "MaxResults": _HISTORY_PAGE}
        if token:
            request["NextToken"] = token
        try:
            page = ssm.get_parameter_history(**request)
        except ssm.exceptions.ParameterNotFound:
            return
        for version in page.get("Parameters", []):
            try:
                yield decode(
                    version["Value"],
                    number=int(version["Version"]),
                    fallback_time=version.get("LastModifiedDate"),
                )
            except RecordError:
                continue
        token = page.get("NextToken")
        if not token:
            return


def read(ssm: Any, *, rack: str, app: str, number: int) -> Release:
    """Release `number` of `app`; raises `RecordError` when SSM no longer has it."""
    name = parameter_name(rack, app)
    try:
        found = ssm.get_parameter(Name=f"{name}:{number}")["Parameter"]
    except (ssm.exceptions.ParameterNotFound, ssm.exceptions.ParameterVersionNotFound):
        raise RecordError(f"app {app} has no release v{number} (SSM keeps the last 100)") from None
    return decode(found["Value"], number=number, fallback_time=found.get("LastModifiedDate"))


def latest(ssm: Any, *, rack: str, app: str) -> Release | None:
    """The newest release of `app`, or None when none was recorded (or the newest version is
    not a record: written by hand)."""
    try:
        found = ssm.get_parameter(Name=parameter_name(rack, app))["Parameter"]
    except ssm.exceptions.ParameterNotFound:
        return None
    try:
        return decode(
            found["Value"],
            number=int(found["Version"]),
            fallback_time=found.get("LastModifiedDate"),
        )
    except RecordError:
        return None
