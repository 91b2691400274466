"""The tag contract: the tags by which paaskit's resources are found after a deploy.

Every AWS resource paaskit creates for a rack carries `paaskit:rack=<rack>`;
every resource of an app also `paaskit:app=<app>`; every resource that belongs
to one of the app's services also `paaskit:service=<service>`. `paaskit`'s
day-2 verbs (`apps`, `ps`, `logs`, `run`...) find everything through these
tags, and so may users' own tooling: they are a public contract, extended but
never renamed. `paaskit:component` names the paaskit component that made the
resource (`rack-cluster`), for people reading the console.

Standard library only: the day-2 operations and the Lambda code read it too.
"""

from __future__ import annotations

__all__ = ["APP_TAG", "COMPONENT_TAG", "RACK_TAG", "SERVICE_TAG", "WAIVE_TAG_PREFIX"]

RACK_TAG = "paaskit:rack"
"""The rack a resource belongs to: on every resource of a rack and of the apps on it."""

APP_TAG = "paaskit:app"
"""The app a resource belongs to: on every resource of an app."""

SERVICE_TAG = "paaskit:service"
"""The service of an app a resource belongs to (task definitions, ECS services, target groups...)."""

COMPONENT_TAG = "paaskit:component"
"""The paaskit component that made the resource (its name, such as `rack-cluster`)."""

WAIVE_TAG_PREFIX = "paaskit:waive:"
"""`paaskit:waive:<rule> = <reason>` accepts a policy finding on the resource it tags."""
