"""The rollback pin: while `AppArgs.release` is set, the app's services keep that release.

`paaskit rollback` moves the services to an earlier release at once and pins
it (`paaskit-app:release` in the app stack's config, docs/operations.md); the
next `pulumi up` must keep it rather than undo it. So, while the pin is set,
the App reads the pinned release record at deploy time (SSM `GetParameter` of
`/paaskit/<rack>/<app>/release-record:<n>`, the record's version) and points
each service in it at the record's task definition revision:

- new images and task definitions are still built and registered (so the
  manifest's version is ready the moment the pin goes), but not used;
- release commands do not run (nothing new goes live), and no release record
  is written (what runs is the pinned record already);
- timers start the pinned revisions too;
- a service the record does not name (added since) runs the manifest's version;
- every preview and update warns that the app is pinned and how to unpin.

A pin whose record SSM does not have (deleted, or older than the 100 versions
SSM keeps) fails the deploy, naming `paaskit-app:release`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pulumi
from pulumi_aws import _utilities as aws_utilities

from paaskit.config import ConfigError
from paaskit.release.records import RecordError, Release, decode, parameter_name

__all__ = [
    "PIN_KEY",
    "Pin",
    "pin_warning",
    "read_pin",
    "task_definition_arn",
]

GET_PARAMETER = "aws:ssm/getParameter:getParameter"
"""The provider function that reads a record (SSM GetParameter)."""

PIN_KEY = "paaskit-app:release"
"""The app stack's config key of the pin (what `paaskit rollback` writes)."""


@dataclass(frozen=True)
class Pin:
    """A pinned release, as read from its record at deploy time."""

    number: int
    release: pulumi.Output[Release]

    def revisions(self) -> pulumi.Output[dict[str, str]]:
        """Service name -> the `family:revision` it keeps while pinned (the services the record names)."""
        return self.release.apply(
            lambda r: {name: entry.task_definition for name, entry in r.services.items()}
        )


def pin_warning(app: str, number: int) -> str:
    """What every preview and update of a pinned app says."""
    return (
        f"app {app} is pinned to release v{number} ({PIN_KEY}): its services keep that "
        "release's task definitions, and new images and task definitions are built but not "
        "used; release commands do not run. To deploy the manifest's version: "
        f"`pulumi config rm {PIN_KEY}`, then `pulumi up`"
    )


def task_definition_arn(cluster_arn: str, revision: str) -> str:
    """The ARN of task definition `family:revision` in the cluster's account and region.

    A full ARN, as the services' unpinned task definitions are given and as ECS reports
    a deployment's: the deploy check compares them.
    """
    prefix, found, _ = cluster_arn.partition(":cluster/")
    if not found:
        raise ValueError(f"not an ECS cluster ARN: {cluster_arn!r}")
    return f"{prefix}:task-definition/{revision}"


def _missing(app: str, rack: str, number: int, detail: str) -> ConfigError:
    return ConfigError(
        f"{PIN_KEY}: app {app} is pinned to release v{number}, but "
        f"{parameter_name(rack, app)}:{number} {detail}; pin a release `paaskit releases "
        f"{app}` lists, or deploy the manifest's version: `pulumi config rm {PIN_KEY}`"
    )


def _aws_version() -> str:
    """The pulumi-aws version its own functions ask the engine for (so the read uses the
    same provider plugin as every resource), as `aws.ssm.get_parameter` passes it."""
    return str(aws_utilities.get_version())  # type: ignore[no-untyped-call]


def read_pin(parent: pulumi.Resource, *, app: str, rack: pulumi.Input[str], number: int) -> Pin:
    """The release `number` of `app`, read (at deploy time, and during previews) from its record.

    The read fails the deploy with an error naming `paaskit-app:release` when SSM has
    no such version or its value is not a release record.
    """
    rack_name = pulumi.Output.from_input(rack)
    # The SDK's own invoke, awaited here, not `get_parameter_output`: a failed read must
    # fail the deploy with the error below. An Output of the read would fail too, and the
    # SDK reports whichever failed output it awaits first, often the provider's bare error.
    options = pulumi.InvokeOptions.merge(
        pulumi.InvokeOptions(version=_aws_version()), pulumi.InvokeOptions(parent=parent)
    )

    async def read() -> Release:
        name = await rack_name.future()
        try:
            answer: Any = await pulumi.runtime.invoke_async(
                GET_PARAMETER, {"name": f"{parameter_name(str(name), app)}:{number}"}, opts=options
            )
            value = answer["value"]
        except Exception as exc:  # the provider's error, whatever its class
            detail = f"cannot be read ({str(exc).strip()[:300]})"
            raise _missing(app, str(name), number, detail) from None
        try:
            return decode(str(value), number=number)
        except RecordError as exc:
            raise _missing(app, str(name), number, f"is not a release record ({exc})") from None

    return Pin(number=number, release=pulumi.Output.from_input(read()))
