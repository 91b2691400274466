"""The on-demand fallback and spot replacement decision: a pure function of the group's state.

``decide(group, activities, settings, now)`` reads nothing and changes nothing;
``paaskit.spot.aws`` reads the state and applies the ``Decision``. Every
invocation recomputes from what it observes, and every action is an absolute
value (a percentage, a desired capacity) or is guarded on the observed state,
so running it again on the same state repeats nothing. Two invocations must
not run *at once* (both would act on the same observation): the deployment
serialises them (``paaskit.spot.wiring``).

**Fallback.** An ASG with a mixed instances policy keeps retrying spot when
spot capacity cannot be had; it never falls back to on-demand. The decision
raises ``OnDemandPercentageAboveBaseCapacity`` to the fallback value (100) when
the group has been *short* (fewer nodes in service or launching than desired)
with spot-capacity failures (``is_spot_capacity_failure``) for
``settings.fallback_grace``: a shortage in one zone's pools is usually over
within that time, because the group tries another zone by itself. The fallback
lasts at least ``settings.cooldown``, and until no spot-capacity failure has
been seen for as long; then the configured distribution is restored. Lowering
the percentage removes no node: the extra on-demand ones stay until replaced.
So the purchase option changes at most once per ``fallback_grace``, and a
fallback lasts at least a cool-down.

**Replacement, one node at a time, launch before removing, never a task
killed.** When the group is settled (every node in service and healthy, as
many as desired, none draining), not in fallback, no spot failure within the
cool-down, no recent replacement given up (``SpotState.replace_after``), and
it has more on-demand nodes than the configured distribution asks for, the
decision:

1. raises the desired capacity by one (room permitting: ``desired < max``) and
   records which on-demand node it will replace; with the configured (spot)
   distribution the ASG launches that extra node as spot. (A group may hold
   more nodes than desired, every one running tasks: a scale-in it cannot make,
   managed termination protection protecting them all, until one empties. The
   extra node is then counted from the nodes it holds: desired = nodes + 1.)
2. once one more spot node than before is in service and ACTIVE in ECS, the
   desired capacity is still the recorded one plus one (nobody else changed it
   meanwhile), and the other ACTIVE nodes have room for what the old node's
   tasks reserve (CPU and memory), sets the old node's ECS container instance
   to DRAINING: ECS starts its service tasks elsewhere first, then stops them;
3. once the old node runs no task, terminates it, decrementing the desired
   capacity only if the group counts it (desired above the other nodes) and
   the minimum allows; otherwise the group keeps its desired capacity and
   launches (spot) in its place. A node that still runs tasks after
   ``drain_timeout`` is never terminated: it is set ACTIVE again and kept.

The replacement is given up, handing back the extra capacity (if the desired
capacity is still exactly the recorded one plus one) when it is surplus: when
the old node leaves the group; when a spot failure is seen during the launch,
or no spot node came within ``replacement_timeout`` (both count as spot
failures: the next attempt waits a cool-down). It is given up *keeping* the
desired capacity, which ECS managed scaling then owns, and the next attempt
waits ``cooldown``: when someone else changed the desired capacity (ECS
managed scaling, an operator: the extra node may be gone, or needed, so
nothing is drained on an observation that no longer holds); when the old node
is no longer above the configured share; when no room came for its tasks in
``replacement_timeout``; when the drain timed out; when someone set the old
node ACTIVE again.

**ECS managed scaling and termination protection.** ECS owns the desired
capacity and sets it in absolute values: it may take the extra node away
(scale-in, after 15 minutes below target, or at once when its scale-in alarm
already fires), or merge its own scale-out with the +1. Hence the checks of
step 2 (desired still ours, room on the others) and of step 3 (only an empty
node is terminated; the desired capacity is lowered only by the node removed).
Managed termination protection protects nodes that run tasks; step 3 lifts it
from the drained node before terminating it.

**Limits.** One node is replaced per ~3 invocations (launch, drain, remove), so
N extra on-demand nodes take roughly N x (launch + drain) minutes. A group at
its max size cannot launch the extra node, so nothing is replaced (logged).
The state that must survive between invocations is kept in tags on the group
(``STATE_TAGS``); if they are lost, the worst case is one spare node until ECS
managed scaling removes it.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import Any, Literal

from paaskit.spot.config import Settings

__all__ = [
    "ON_DEMAND",
    "SPOT",
    "SPOT_CAPACITY_MARKERS",
    "STATE_TAGS",
    "TAG_FALLBACK_SINCE",
    "TAG_LAST_SPOT_FAILURE",
    "TAG_REPLACEMENT",
    "TAG_REPLACE_AFTER",
    "TAG_SHORT_SINCE",
    "Activity",
    "Decision",
    "Distribution",
    "Group",
    "Lifecycle",
    "Node",
    "Replacement",
    "SpotState",
    "decide",
    "is_spot_capacity_failure",
    "merge_activities",
    "normalise",
    "state_from_tags",
    "state_to_tags",
]

Lifecycle = Literal["spot", "on-demand", "other"]

SPOT: Lifecycle = "spot"
ON_DEMAND: Lifecycle = "on-demand"

#: Tags on the Auto Scaling group that carry the state between invocations.
TAG_FALLBACK_SINCE = "paaskit:spot:fallback-since"
TAG_LAST_SPOT_FAILURE = "paaskit:spot:last-spot-failure"
TAG_REPLACEMENT = "paaskit:spot:replacement"
TAG_SHORT_SINCE = "paaskit:spot:short-since"
TAG_REPLACE_AFTER = "paaskit:spot:replace-after"
STATE_TAGS = (
    TAG_FALLBACK_SINCE,
    TAG_LAST_SPOT_FAILURE,
    TAG_REPLACEMENT,
    TAG_SHORT_SINCE,
    TAG_REPLACE_AFTER,
)

#: Error codes and phrases of ASG launch failures that mean "no spot to be had
#: for this group right now". Each is a case where on-demand keeps the capacity:
#: InsufficientInstanceCapacity / "no Spot capacity available" (the pools are
#: empty), UnfulfillableCapacity (no pool of the request can fill it),
#: MaxSpotInstanceCountExceeded (the account's spot quota), SpotMaxPriceTooLow
#: (a max price below the spot price), capacity-not-available /
#: capacity-oversubscribed (spot request status codes).
SPOT_CAPACITY_MARKERS = (
    "insufficientinstancecapacity",
    "no spot capacity available",
    "unfulfillablecapacity",
    "maxspotinstancecountexceeded",
    "spotmaxpricetoolow",
    "capacity-not-available",
    "capacity-oversubscribed",
)


@dataclass(frozen=True)
class Node:
    """One instance of the group, as the ASG, EC2 and ECS see it."""

    instance_id: str
    lifecycle: Lifecycle
    lifecycle_state: str = "InService"
    """The ASG's LifecycleState: Pending, InService, Terminating, Standby..."""
    healthy: bool = True
    launch_time: datetime | None = None
    ecs_status: str | None = "ACTIVE"
    """The ECS container instance status (ACTIVE, DRAINING...), None if not registered."""
    running_tasks: int = 0
    container_instance_arn: str | None = None
    cpu_used: int = 0
    """CPU units its tasks reserve (registered less remaining, from ECS)."""
    memory_used: int = 0
    """MiB its tasks reserve."""
    cpu_free: int = 0
    """CPU units still free for tasks."""
    memory_free: int = 0
    """MiB still free for tasks."""

    @property
    def serving(self) -> bool:
        return self.lifecycle_state == "InService" and self.healthy

    @property
    def counted(self) -> bool:
        """Counts towards the group's desired capacity (launching or in service)."""
        return self.lifecycle_state == "InService" or self.lifecycle_state.startswith("Pending")


