"""Settings of the spot Lambda, read from its environment variables.

Every variable, its default and why:

``PAASKIT_CLUSTER`` (required)
    Name of the ECS cluster whose container instances are drained.
``PAASKIT_ASG`` (required)
    Name of the Auto Scaling group the Lambda watches and adjusts.
``PAASKIT_ON_DEMAND_BASE`` (default ``0``)
    The group's configured ``OnDemandBaseCapacity``: nodes that are always
    on-demand. 0 because a rack's apps run several tasks spread over zones and
    survive the loss of a spot node; set 1+ for a floor that spot never touches.
``PAASKIT_ON_DEMAND_PERCENTAGE`` (default ``0``)
    The configured ``OnDemandPercentageAboveBaseCapacity``: the share of the
    rest that is on-demand. 0 (all spot) is where the savings come from; the
    fallback below covers spot shortages.
``PAASKIT_FALLBACK_ON_DEMAND_PERCENTAGE`` (default ``100``)
    The percentage set while spot capacity cannot be had: 100 so that every
    launch the group still needs succeeds as on-demand.
``PAASKIT_FALLBACK_GRACE_SECONDS`` (default ``180``)
    How long the group must stay short of capacity, its spot launches failing,
    before the fallback. A shortage in one zone's pools is the common case, and
    the group then launches in another zone on its own (its default
    ``balanced-best-effort`` zone distribution), usually within a minute or two;
    three minutes lets it, and keeps a shortage in every zone to three minutes
    of missing capacity. It is also the shortest time between two changes of
    the purchase option.
``PAASKIT_SPOT_COOLDOWN_SECONDS`` (default ``900``)
    How long after the last spot-capacity failure the group stays on
    on-demand (and at least how long a fallback lasts), and the minimum gap
    between attempts to go back to spot. Spot shortages in a pool usually last
    minutes to hours; 15 minutes keeps the group from flapping while bounding
    the on-demand premium. Also the wait before another replacement after one
    was given up for a reason other than spot (see ``decision``).
``PAASKIT_REPLACEMENT_TIMEOUT_SECONDS`` (default ``600``)
    How long to wait for the extra spot node launched to replace an on-demand
    node to be in service and registered with ECS (normally 2-4 minutes)
    before giving up and treating it as a spot failure.
``PAASKIT_DRAIN_TIMEOUT_SECONDS`` (default ``600``)
    How long a replaced on-demand node may take to drain. A node is only ever
    terminated once it runs no task; if tasks are still there when this ends
    (one-off tasks do not move on draining; service tasks wait for room), the
    drain is undone: the node is set ACTIVE again and kept. 600 s covers the
    load balancer's default deregistration delay (300 s) plus a node that ECS
    managed scaling launches for tasks that had nowhere to go.
``PAASKIT_REPLACE_ON_DEMAND`` (default ``true``)
    Whether to replace on-demand nodes above the configured share with spot
    nodes once spot is back. ``false`` keeps only the fallback and the drain.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import timedelta

__all__ = [
    "CLUSTER",
    "COOLDOWN",
    "DRAIN_TIMEOUT",
    "FALLBACK_GRACE",
    "FALLBACK_PERCENTAGE",
    "GROUP",
    "ON_DEMAND_BASE",
    "ON_DEMAND_PERCENTAGE",
    "REPLACEMENT_TIMEOUT",
    "REPLACE_ON_DEMAND",
    "RuntimeConfig",
    "Settings",
    "SpotConfigError",
]

CLUSTER = "PAASKIT_CLUSTER"
GROUP = "PAASKIT_ASG"
ON_DEMAND_BASE = "PAASKIT_ON_DEMAND_BASE"
ON_DEMAND_PERCENTAGE = "PAASKIT_ON_DEMAND_PERCENTAGE"
FALLBACK_PERCENTAGE = "PAASKIT_FALLBACK_ON_DEMAND_PERCENTAGE"
FALLBACK_GRACE = "PAASKIT_FALLBACK_GRACE_SECONDS"
COOLDOWN = "PAASKIT_SPOT_COOLDOWN_SECONDS"
REPLACEMENT_TIMEOUT = "PAASKIT_REPLACEMENT_TIMEOUT_SECONDS"
DRAIN_TIMEOUT = "PAASKIT_DRAIN_TIMEOUT_SECONDS"
REPLACE_ON_DEMAND = "PAASKIT_REPLACE_ON_DEMAND"

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off"}


class SpotConfigError(ValueError):
    """An environment variable is missing or malformed; the message names it."""


@dataclass(frozen=True)
class Settings:
    """What the decision needs to know of the configuration (defaults: see the module doc)."""

    on_demand_base: int = 0
    on_demand_percentage: int = 0
    fallback_percentage: int = 100
    fallback_grace: timedelta = timedelta(seconds=180)
    cooldown: timedelta = timedelta(seconds=900)
    replacement_timeout: timedelta = timedelta(seconds=600)
    drain_timeout: timedelta = timedelta(seconds=600)
    replace_on_demand: bool = True

    @property
    def effective_fallback_percentage(self) -> int:
        """The fallback never lowers the on-demand share below the configured one."""
        return max(self.fallback_percentage, self.on_demand_percentage)


@dataclass(frozen=True)
class RuntimeConfig:
    """Everything the Lambda reads from its environment."""

    cluster: str
    group: str
    settings: Settings = field(default_factory=Settings)

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> RuntimeConfig:
        env = os.environ if environ is None else environ
        defaults = Settings()
        settings = Settings(
            on_demand_base=_integer(env, ON_DEMAND_BASE, defaults.on_demand_base, 0, 10_000),
            on_demand_percentage=_integer(
                env, ON_DEMAND_PERCENTAGE, defaults.on_demand_percentage, 0, 100
            ),
            fallback_percentage=_integer(
                env, FALLBACK_PERCENTAGE, defaults.fallback_percentage, 0, 100
            ),
            fallback_grace=_seconds(env, FALLBACK_GRACE, defaults.fallback_grace),
            cooldown=_seconds(env, COOLDOWN, defaults.cooldown),
            replacement_timeout=_seconds(env, REPLACEMENT_TIMEOUT, defaults.replacement_timeout),
            drain_timeout=_seconds(env, DRAIN_TIMEOUT, defaults.drain_timeout),
            replace_on_demand=_boolean(env, REPLACE_ON_DEMAND, defaults.replace_on_demand),
        )
        return cls(cluster=_required(env, CLUSTER), group=_required(env, GROUP), settings=settings)


def _required(env: Mapping[str, str], name: str) -> str:
    value = env.get(name, "").strip()
    if not value:
        raise SpotConfigError(f"environment variable {name} is required and not set")
    return value


def _integer(env: Mapping[str, str], name: str, default: int, low: int, high: int) -> int:
    raw = env.get(name, "").strip()
    if not raw:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise SpotConfigError(f"{name}={raw!r} is not a whole number") from None
    if not low <= value <= high:
        raise SpotConfigError(f"{name}={value} is out of range; allowed: {low} to {high}")
    return value


def _seconds(env: Mapping[str, str], name: str, default: timedelta) -> timedelta:
    default_seconds = int(default.total_seconds())
    return timedelta(seconds=_integer(env, name, default_seconds, 0, 7 * 24 * 3600))


def _boolean(env: Mapping[str, str], name: str, default: bool) -> bool:
    raw = env.get(name, "").strip().lower()
    if not raw:
        return default
    if raw in _TRUE:
        return True
    if raw in _FALSE:
        return False
    raise SpotConfigError(f"{name}={raw!r} is not a boolean; allowed: true or false")
