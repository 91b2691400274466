"""The deploy runner's `record` action: write the release a deploy put live.

The App invokes it once per deploy, after every service's deploy check
(`verify`) passed, so a record says what really runs: each service's task
definition revision and image, and the result of its release command
(`paaskit.release.records` has the format and where it is kept). `paaskit
releases` reads the history back; `paaskit rollback` goes back to one.

The event (built by the component):

    {"action": "record", "rack": "dev", "app": "shop",
     "services": {"web": {"taskDefinition": "<task definition ARN>",
                          "image": "<repository>@sha256:...",
                          "release": {"command": ["python", "manage.py", "migrate"],
                                      "result": "<the release invocation's result, as JSON>"}}}}

`release` is absent for a service without a release command; its `result` is
what the `release` action returned (the invocation's output), or null when
pulumi-aws has none to give.

Decisions:

- Written once: a retried invocation (the AWS SDK may send a long Invoke
  again, terraform-provider-aws#45773) finds the newest record already says
  what runs, and writes nothing. So does a deploy that changed nothing a
  record holds.
- A record too large for an SSM parameter (about 39 services) is logged and
  skipped: the deploy itself succeeded and must not fail on every `pulumi up`
  for a history it can never keep; `paaskit releases` then shows no record of
  it, and `paaskit rollback` cannot return to it.
- Any other failure (SSM refused, throttled) fails the invocation, naming the
  app: the services already run the new version, and the next `pulumi up`
  invokes the action again and writes the record (nothing else is redone).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from . import records
from .records import RecordTooLarge, Release, ReleaseCommand, ServiceRelease
from .tasks import task_id

__all__ = [
    "RecordFailed",
    "record_release",
    "release_of",
]


class RecordFailed(Exception):
    """The release record could not be written; the message names the app (shown by `pulumi up`)."""


def _result(value: Any) -> Mapping[str, Any]:
    """The release action's return value, from the invocation's JSON result (or already parsed)."""
    if isinstance(value, str) and value.strip():
        try:
            value = json.loads(value)
        except ValueError:
            return {}
    return value if isinstance(value, Mapping) else {}


def _release_command(entry: Any) -> ReleaseCommand | None:
    if not isinstance(entry, Mapping):
        return None
    result = _result(entry.get("result"))
    exit_code = result.get("exitCode")
    task = result.get("task") or (task_id(result["taskArn"]) if result.get("taskArn") else None)
    return ReleaseCommand(
        command=tuple(str(word) for word in entry.get("command") or result.get("command") or ()),
        exit_code=int(exit_code) if exit_code is not None else None,
        task=str(task) if task else None,
    )


def release_of(event: Mapping[str, Any], *, now: datetime | None = None) -> Release:
    """The release a `record` event describes (not yet numbered)."""
    services = {
        str(name): ServiceRelease(
            task_definition=records.short_task_definition(str(entry["taskDefinition"])),
            image=str(entry.get("image") or ""),
            release=_release_command(entry.get("release")),
        )
        for name, entry in dict(event["services"]).items()
    }
    return Release(services=services, time=now or datetime.now(UTC))


def _same(newest: Release | None, release: Release) -> bool:
    """Whether the newest record already says what runs (release results and time aside)."""
    if newest is None:
        return False

    def running(r: Release) -> dict[str, tuple[str, str]]:
        return {name: (s.task_definition, s.image) for name, s in r.services.items()}

    return running(newest) == running(release)


def record_release(
    event: Mapping[str, Any], *, ssm: Any, now: datetime | None = None
) -> dict[str, Any]:
    """Write the deploy's release record (once); return what was done."""
    rack, app = str(event["rack"]), str(event["app"])
    release = release_of(event, now=now)
    name = records.parameter_name(rack, app)
    try:
        newest = records.latest(ssm, rack=rack, app=app)
        if _same(newest, release):
            assert newest is not None
            return {"status": "unchanged", "release": newest.number, "parameter": name}
        number = records.write(ssm, rack=rack, app=app, release=release)
    except RecordTooLarge as exc:
        return {"status": "skipped", "reason": f"app {app}: {exc}", "parameter": name}
    except (BotoCoreError, ClientError) as exc:
        raise RecordFailed(
            f"app {app} was deployed, but its release record could not be written to {name} "
            f"({exc}); `paaskit releases` will not show this deploy until `pulumi up` runs "
            "again, which writes it"
        ) from exc
    return {"status": "recorded", "release": number, "parameter": name}