@dataclass(frozen=True)
class Distribution:
    """The two fields of the group's InstancesDistribution that this code manages."""

    on_demand_base: int
    on_demand_percentage: int
    others: Mapping[str, Any] = field(default_factory=dict, compare=False)
    """The rest of the InstancesDistribution as read, to send back unchanged."""

    def on_demand_count(self, desired: int) -> int:
        """On-demand nodes this distribution asks for at ``desired`` (rounded up, like the ASG)."""
        base = min(desired, self.on_demand_base)
        above = max(0, desired - self.on_demand_base)
        return base + math.ceil(above * self.on_demand_percentage / 100)


@dataclass(frozen=True)
class Replacement:
    """An on-demand node being replaced by an extra spot node."""

    instance_id: str
    started: datetime
    desired: int
    """The capacity before the extra launch: the group's desired capacity, or the nodes it
    held if more (see ``decide``); the replacement asks for this plus one."""
    spot: int
    """Serving spot nodes before the extra launch."""
    draining_since: datetime | None = None


@dataclass(frozen=True)
class SpotState:
    """What must survive between invocations (kept in tags on the group)."""

    fallback_since: datetime | None = None
    last_spot_failure: datetime | None = None
    replacement: Replacement | None = None
    short_since: datetime | None = None
    """Since when the group has been short of capacity with spot failures (None: it is not)."""
    replace_after: datetime | None = None
    """No replacement starts before this (one was just given up for a reason other than spot)."""


