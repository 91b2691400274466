"""`paaskit apps [--rack R]`: the apps on the region's racks, their services and releases."""

from __future__ import annotations

from typing import Any

from .aws import Aws
from .discovery import App, find_apps, select_racks
from .fields import short_task_definition
from .releases import history, live_release, running

__all__ = ["app_summary", "apps"]


def _primary(description: dict[str, Any]) -> dict[str, Any]:
    return next((d for d in description.get("deployments", []) if d.get("status") == "PRIMARY"), {})


def app_summary(aws: Aws, app: App) -> dict[str, Any]:
    """One app: its services' task counts and rollout, its latest and live releases."""
    past = history(aws, app)
    live = live_release(past, running(app))
    services = []
    for name, description in app.described.items():
        services.append(
            {
                "name": name,
                "desired": description.get("desiredCount", 0),
                "running": description.get("runningCount", 0),
                "pending": description.get("pendingCount", 0),
                "taskDefinition": short_task_definition(description.get("taskDefinition", "")),
                "rollout": _primary(description).get("rolloutState"),
            }
        )
    return {
        "name": app.name,
        "rack": app.rack.name,
        "release": {
            "latest": past[0].number if past else None,
            "live": live.number if live else None,
        },
        "services": services,
    }


def apps(aws: Aws, rack: str | None = None) -> dict[str, Any]:
    """The data of `paaskit apps`."""
    racks = select_racks(aws, rack)
    return {
        "region": aws.region,
        "racks": [r.name for r in racks],
        "apps": [app_summary(aws, app) for app in find_apps(aws, racks)],
    }
