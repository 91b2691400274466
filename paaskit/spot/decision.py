"""The on-demand fallback and spot replacement decision: a pure function of the group's state.

``decide(group, activities, settings, now)`` reads nothing and changes nothing;
``paaskit.spot.aws`` reads the state and applies the ``Decision``. Every
invocation (a schedule, or an ``EC2 Instance Launch Unsuccessful`` event)
recomputes from what it observes, and every action is an absolute value (a
percentage, a desired capacity) or is guarded on the observed state, so running
twice, or twice at once, does no harm.

**Fallback.** An ASG with a mixed instances policy keeps retrying spot when
spot capacity cannot be had; it never falls back to on-demand. When a recent
activity of the group failed for lack of spot capacity (``is_spot_capacity_failure``)
*and* the group is short of its desired capacity, the decision raises
``OnDemandPercentageAboveBaseCapacity`` to the fallback value (100): the
group's next launch attempts succeed as on-demand and the apps keep their
capacity. The fallback lasts until no spot-capacity failure has been seen for
``settings.cooldown``; then the configured distribution is restored. Lowering
the percentage does not remove nodes: the extra on-demand ones stay until
replaced. A failure while the group has its full capacity (e.g. the extra
launch of a replacement, below) does not trigger the fallback: nothing is short.

**Replacement, one node at a time, never below desired.** When the group is
settled (every node in service and healthy, as many as desired, none draining),
not in fallback, no spot failure within the cool-down, and it has more
on-demand nodes than the configured distribution asks for, the decision:

1. raises the desired capacity by one (room permitting: ``desired < max``) and
   records which on-demand node it will replace; with the configured (spot)
   distribution the ASG launches that extra node as spot;
2. once one more spot node than before is in service *and* ACTIVE in ECS and
   the group without the old node still has the recorded desired capacity,
   sets the old node's ECS container instance to DRAINING: ECS starts its
   service tasks elsewhere (on the new node) and deregisters them from the
   load balancer before stopping them;
3. once the old node runs no task (or ``drain_timeout`` passed), and the group
   without it still meets ``desired - 1 >= min``, terminates it *with* a
   decrement of the desired capacity, back to where it was.

If the extra node is not there after ``replacement_timeout``, or a spot failure
is seen during its launch, the replacement is cancelled: the desired capacity
goes back to the recorded value (which lets the ASG remove the surplus node;
for a group with a 0% on-demand configuration it removes an on-demand one
first) and the cancellation counts as a spot failure, so the next attempt
waits a cool-down. If the old node leaves the group by other means, the record
is dropped and the extra capacity handed back the same way.

**ECS managed scaling and termination protection.** With an ECS capacity
provider, ECS owns the desired capacity; the +1 of step 1 is short-lived
(minutes) while target tracking scales in only after ~15 minutes below target,
so the two rarely meet, and step 3's decrement undoes our own +1. Managed
termination protection marks nodes that run tasks as protected from scale-in;
step 3 lifts that protection on the drained node just before terminating it
(``TerminateInstanceInAutoScalingGroup`` is an explicit request, not a scale-in).
ECS managed instance draining, when enabled, drains nodes the ASG removes on
its own (a cancelled replacement), so those are safe too.

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
from typing import Literal

from paaskit.spot.config import Settings

Lifecycle = Literal["spot", "on-demand", "other"]

SPOT: Lifecycle = "spot"
ON_DEMAND: Lifecycle = "on-demand"

#: Tags on the Auto Scaling group that carry the state between invocations.
TAG_FALLBACK_SINCE = "paaskit:spot:fallback-since"
TAG_LAST_SPOT_FAILURE = "paaskit:spot:last-spot-failure"
TAG_REPLACEMENT = "paaskit:spot:replacement"
STATE_TAGS = (TAG_FALLBACK_SINCE, TAG_LAST_SPOT_FAILURE, TAG_REPLACEMENT)

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

    @property
    def serving(self) -> bool:
        return self.lifecycle_state == "InService" and self.healthy


@dataclass(frozen=True)
class Distribution:
    """The two fields of the group's InstancesDistribution that this code manages."""

    on_demand_base: int
    on_demand_percentage: int

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
    """The group's desired capacity before the extra launch."""
    spot: int
    """Serving spot nodes before the extra launch."""
    draining_since: datetime | None = None


@dataclass(frozen=True)
class SpotState:
    """What must survive between invocations (kept in tags on the group)."""

    fallback_since: datetime | None = None
    last_spot_failure: datetime | None = None
    replacement: Replacement | None = None


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
    terminate: tuple[str, ...] = ()
    """EC2 instance ids to terminate, decrementing the desired capacity."""
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
        out.extend(f"terminate {i}" for i in self.terminate)
        return out


def is_spot_capacity_failure(activity: Activity) -> bool:
    """A failed launch for lack of spot capacity (not, say, a bad AMI or a subnet full)."""
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
    desired: int | None = None
    drain: tuple[str, ...] = ()
    terminate: tuple[str, ...] = ()
    reasons: list[str] = field(default_factory=list)

    def cancel(self, group: Group, why: str) -> None:
        """Drop the replacement and hand back the extra capacity it asked for, if still asked."""
        self.reasons.append(why)
        r = self.replacement
        if r is not None and group.desired == r.desired + 1 and r.desired >= group.min_size:
            self.desired = r.desired
        self.replacement = None


def _ready_spot(nodes: Iterable[Node]) -> int:
    """Spot nodes that can take tasks: in service, healthy and ACTIVE in ECS."""
    return sum(1 for n in nodes if n.serving and n.lifecycle == SPOT and n.ecs_status == "ACTIVE")