@dataclass(frozen=True)
class Group:
    """The Auto Scaling group as read at one moment."""

    name: str
    min_size: int
    max_size: int
    desired: int
    nodes: tuple[Node, ...]
    distribution: Distribution | None
    """None when the group has no mixed instances policy."""
    state: SpotState = field(default_factory=SpotState)


@dataclass(frozen=True)
class Activity:
    """A scaling activity of the group (from DescribeScalingActivities or an event)."""

    activity_id: str
    status_code: str
    message: str
    """StatusMessage and Description, joined."""
    start_time: datetime


@dataclass(frozen=True)
class Decision:
    """What to change. ``None`` / empty means "leave as is"."""

    state: SpotState
    distribution: Distribution | None = None
    desired_capacity: int | None = None
    drain: tuple[str, ...] = ()
    """EC2 instance ids whose ECS container instances to set to DRAINING."""
    activate: tuple[str, ...] = ()
    """EC2 instance ids whose ECS container instances to set back to ACTIVE."""
    terminate: tuple[str, ...] = ()
    """EC2 instance ids to terminate."""
    decrement: bool = True
    """Whether a termination also lowers the desired capacity (else the group replaces it)."""
    reasons: tuple[str, ...] = ()

    def actions(self) -> list[str]:
        """The changes in words, for logs and tests."""
        out = []
        if self.distribution is not None:
            out.append(
                f"set on-demand base {self.distribution.on_demand_base}, "
                f"{self.distribution.on_demand_percentage}% above base"
            )
        if self.desired_capacity is not None:
            out.append(f"set desired capacity {self.desired_capacity}")
        out.extend(f"drain {i}" for i in self.drain)
        out.extend(f"activate {i}" for i in self.activate)
        how = "" if self.decrement else " (the group replaces it)"
        out.extend(f"terminate {i}{how}" for i in self.terminate)
        return out


def is_spot_capacity_failure(activity: Activity) -> bool:
    """A failed launch for lack of spot capacity (not, say, a bad AMI or an on-demand shortage)."""
    if activity.status_code != "Failed":
        return False
    text = activity.message.lower()
    return "spot" in text and any(marker in text for marker in SPOT_CAPACITY_MARKERS)


def _latest(*times: datetime | None) -> datetime | None:
    known = [t for t in times if t is not None]
    return max(known) if known else None


@dataclass
class _Step:
    """The outcome of continuing a replacement (mutable while it is being worked out)."""

    replacement: Replacement | None
    last_failure: datetime | None
    replace_after: datetime | None
    desired: int | None = None
    drain: tuple[str, ...] = ()
    activate: tuple[str, ...] = ()
    terminate: tuple[str, ...] = ()
    decrement: bool = True
    reasons: list[str] = field(default_factory=list)

    def cancel(
        self, group: Group, why: str, retry_after: datetime | None = None, hand_back: bool = True
    ) -> None:
        """Drop the replacement; hand back the extra capacity it asked for, if still asked.

        ``hand_back=False`` where the extra node may be needed (tasks short of room):
        ECS managed scaling removes it if it is not.
        """
        self.reasons.append(why)
        r = self.replacement
        if (
            hand_back
            and r is not None
            and group.desired == r.desired + 1
            and r.desired >= group.min_size
        ):
            self.desired = r.desired
        self.replacement = None
        if retry_after is not None:
            self.replace_after = retry_after


