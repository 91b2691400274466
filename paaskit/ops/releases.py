"""`paaskit releases APP`: the deploy history, and which release is live.

The history is the app's release records (`paaskit.release.records`), newest
first. A release is live when the app's services run exactly its task
definitions: every service of the release on the release's revision, and no
service outside it. What the services run is each ECS service's current task
definition (ECS moves it back itself when its circuit breaker rolls a
deployment back).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from paaskit.release import records
from paaskit.release.records import Release

from .aws import Aws
from .discovery import App
from .errors import OpsError
from .fields import iso, short_task_definition

__all__ = ["history", "live_release", "parse_release", "release_json", "releases", "running"]


def running(app: App) -> dict[str, str]:
    """Service name -> the `family:revision` its ECS service runs now."""
    return {
        name: short_task_definition(description.get("taskDefinition", ""))
        for name, description in app.described.items()
    }


def history(aws: Aws, app: App) -> list[Release]:
    """The app's releases, newest first."""
    return records.history(aws.client("ssm"), rack=app.rack.name, app=app.name)


def live_release(history: list[Release], now_running: Mapping[str, str]) -> Release | None:
    """The newest release whose task definitions are exactly what runs now, if any."""
    for release in history:
        recorded = {name: s.task_definition for name, s in release.services.items()}
        if recorded == dict(now_running):
            return release
    return None


def release_of_task_definition(
    history: list[Release], service: str, task_definition: str
) -> int | None:
    """The newest release in which `service` ran `task_definition` (`family:revision`)."""
    for release in history:
        entry = release.services.get(service)
        if entry is not None and entry.task_definition == task_definition:
            return release.number
    return None


def parse_release(text: str) -> int:
    """A release as users write it (`12` or `v12`) -> 12; `OpsError` otherwise."""
    digits = text[1:] if text[:1] in ("v", "V") else text
    if not digits.isdigit() or int(digits) < 1:
        raise OpsError(f"release {text!r}: expected a release number such as v12 or 12")
    return int(digits)


def release_json(release: Release, *, live: bool) -> dict[str, Any]:
    """One release as `paaskit releases --json` shows it."""
    return {
        "id": release.number,
        "time": iso(release.time),
        "kind": release.kind,
        "rollbackOf": release.rollback_of,
        "live": live,
        "services": {
            name: {
                "taskDefinition": entry.task_definition,
                "image": entry.image,
                "imageDigest": entry.image_digest,
                "release": entry.release.to_json() if entry.release else None,
            }
            for name, entry in sorted(release.services.items())
        },
    }


def releases(aws: Aws, app: App) -> dict[str, Any]:
    """The data of `paaskit releases APP`."""
    past = history(aws, app)
    now_running = running(app)
    live = live_release(past, now_running)
    return {
        "app": app.name,
        "rack": app.rack.name,
        "live": live.number if live else None,
        "running": dict(sorted(now_running.items())),
        "releases": [release_json(r, live=r is live) for r in past],
    }