def _continue_replacement(
    group: Group, r: Replacement, last_failure: datetime | None, settings: Settings, now: datetime
) -> _Step:
    step = _Step(replacement=r, last_failure=last_failure)
    target = next((n for n in group.nodes if n.instance_id == r.instance_id), None)
    others = [n for n in group.nodes if n.serving and n.instance_id != r.instance_id]
    if target is None:
        step.cancel(group, f"{r.instance_id} left the group: its replacement is over")
    elif r.draining_since is None:
        if last_failure is not None and last_failure >= r.started:
            step.cancel(group, f"spot capacity failed while replacing {r.instance_id}: cancelled")
        elif _ready_spot(others) > r.spot and len(others) >= r.desired:
            step.drain = (r.instance_id,)
            step.replacement = replace(r, draining_since=now)
            step.reasons.append(f"a spot node is in service: draining {r.instance_id}")
        elif now - r.started >= settings.replacement_timeout:
            # No spot node came in time: as good a sign of a spot shortage as a failed
            # activity, so the next attempt waits a cool-down too.
            step.last_failure = _latest(last_failure, now)
            step.cancel(group, f"no spot node came to replace {r.instance_id} in time: cancelled")
        else:
            step.reasons.append(f"waiting for a spot node to replace {r.instance_id}")
    elif target.ecs_status == "ACTIVE":
        step.drain = (r.instance_id,)
        step.reasons.append(f"{r.instance_id} is not draining yet: draining it again")
    else:
        drained = target.running_tasks == 0
        timed_out = now - r.draining_since >= settings.drain_timeout
        keeps_capacity = len(others) >= group.desired - 1 >= group.min_size
        if not (drained or timed_out):
            step.reasons.append(
                f"waiting for {r.instance_id} to drain ({target.running_tasks} tasks)"
            )
        elif not keeps_capacity:
            step.reasons.append(
                f"not removing {r.instance_id} yet: the group would fall below its desired or "
                "minimum capacity"
            )
        else:
            step.terminate = (r.instance_id,)
            step.replacement = None
            step.reasons.append(
                f"{r.instance_id} is drained: terminating it"
                if drained
                else f"{r.instance_id} still runs {target.running_tasks} tasks after the drain "
                "timeout: terminating it"
            )
    return step


def decide(
    group: Group, activities: Iterable[Activity], settings: Settings, now: datetime
) -> Decision:
    """The one next step for ``group``; see the module docstring for the rules."""
    now = now.replace(microsecond=0)  # the precision the state tags keep
    state = group.state
    if group.distribution is None:
        return Decision(state=state, reasons=("the group has no mixed instances policy",))
    failures = [a.start_time for a in activities if is_spot_capacity_failure(a)]
    step = _Step(replacement=None, last_failure=_latest(state.last_spot_failure, *failures))

    # --- 1. a replacement in progress ------------------------------------------------------
    if state.replacement is not None:
        step = _continue_replacement(group, state.replacement, step.last_failure, settings, now)
    reasons = step.reasons
    last_failure = step.last_failure

    # --- 2. fallback to on-demand ----------------------------------------------------------
    recent = last_failure is not None and now - last_failure < settings.cooldown
    in_fallback = state.fallback_since is not None
    serving = sum(1 for n in group.nodes if n.serving)
    # While an extra node is being launched, "short" is measured against the desired
    # capacity before it: the extra node not being there yet is no shortage.
    needed = group.desired if step.desired is None else step.desired
    if step.replacement is not None and step.replacement.draining_since is None:
        needed = min(needed, step.replacement.desired)
    fallback_since: datetime | None = None
    if recent and (in_fallback or serving < needed):
        fallback_since = state.fallback_since or now
        if not in_fallback:
            reasons.append(
                f"no spot capacity (last failure {_time_text(last_failure)}) and {serving} of "
                f"{needed} nodes in service: falling back to on-demand"
            )
    elif in_fallback:
        reasons.append(
            f"no spot capacity failure for {int(settings.cooldown.total_seconds())} s: "
            "back to the configured distribution"
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
    if (
        state.replacement is None
        and settings.replace_on_demand
        and fallback_since is None
        and not recent
        and distribution is None
    ):
        on_demand = [n for n in group.nodes if n.lifecycle == ON_DEMAND]
        excess = len(on_demand) - wanted.on_demand_count(group.desired)
        settled = (
            len(group.nodes) == group.desired
            and all(n.serving for n in group.nodes)
            and not any(n.ecs_status == "DRAINING" for n in group.nodes)
        )
        if excess > 0 and not settled:
            reasons.append(
                f"{excess} on-demand nodes above the configured share; waiting for the group "
                "to settle before replacing one"
            )
        elif excess > 0 and group.desired >= group.max_size:
            reasons.append(
                f"{excess} on-demand nodes above the configured share, but the group is at its "
                f"max size ({group.max_size}): no room to launch a spot node first"
            )
        elif excess > 0:
            epoch = datetime.min.replace(tzinfo=UTC)
            target = min(
                on_demand, key=lambda n: (n.running_tasks, n.launch_time or epoch, n.instance_id)
            )
            replacement = Replacement(
                target.instance_id, now, group.desired, _ready_spot(group.nodes)
            )
            desired = group.desired + 1
            reasons.append(
                f"{excess} on-demand nodes above the configured share: launching a spot node "
                f"to replace {target.instance_id}"
            )

    return Decision(
        state=SpotState(fallback_since, last_failure, replacement),
        distribution=distribution,
        desired_capacity=desired,
        drain=step.drain,
        terminate=step.terminate,
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