def _ready_spot(nodes: Iterable[Node]) -> int:
    """Spot nodes that can take tasks: in service, healthy and ACTIVE in ECS."""
    return sum(1 for n in nodes if n.serving and n.lifecycle == SPOT and n.ecs_status == "ACTIVE")


def _has_room(others: Iterable[Node], target: Node) -> bool:
    """Whether the other ACTIVE nodes have free CPU and memory for what ``target``'s tasks reserve."""
    active = [n for n in others if n.serving and n.ecs_status == "ACTIVE"]
    cpu = sum(n.cpu_free for n in active)
    memory = sum(n.memory_free for n in active)
    return cpu >= target.cpu_used and memory >= target.memory_used


def _all_busy(nodes: Iterable[Node]) -> bool:
    """Every node runs tasks (so ECS managed termination protection protects every one)."""
    return all(n.running_tasks > 0 for n in nodes)


def _on_demand_others(group: Group, target: Node) -> int:
    return sum(
        1
        for n in group.nodes
        if n.lifecycle == ON_DEMAND and n.counted and n.instance_id != target.instance_id
    )


def _continue_replacement(
    group: Group,
    r: Replacement,
    step: _Step,
    wanted: Distribution,
    settings: Settings,
    now: datetime,
) -> None:
    target = next((n for n in group.nodes if n.instance_id == r.instance_id), None)
    retry = now + settings.cooldown
    if target is None:
        step.cancel(group, f"{r.instance_id} left the group: its replacement is over")
        return
    others = [n for n in group.nodes if n.serving and n.instance_id != r.instance_id]
    if r.draining_since is None:
        arrived = _ready_spot(others) > r.spot and len(others) >= r.desired
        timed_out = now - r.started >= settings.replacement_timeout
        if step.last_failure is not None and step.last_failure >= r.started:
            step.cancel(group, f"spot capacity failed while replacing {r.instance_id}: cancelled")
        elif group.desired != r.desired + 1:
            step.cancel(
                group,
                f"the desired capacity is {group.desired}, not {r.desired + 1} (someone else set "
                f"it, or the raise did not take): replacing {r.instance_id} is cancelled",
                retry,
            )
        elif _on_demand_others(group, target) < wanted.on_demand_count(r.desired):
            step.cancel(
                group,
                f"{r.instance_id} is no longer above the configured share: cancelled",
                retry,
                hand_back=False,
            )
        elif arrived and _has_room(others, target):
            step.drain = (r.instance_id,)
            step.replacement = replace(r, draining_since=now)
            step.reasons.append(f"a spot node is in service: draining {r.instance_id}")
        elif arrived and timed_out:
            step.cancel(
                group,
                f"no room came for the tasks of {r.instance_id} in time: cancelled",
                retry,
                hand_back=False,
            )
        elif timed_out:
            # No spot node came in time: as good a sign of a spot shortage as a failed
            # activity, so the next attempt waits a cool-down too.
            step.last_failure = _latest(step.last_failure, now)
            step.cancel(group, f"no spot node came to replace {r.instance_id} in time: cancelled")
        elif arrived:
            step.reasons.append(f"waiting for room for the tasks of {r.instance_id}")
        else:
            step.reasons.append(f"waiting for a spot node to replace {r.instance_id}")
    elif target.ecs_status == "ACTIVE":
        step.cancel(
            group,
            f"{r.instance_id} is ACTIVE again (someone undid the drain): its replacement is "
            "given up",
            retry,
            hand_back=False,
        )
    elif target.running_tasks == 0:
        kept = sum(1 for n in group.nodes if n.counted and n.instance_id != r.instance_id)
        decrement = group.desired > kept and group.desired - 1 >= group.min_size
        after = group.desired - 1 if decrement else group.desired
        if _on_demand_others(group, target) < wanted.on_demand_count(after):
            step.activate = (r.instance_id,)
            step.cancel(
                group,
                f"{r.instance_id} is drained but no longer above the configured share: keeping it",
                retry,
                hand_back=False,
            )
            return
        step.terminate = (r.instance_id,)
        step.decrement = decrement
        step.replacement = None
        step.reasons.append(
            f"{r.instance_id} is drained: terminating it"
            + ("" if decrement else ", the group launching in its place")
        )
    elif now - r.draining_since >= settings.drain_timeout:
        step.activate = (r.instance_id,)
        step.cancel(
            group,
            f"{r.instance_id} still runs {target.running_tasks} tasks after the drain timeout: "
            "keeping it (set ACTIVE again)",
            retry,
            hand_back=False,
        )
    else:
        step.reasons.append(f"waiting for {r.instance_id} to drain ({target.running_tasks} tasks)")


def decide(
    group: Group, activities: Iterable[Activity], settings: Settings, now: datetime
) -> Decision:
    """The one next step for ``group``; see the module docstring for the rules."""
    now = now.replace(microsecond=0)  # the precision the state tags keep
    state = group.state
    if group.distribution is None:
        return Decision(state=state, reasons=("the group has no mixed instances policy",))
    failures = [a.start_time for a in activities if is_spot_capacity_failure(a)]
    wanted_spot = Distribution(settings.on_demand_base, settings.on_demand_percentage)
    step = _Step(
        replacement=None,
        last_failure=_latest(state.last_spot_failure, *failures),
        replace_after=state.replace_after,
    )

    # --- 1. a replacement in progress ------------------------------------------------------
    if state.replacement is not None:
        step.replacement = state.replacement
        _continue_replacement(group, state.replacement, step, wanted_spot, settings, now)
    reasons = step.reasons
    last_failure = step.last_failure

    # --- 2. fallback to on-demand ----------------------------------------------------------
    recent = last_failure is not None and now - last_failure < settings.cooldown
    in_fallback = state.fallback_since is not None
    capacity = sum(1 for n in group.nodes if n.counted and n.healthy)
    # While an extra node is being launched, "short" is measured against the desired
    # capacity before it: the extra node not being there yet is no shortage.
    needed = group.desired if step.desired is None else step.desired
    if step.replacement is not None and step.replacement.draining_since is None:
        needed = min(needed, step.replacement.desired)
    short_since = (state.short_since or now) if recent and capacity < needed else None
    fallback_since: datetime | None = None
    if state.fallback_since is not None:
        if recent or now - state.fallback_since < settings.cooldown:
            fallback_since = state.fallback_since
        else:
            reasons.append(
                f"no spot capacity failure for {int(settings.cooldown.total_seconds())} s: "
                "back to the configured distribution"
            )
    elif short_since is not None and now - short_since >= settings.fallback_grace:
        fallback_since = now
        reasons.append(
            f"no spot capacity since {_time_text(short_since)} (last failure "
            f"{_time_text(last_failure)}) and {capacity} of {needed} nodes: falling back to "
            "on-demand"
        )
    elif short_since is not None:
        reasons.append(
            f"{capacity} of {needed} nodes, spot failing since {_time_text(short_since)}: the "
            "group may find spot in another zone; not falling back yet"
        )
    percentage = (
        settings.effective_fallback_percentage
        if fallback_since is not None
        else settings.on_demand_percentage
    )
    wanted = Distribution(settings.on_demand_base, percentage)
    distribution = wanted if group.distribution != wanted else None
    if distribution is not None and (fallback_since is not None) == in_fallback:
        reasons.append(
            f"the group's distribution ({group.distribution.on_demand_base}, "
            f"{group.distribution.on_demand_percentage}%) is not the intended one: setting it"
        )

    # --- 3. start replacing an on-demand node ----------------------------------------------
    replacement = step.replacement
    desired = step.desired
    waiting = step.replace_after is not None and now < step.replace_after
    if (
        state.replacement is None
        and settings.replace_on_demand
        and fallback_since is None
        and not recent
        and distribution is None
    ):
        on_demand = [n for n in group.nodes if n.lifecycle == ON_DEMAND]
        excess = len(on_demand) - wanted.on_demand_count(group.desired)
        # More nodes than desired, every one running tasks: a scale-in the group cannot
        # make (they are all protected) and that lasts until one empties. It is settled
        # too, and the extra node is counted from the nodes it holds.
        held = len(group.nodes)
        settled = (
            (held == group.desired or (held > group.desired and _all_busy(group.nodes)))
            and all(n.serving for n in group.nodes)
            and not any(n.ecs_status == "DRAINING" for n in group.nodes)
        )
        if excess > 0 and not settled:
            reasons.append(
                f"{excess} on-demand nodes above the configured share; waiting for the group "
                "to settle before replacing one"
            )
        elif excess > 0 and waiting:
            reasons.append(
                f"{excess} on-demand nodes above the configured share; the next replacement "
                f"waits until {_time_text(step.replace_after)}"
            )
        elif excess > 0 and held >= group.max_size:
            reasons.append(
                f"{excess} on-demand nodes above the configured share, but the group is at its "
                f"max size ({group.max_size}): no room to launch a spot node first"
            )
        elif excess > 0:
            epoch = datetime.min.replace(tzinfo=UTC)
            target = min(
                on_demand, key=lambda n: (n.running_tasks, n.launch_time or epoch, n.instance_id)
            )
            replacement = Replacement(target.instance_id, now, held, _ready_spot(group.nodes))
            desired = held + 1
            reasons.append(
                f"{excess} on-demand nodes above the configured share: launching a spot node "
                f"to replace {target.instance_id}"
            )

    return Decision(
        state=SpotState(
            fallback_since=fallback_since,
            last_spot_failure=last_failure,
            replacement=replacement,
            short_since=short_since,
            replace_after=step.replace_after if waiting else None,
        ),
        distribution=distribution,
        desired_capacity=desired,
        drain=step.drain,
        activate=step.activate,
        terminate=step.terminate,
        decrement=step.decrement,
        reasons=tuple(reasons),
    )


# --- the state in tags --------------------------------------------------------------------


def _time_text(value: datetime | None) -> str:
    return "" if value is None else value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _parse_time(text: object) -> datetime | None:
    if not isinstance(text, str) or not text:
        return None
    parsed = datetime.fromisoformat(text)
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def state_to_tags(state: SpotState) -> dict[str, str]:
    """The tag values for ``state`` (an empty value means "none"); each well under 256 chars."""
    replacement = ""
    if state.replacement is not None:
        r = state.replacement
        replacement = json.dumps(
            {
                "instance": r.instance_id,
                "started": _time_text(r.started),
                "desired": r.desired,
                "spot": r.spot,
                "draining_since": _time_text(r.draining_since),
            },
            separators=(",", ":"),
        )
    return {
        TAG_FALLBACK_SINCE: _time_text(state.fallback_since),
        TAG_LAST_SPOT_FAILURE: _time_text(state.last_spot_failure),
        TAG_REPLACEMENT: replacement,
        TAG_SHORT_SINCE: _time_text(state.short_since),
        TAG_REPLACE_AFTER: _time_text(state.replace_after),
    }


def state_from_tags(tags: Mapping[str, str]) -> SpotState:
    """Read the state back; a malformed tag raises ValueError (the caller logs and resets it)."""
    replacement = None
    raw = tags.get(TAG_REPLACEMENT, "")
    if raw:
        data = json.loads(raw)
        started = _parse_time(data["started"])
        if started is None:
            raise ValueError(f"{TAG_REPLACEMENT} has no start time: {raw!r}")
        replacement = Replacement(
            instance_id=str(data["instance"]),
            started=started,
            desired=int(data["desired"]),
            spot=int(data["spot"]),
            draining_since=_parse_time(data.get("draining_since")),
        )
    return SpotState(
        fallback_since=_parse_time(tags.get(TAG_FALLBACK_SINCE)),
        last_spot_failure=_parse_time(tags.get(TAG_LAST_SPOT_FAILURE)),
        replacement=replacement,
        short_since=_parse_time(tags.get(TAG_SHORT_SINCE)),
        replace_after=_parse_time(tags.get(TAG_REPLACE_AFTER)),
    )


def normalise(state: SpotState) -> SpotState:
    """``state`` as it reads back from tags (whole seconds), to compare before writing."""
    return state_from_tags(state_to_tags(state))


def merge_activities(*groups: Sequence[Activity]) -> list[Activity]:
    """Activities from several sources, one per activity id, oldest first."""
    by_id: dict[str, Activity] = {}
    for activities in groups:
        for activity in activities:
            by_id.setdefault(activity.activity_id, activity)
    return sorted(by_id.values(), key=lambda a: (a.start_time, a.activity_id))
