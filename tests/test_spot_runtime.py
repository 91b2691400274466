"""The spot Lambda: the pure decision (exhaustively), events, and the boto3 layer against moto."""

from __future__ import annotations

import ast
import itertools
import json
import shutil
import subprocess
import sys
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from paaskit.spot import wiring
from paaskit.spot.aws import Clients
from paaskit.spot.config import RuntimeConfig, Settings, SpotConfigError
from paaskit.spot.decision import (
    ON_DEMAND,
    SPOT,
    STATE_TAGS,
    TAG_FALLBACK_SINCE,
    TAG_REPLACEMENT,
    Activity,
    Distribution,
    Replacement,
    SpotState,
    decide,
    is_spot_capacity_failure,
    state_from_tags,
    state_to_tags,
)
from paaskit.spot.events import (
    EventError,
    InterruptionWarning,
    LaunchUnsuccessful,
    RebalanceRecommendation,
    Reconcile,
    Unrecognised,
    parse_event,
    parse_time,
)
from paaskit.spot.handler import handle, handler, reconcile
from tests.spot_helpers import (
    BAD_PROFILE,
    ON_DEMAND_SHORTAGE,
    SPOT_QUOTA,
    SPOT_SHORTAGE,
    SPOT_UNFULFILLABLE,
    T0,
    FakeAsg,
    MotoRack,
    emulate_partial_policy_updates,
    failure,
    group,
    interruption_event,
    launch_unsuccessful_event,
    make_moto_rack,
    node,
    rebalance_event,
    scheduled_event,
    simulate,
)

CONFIGURED = Settings(on_demand_base=1, on_demand_percentage=0)
MINUTE = timedelta(minutes=1)
SPOT_ROOT = Path(__file__).resolve().parents[1] / "paaskit" / "spot"


# =====================================================================================
# Spot capacity failures
# =====================================================================================


@pytest.mark.parametrize("message", [SPOT_SHORTAGE, SPOT_UNFULFILLABLE, SPOT_QUOTA])
def test_spot_capacity_failures_are_recognised(message):
    assert is_spot_capacity_failure(failure(message))
    # Auto Scaling puts the reason in Description too, prefixed; still recognised.
    assert is_spot_capacity_failure(
        failure(f"Launching a new EC2 instance.  Status Reason: {message}")
    )


@pytest.mark.parametrize("message", [ON_DEMAND_SHORTAGE, BAD_PROFILE])
def test_other_launch_failures_are_not_spot_shortages(message):
    # Raising the on-demand share would not help an on-demand shortage or a bad profile.
    assert not is_spot_capacity_failure(failure(message))


def test_a_successful_activity_is_not_a_failure():
    done = Activity("a-9", "Successful", "Launching a new EC2 instance: i-0abc", T0)
    assert not is_spot_capacity_failure(done)


# =====================================================================================
# Fallback to on-demand and back
# =====================================================================================


def short_group(**kwargs):
    """Three of four nodes: a spot node was reclaimed and its replacement cannot launch."""
    return group(
        node("i-000000000000000a1", ON_DEMAND),
        node("i-000000000000000b1"),
        node("i-000000000000000b2"),
        desired=4,
        base=1,
        **kwargs,
    )


def test_spot_shortage_while_short_raises_the_on_demand_share():
    d = decide(short_group(), [failure(at=T0 - MINUTE)], CONFIGURED, T0)
    assert d.distribution == Distribution(1, 100)
    assert d.state.fallback_since == T0
    assert d.state.last_spot_failure == T0 - MINUTE
    assert (d.desired_capacity, d.drain, d.terminate) == (None, (), ())
    assert "falling back to on-demand" in " ".join(d.reasons)


def test_spot_failure_while_the_group_is_full_changes_nothing():
    full = group(node("i-000000000000000a1", ON_DEMAND), node("i-000000000000000b1"), base=1)
    d = decide(full, [failure(at=T0 - MINUTE)], CONFIGURED, T0)
    assert d.distribution is None
    assert d.state.fallback_since is None


def test_an_on_demand_shortage_does_not_trigger_the_fallback():
    d = decide(short_group(), [failure(ON_DEMAND_SHORTAGE, at=T0 - MINUTE)], CONFIGURED, T0)
    assert d.distribution is None


def test_fallback_holds_while_failures_are_recent():
    state = SpotState(fallback_since=T0 - 10 * MINUTE, last_spot_failure=T0 - 10 * MINUTE)
    in_fallback = short_group(percentage=100, state=state)
    d = decide(in_fallback, [], CONFIGURED, T0)
    assert d.distribution is None
    assert d.state.fallback_since == T0 - 10 * MINUTE


def test_fallback_ends_after_the_cooldown_without_removing_anything():
    state = SpotState(fallback_since=T0 - 20 * MINUTE, last_spot_failure=T0 - 16 * MINUTE)
    recovered = group(
        node("i-000000000000000a1", ON_DEMAND),
        node("i-000000000000000a2", ON_DEMAND),
        node("i-000000000000000b1"),
        base=1,
        percentage=100,
        state=state,
    )
    d = decide(recovered, [failure(at=T0 - 16 * MINUTE)], CONFIGURED, T0)
    assert d.distribution == Distribution(1, 0)
    assert d.state.fallback_since is None
    assert (d.desired_capacity, d.drain, d.terminate) == (None, (), ())


def test_a_drifted_distribution_is_restored_without_a_fallback():
    drifted = group(node("i-000000000000000b1"), base=0, percentage=60)
    d = decide(drifted, [], CONFIGURED, T0)
    assert d.distribution == Distribution(1, 0)


def test_a_group_without_mixed_instances_policy_is_left_alone():
    plain = replace(short_group(), distribution=None)
    d = decide(plain, [failure()], CONFIGURED, T0)
    assert d.actions() == []
    assert "no mixed instances policy" in d.reasons[0]


def test_fallback_percentage_never_lowers_a_higher_configured_share():
    mostly_on_demand = Settings(on_demand_base=1, on_demand_percentage=80, fallback_percentage=50)
    d = decide(short_group(percentage=80), [failure()], mostly_on_demand, T0)
    assert d.distribution is None
    assert d.state.fallback_since == T0


# =====================================================================================
# Replacing on-demand nodes with spot, one at a time
# =====================================================================================


def after_fallback(**kwargs):
    """Base 1 + two on-demand nodes left over from a fallback + one spot node."""
    return group(
        node("i-000000000000000a1", ON_DEMAND, tasks=3),
        node("i-000000000000000a2", ON_DEMAND, tasks=2),
        node("i-000000000000000a3", ON_DEMAND, tasks=1),
        node("i-000000000000000b1", SPOT, tasks=2),
        base=1,
        **kwargs,
    )


def test_replacement_starts_by_launching_one_extra_node():
    g = after_fallback()
    d = decide(g, [], CONFIGURED, T0)
    assert d.desired_capacity == 5
    assert d.state.replacement == Replacement("i-000000000000000a3", T0, desired=4, spot=1)
    assert (d.distribution, d.drain, d.terminate) == (None, (), ())


def test_the_node_with_fewest_tasks_is_replaced_first():
    d = decide(after_fallback(), [], CONFIGURED, T0)
    assert d.state.replacement is not None
    assert d.state.replacement.instance_id == "i-000000000000000a3"


def launching(**changes):
    r = Replacement("i-000000000000000a3", T0 - 2 * MINUTE, desired=4, spot=1)
    return replace(r, **changes)


def test_replacement_waits_for_the_spot_node_to_be_in_ecs():
    g = after_fallback(desired=5, state=SpotState(replacement=launching()))
    pending = node("i-000000000000000b2", SPOT, state="InService", ecs=None, tasks=0)
    g = replace(g, nodes=(*g.nodes, pending))
    d = decide(g, [], CONFIGURED, T0)
    assert d.actions() == []
    assert d.state.replacement == launching()


def test_replacement_drains_the_old_node_once_the_spot_node_serves():
    g = after_fallback(desired=5, state=SpotState(replacement=launching()))
    g = replace(g, nodes=(*g.nodes, node("i-000000000000000b2", SPOT, tasks=0)))
    d = decide(g, [], CONFIGURED, T0)
    assert d.drain == ("i-000000000000000a3",)
    assert d.state.replacement == launching(draining_since=T0)
    assert (d.desired_capacity, d.terminate) == (None, ())


def test_an_extra_on_demand_node_is_not_a_spot_replacement():
    g = after_fallback(desired=5, state=SpotState(replacement=launching()))
    g = replace(g, nodes=(*g.nodes, node("i-000000000000000a4", ON_DEMAND, tasks=0)))
    d = decide(g, [], CONFIGURED, T0)
    assert d.drain == ()


def draining(tasks: int, since=T0 - MINUTE):
    g = after_fallback(desired=5, state=SpotState(replacement=launching(draining_since=since)))
    nodes = [
        replace(n, ecs_status="DRAINING", running_tasks=tasks)
        if n.instance_id == "i-000000000000000a3"
        else n
        for n in g.nodes
    ]
    return replace(g, nodes=(*nodes, node("i-000000000000000b2", SPOT, tasks=1)))


def test_replacement_waits_while_the_old_node_drains():
    d = decide(draining(tasks=1), [], CONFIGURED, T0)
    assert d.actions() == []
    assert "to drain" in d.reasons[0]


def test_replacement_removes_the_drained_node_and_its_extra_capacity():
    d = decide(draining(tasks=0), [], CONFIGURED, T0)
    assert d.terminate == ("i-000000000000000a3",)
    assert d.state.replacement is None
    assert d.desired_capacity is None  # the termination decrements it


def test_a_node_that_never_drains_is_removed_after_the_drain_timeout():
    d = decide(draining(tasks=2, since=T0 - 6 * MINUTE), [], CONFIGURED, T0)
    assert d.terminate == ("i-000000000000000a3",)


def test_a_drained_node_stays_if_removing_it_would_leave_the_group_short():
    g = draining(tasks=0)
    # a spot node was interrupted meanwhile: without a3 only 3 nodes would serve 4
    g = replace(g, nodes=tuple(n for n in g.nodes if n.instance_id != "i-000000000000000b1"))
    d = decide(g, [], CONFIGURED, T0)
    assert d.terminate == ()
    assert "below its desired" in d.reasons[0]


def test_a_spot_failure_cancels_the_launch_and_hands_the_capacity_back():
    g = after_fallback(desired=5, state=SpotState(replacement=launching()))
    d = decide(g, [failure(at=T0 - MINUTE)], CONFIGURED, T0)
    assert d.desired_capacity == 4
    assert d.state.replacement is None
    assert d.distribution is None  # the group is full: no fallback needed
    assert d.state.fallback_since is None


def test_a_replacement_that_never_comes_is_cancelled_and_counts_as_a_failure():
    g = after_fallback(desired=5, state=SpotState(replacement=launching(started=T0 - 11 * MINUTE)))
    d = decide(g, [], CONFIGURED, T0)
    assert d.desired_capacity == 4
    assert d.state.replacement is None
    assert d.state.last_spot_failure == T0
    # and no new attempt until a cool-down has passed
    retry = decide(simulate(g, d), [], CONFIGURED, T0 + 14 * MINUTE)
    assert retry.desired_capacity is None
    again = decide(simulate(g, d), [], CONFIGURED, T0 + 16 * MINUTE)
    assert again.desired_capacity == 5


def test_a_target_that_left_the_group_ends_the_replacement():
    g = after_fallback(desired=5, state=SpotState(replacement=launching()))
    g = replace(g, nodes=tuple(n for n in g.nodes if n.instance_id != "i-000000000000000a3"))
    d = decide(g, [], CONFIGURED, T0)
    assert d.state.replacement is None
    assert d.desired_capacity == 4


def test_no_replacement_at_max_size():
    d = decide(after_fallback(max_size=4), [], CONFIGURED, T0)
    assert d.actions() == []
    assert "max size" in d.reasons[0]


def test_no_replacement_while_the_group_is_unsettled():
    g = after_fallback()
    g = replace(g, nodes=(*g.nodes[:-1], replace(g.nodes[-1], lifecycle_state="Pending")))
    assert decide(g, [], CONFIGURED, T0).actions() == []


def test_no_replacement_within_the_cooldown_or_when_switched_off():
    recent = after_fallback(state=SpotState(last_spot_failure=T0 - 5 * MINUTE))
    assert decide(recent, [], CONFIGURED, T0).actions() == []
    off = replace(CONFIGURED, replace_on_demand=False)
    assert decide(after_fallback(), [], off, T0).actions() == []


def test_on_demand_nodes_within_the_configured_share_stay():
    half = Settings(on_demand_base=0, on_demand_percentage=50)
    g = group(
        node("i-000000000000000a1", ON_DEMAND),
        node("i-000000000000000a2", ON_DEMAND),
        node("i-000000000000000b1"),
        node("i-000000000000000b2"),
        percentage=50,
    )
    assert decide(g, [], half, T0).actions() == []


# =====================================================================================
# Properties over arbitrary group states
# =====================================================================================

IDS = [f"i-{k:017x}" for k in range(1, 8)]
MESSAGES = [SPOT_SHORTAGE, SPOT_QUOTA, ON_DEMAND_SHORTAGE, BAD_PROFILE, "Launching a new instance"]


@st.composite
def situations(draw):
    count = draw(st.integers(0, 6))
    nodes = [
        node(
            IDS[i],
            draw(st.sampled_from([SPOT, ON_DEMAND, "other"])),
            state=draw(st.sampled_from(["InService", "InService", "Pending", "Terminating"])),
            healthy=draw(st.booleans()),
            ecs=draw(st.sampled_from(["ACTIVE", "ACTIVE", "DRAINING", None])),
            tasks=draw(st.integers(0, 3)),
            launched=T0 - timedelta(minutes=draw(st.integers(1, 600))),
        )
        for i in range(count)
    ]
    max_size = draw(st.integers(1, 8))
    min_size = draw(st.integers(0, max_size))
    desired = draw(st.integers(min_size, max_size))
    configured = Settings(
        on_demand_base=draw(st.integers(0, 2)),
        on_demand_percentage=draw(st.sampled_from([0, 0, 25, 50, 100])),
        replacement_timeout=timedelta(minutes=draw(st.integers(0, 15))),
        drain_timeout=timedelta(minutes=draw(st.integers(0, 10))),
        cooldown=timedelta(minutes=draw(st.integers(1, 30))),
    )

    def some_time():
        return draw(st.none() | st.integers(0, 90).map(lambda m: T0 - timedelta(minutes=m)))

    replacement = None
    if draw(st.booleans()):
        replacement = Replacement(
            instance_id=draw(st.sampled_from(IDS[: count + 1])),
            started=T0 - timedelta(minutes=draw(st.integers(0, 30))),
            desired=draw(st.integers(0, max_size)),
            spot=draw(st.integers(0, count)),
            draining_since=some_time(),
        )
    state = SpotState(
        fallback_since=some_time(), last_spot_failure=some_time(), replacement=replacement
    )
    distribution = draw(
        st.sampled_from(
            [
                Distribution(configured.on_demand_base, configured.on_demand_percentage),
                Distribution(configured.on_demand_base, 100),
                Distribution(0, 30),
            ]
        )
    )
    g = group(*nodes, desired=desired, min_size=min_size, max_size=max_size, state=state)
    g = replace(g, distribution=distribution)
    activities = [
        Activity(
            f"a-{i}",
            draw(st.sampled_from(["Failed", "Successful"])),
            draw(st.sampled_from(MESSAGES)),
            T0 - timedelta(minutes=draw(st.integers(0, 90))),
        )
        for i in range(draw(st.integers(0, 3)))
    ]
    return g, activities, configured


@settings(max_examples=150, deadline=None)
@given(situations())
def test_never_removes_capacity_below_desired(situation):
    g, activities, configured = situation
    d = decide(g, activities, configured, T0)
    assert len(d.drain) <= 1
    assert len(d.terminate) <= 1
    # only ever the node the recorded replacement is about
    touched = set(d.drain) | set(d.terminate)
    assert not touched or (
        g.state.replacement is not None and touched == {g.state.replacement.instance_id}
    )
    if d.terminate:
        left = [n for n in g.nodes if n.serving and n.instance_id not in d.terminate]
        assert len(left) >= g.desired - 1 >= g.min_size
    if d.desired_capacity is not None:
        assert d.desired_capacity != g.desired
        assert g.min_size <= d.desired_capacity <= g.max_size
        if d.desired_capacity < g.desired:
            # only the extra node of our own replacement is handed back
            assert g.state.replacement is not None
            assert d.desired_capacity == g.state.replacement.desired == g.desired - 1
        else:
            assert d.desired_capacity == g.desired + 1
            assert d.state.replacement is not None
            assert d.state.replacement.desired == g.desired


@settings(max_examples=150, deadline=None)
@given(situations())
def test_never_raises_on_demand_without_a_recent_spot_failure(situation):
    g, activities, configured = situation
    d = decide(g, activities, configured, T0)
    new = d.distribution or g.distribution
    if new is not None and new.on_demand_percentage > configured.on_demand_percentage:
        assert d.state.fallback_since is not None
        assert d.state.last_spot_failure is not None
        assert T0 - d.state.last_spot_failure < configured.cooldown
    if d.state.fallback_since is not None and g.state.fallback_since is None:
        # entering the fallback needs a shortage too
        assert sum(1 for n in g.nodes if n.serving) < g.desired


@settings(max_examples=150, deadline=None)
@given(situations())
def test_spot_healthy_means_the_configured_distribution(situation):
    g, _, configured = situation
    healthy = replace(g, state=SpotState())
    d = decide(healthy, [], configured, T0)
    assert (d.distribution or healthy.distribution) == Distribution(
        configured.on_demand_base, configured.on_demand_percentage
    )
    assert d.state.fallback_since is None


@settings(max_examples=150, deadline=None)
@given(situations())
def test_deciding_again_after_applying_repeats_nothing(situation):
    g, activities, configured = situation
    first = decide(g, activities, configured, T0)
    second = decide(simulate(g, first), activities, configured, T0)
    assert second.distribution is None
    assert not set(second.drain) & set(first.drain)
    assert not set(second.terminate) & set(first.terminate)
    assert second.desired_capacity is None or second.desired_capacity != first.desired_capacity
    assert decide(g, activities, configured, T0) == first  # and it is deterministic


@settings(max_examples=150, deadline=None)
@given(situations(), st.integers(0, 120))
def test_after_recovery_the_configured_distribution_returns(situation, extra_minutes):
    g, activities, configured = situation
    # long after every failure seen (and no replacement waiting to time out)
    later = (
        T0
        + configured.cooldown
        + configured.replacement_timeout
        + timedelta(minutes=extra_minutes + 1)
    )
    g = replace(g, state=replace(g.state, replacement=None))
    d = decide(g, activities, configured, later)
    assert d.state.fallback_since is None
    assert (d.distribution or g.distribution) == Distribution(
        configured.on_demand_base, configured.on_demand_percentage
    )


@settings(max_examples=150, deadline=None)
@given(situations())
def test_state_survives_the_round_trip_through_tags(situation):
    g, activities, configured = situation
    state = decide(g, activities, configured, T0).state
    tags = state_to_tags(state)
    assert set(tags) == set(STATE_TAGS)
    assert all(len(value) <= 256 for value in tags.values())
    assert state_from_tags(tags) == state


def test_a_malformed_state_tag_is_an_error_the_reader_can_catch():
    with pytest.raises(ValueError):  # noqa: PT011 - json's own message varies
        state_from_tags({TAG_REPLACEMENT: "{not json"})


# =====================================================================================
# Whole episodes on a simulated group and spot market
# =====================================================================================


def run(asg: FakeAsg, minutes: int, configured: Settings, events=None):
    """Invoke the decision every minute; returns the decisions and the serving count each minute."""
    history = []
    for minute in range(minutes):
        if events and minute in events:
            events[minute](asg)
        asg.tick()
        d = decide(asg.group, asg.activities, configured, asg.now)
        asg.apply(d)
        history.append((d, asg.serving(), asg.group.desired))
    return history


def spot_rack():
    """Base 1 on-demand + 3 spot nodes, room for 2 more."""
    nodes = [node("i-000000000000000a1", ON_DEMAND)] + [
        node(f"i-00000000000000{k:03x}", SPOT) for k in range(0xB1, 0xB4)
    ]
    return FakeAsg(group(*nodes, base=1, max_size=6))


def test_episode_shortage_fallback_recovery_and_replacement():
    asg = spot_rack()
    spot_ids = [n.instance_id for n in asg.group.nodes if n.lifecycle == SPOT]

    def shortage(a: FakeAsg) -> None:
        a.spot_available = False
        a.interrupt(spot_ids[0])
        a.interrupt(spot_ids[1])

    def recovery(a: FakeAsg) -> None:
        a.spot_available = True

    history = run(asg, 150, CONFIGURED, {5: shortage, 40: recovery})
    raised = [i for i, (d, _, _) in enumerate(history) if d.distribution == Distribution(1, 100)]
    restored = [i for i, (d, _, _) in enumerate(history) if d.distribution == Distribution(1, 0)]
    assert raised
    assert raised[0] <= 7  # within two invocations of the first failure
    # back to spot once a cool-down passed without a failure (the ASG does not retry
    # spot while on on-demand, so this is a probe: spot is still gone at minute 20)
    assert restored
    assert restored[0] - raised[0] >= 15
    assert len(raised) == len(restored) == 1  # no flapping
    # on-demand fills the gap while spot is gone
    assert max(serving for _, serving, _ in history[10:40]) == 4
    # once full again, capacity never drops below 4 in service
    full_from = next(i for i, (_, serving, _) in enumerate(history) if i > 5 and serving >= 4)
    assert min(serving for _, serving, _ in history[full_from:]) >= 4
    assert max(desired for _, _, desired in history) <= 5  # one extra node at a time
    # and the group ends where it was configured: base on-demand, the rest spot
    assert (asg.count(ON_DEMAND), asg.count(SPOT), asg.group.desired) == (1, 3, 4)
    assert asg.group.state.replacement is None
    assert asg.group.distribution == Distribution(1, 0)


def test_episode_spot_never_returns_keeps_capacity_and_probes_once_per_cooldown():
    asg = spot_rack()

    def shortage(a: FakeAsg) -> None:
        a.spot_available = False
        for n in a.group.nodes:
            if n.lifecycle == SPOT:
                a.interrupt(n.instance_id)

    history = run(asg, 180, CONFIGURED, {2: shortage})
    changes = [d.distribution for d, _, _ in history if d.distribution is not None]
    assert changes == [Distribution(1, 100), Distribution(1, 0)]
    probes = [i for i, (d, _, _) in enumerate(history) if d.desired_capacity == 5]
    assert len(probes) >= 3
    assert all(b - a >= 15 for a, b in itertools.pairwise(probes))
    full_from = next(i for i, (_, serving, _) in enumerate(history) if i > 2 and serving >= 4)
    assert min(serving for _, serving, _ in history[full_from:]) >= 4
    assert asg.count(ON_DEMAND) == 4


# =====================================================================================
# Events and configuration
# =====================================================================================


def test_events_parse_into_their_kinds():
    assert parse_event(interruption_event("i-0123456789abcdef0")) == InterruptionWarning(
        "i-0123456789abcdef0", "terminate", parse_time("2025-06-02T12:00:00Z")
    )
    assert parse_event(rebalance_event("i-0123456789abcdef0")) == RebalanceRecommendation(
        "i-0123456789abcdef0"
    )
    launch = parse_event(launch_unsuccessful_event("rack-nodes"))
    assert isinstance(launch, LaunchUnsuccessful)
    assert launch.group_name == "rack-nodes"
    assert is_spot_capacity_failure(launch.activity)
    assert isinstance(parse_event(scheduled_event()), Reconcile)
    assert isinstance(parse_event({"action": "reconcile"}), Reconcile)
    other = parse_event({"source": "aws.s3", "detail-type": "Object Created"})
    assert other == Unrecognised("aws.s3", "Object Created")


def test_an_interruption_without_a_valid_instance_id_is_refused():
    event = interruption_event("i-0123456789abcdef0")
    event["detail"]["instance-id"] = "i-1 || ec2InstanceId == i-2"
    with pytest.raises(EventError, match="instance-id"):
        parse_event(event)


def test_configuration_comes_from_the_environment():
    config = RuntimeConfig.from_env(
        {
            "PAASKIT_CLUSTER": "rack",
            "PAASKIT_ASG": "rack-nodes",
            "PAASKIT_ON_DEMAND_BASE": "2",
            "PAASKIT_ON_DEMAND_PERCENTAGE": "10",
            "PAASKIT_SPOT_COOLDOWN_SECONDS": "600",
            "PAASKIT_REPLACE_ON_DEMAND": "false",
        }
    )
    assert (config.cluster, config.group) == ("rack", "rack-nodes")
    assert config.settings == Settings(
        on_demand_base=2,
        on_demand_percentage=10,
        cooldown=timedelta(minutes=10),
        replace_on_demand=False,
    )
    assert wiring.environment(cluster="c", group="g")["PAASKIT_FALLBACK_ON_DEMAND_PERCENTAGE"] == (
        "100"
    )


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"PAASKIT_ASG": "g"}, "PAASKIT_CLUSTER is required"),
        ({"PAASKIT_CLUSTER": "c"}, "PAASKIT_ASG is required"),
        (
            {"PAASKIT_CLUSTER": "c", "PAASKIT_ASG": "g", "PAASKIT_ON_DEMAND_PERCENTAGE": "150"},
            "PAASKIT_ON_DEMAND_PERCENTAGE=150 is out of range",
        ),
        (
            {"PAASKIT_CLUSTER": "c", "PAASKIT_ASG": "g", "PAASKIT_REPLACE_ON_DEMAND": "maybe"},
            "PAASKIT_REPLACE_ON_DEMAND='maybe' is not a boolean",
        ),
    ],
)
def test_configuration_errors_name_the_variable(env, message):
    with pytest.raises(SpotConfigError, match=message):
        RuntimeConfig.from_env(env)


def test_event_patterns_match_the_events_the_handler_understands():
    patterns = wiring.event_patterns("rack-nodes")
    samples = {
        "interruption": interruption_event("i-0123456789abcdef0"),
        "rebalance": rebalance_event("i-0123456789abcdef0"),
        "launch-unsuccessful": launch_unsuccessful_event("rack-nodes"),
    }
    for role, pattern in patterns.items():
        event = samples[role]
        assert event["source"] in pattern["source"]
        assert event["detail-type"] in pattern["detail-type"]
        for key, allowed in pattern.get("detail", {}).items():
            assert event["detail"][key] in allowed
        assert not isinstance(parse_event(event), Unrecognised)


# =====================================================================================
# The Lambda package
# =====================================================================================

ALLOWED_TOP_LEVEL = set(sys.stdlib_module_names) | {"boto3", "botocore", "paaskit"}


def test_spot_code_imports_only_the_standard_library_boto3_and_itself():
    for path in SPOT_ROOT.glob("*.py"):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for item in ast.walk(tree):
            if isinstance(item, ast.Import):
                names = [alias.name for alias in item.names]
            elif isinstance(item, ast.ImportFrom) and item.module and item.level == 0:
                names = [item.module]
            else:
                continue
            for name in names:
                assert name.split(".")[0] in ALLOWED_TOP_LEVEL, f"{path.name} imports {name}"
                if name.startswith("paaskit"):
                    assert name.startswith("paaskit.spot"), f"{path.name} imports {name}"


def test_the_lambda_zip_layout_imports_without_pulumi_or_pydantic(tmp_path):
    package = tmp_path / "paaskit"
    shutil.copytree(SPOT_ROOT, package / "spot", ignore=shutil.ignore_patterns("__pycache__"))
    (package / "__init__.py").write_text("")
    script = (
        "import sys\n"
        f"sys.path.insert(0, {str(tmp_path)!r})\n"
        "import paaskit.spot.handler, paaskit.spot.wiring\n"
        f"assert paaskit.__file__.startswith({str(tmp_path)!r}), paaskit.__file__\n"
        "print(sorted(m for m in ('pulumi', 'pydantic', 'pulumi_aws') if m in sys.modules))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=60, check=False
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"


def test_the_policy_is_scoped_to_one_cluster_and_one_group():
    doc = wiring.policy_document(
        partition="aws",
        region="us-east-1",
        account_id="123456789012",
        cluster="rack",
        group="rack-nodes",
    )
    scoped = [s for s in doc["Statement"] if s["Resource"] != "*"]
    unscoped = [s for s in doc["Statement"] if s["Resource"] == "*"]
    assert all(a.split(":")[1].startswith("Describe") for s in unscoped for a in s["Action"])
    for statement in scoped:
        assert "rack" in statement["Resource"]
    tags = next(s for s in doc["Statement"] if s["Action"] == "autoscaling:CreateOrUpdateTags")
    assert tags["Condition"]["ForAllValues:StringEquals"]["aws:TagKeys"] == list(STATE_TAGS)


# =====================================================================================
# Against moto's AWS API server
# =====================================================================================


@pytest.fixture
def rack(aws, monkeypatch) -> MotoRack:
    # Not needed here, and loading moto's AMI catalogue after every reset is slow.
    monkeypatch.setenv("MOTO_EC2_LOAD_DEFAULT_AMIS", "false")
    emulate_partial_policy_updates(monkeypatch)
    monkeypatch.setenv("PAASKIT_CLUSTER", "rack")
    monkeypatch.setenv("PAASKIT_ASG", "rack-nodes")
    monkeypatch.setenv("PAASKIT_ON_DEMAND_BASE", "1")
    monkeypatch.setenv("PAASKIT_ON_DEMAND_PERCENTAGE", "0")
    made = make_moto_rack(desired=3, base=1, percentage=0)
    made.record_calls(monkeypatch)
    return made


def granted_actions() -> set[str]:
    policy = wiring.policy_document(
        partition="aws",
        region="us-east-1",
        account_id="123456789012",
        cluster="rack",
        group="rack-nodes",
    )
    granted: set[str] = set()
    for statement in policy["Statement"]:
        actions = statement["Action"]
        granted.update([actions] if isinstance(actions, str) else actions)
    return granted


def statuses(rack: MotoRack) -> dict[str, str]:
    return {i: ci["status"] for i, ci in rack.container_instances().items()}


def test_interruption_warning_drains_that_node_and_only_it(rack):
    first, doomed, third = rack.instance_ids()
    result = handler(interruption_event(doomed))
    assert result == {"result": "draining", "instance_id": doomed}
    assert statuses(rack) == {first: "ACTIVE", doomed: "DRAINING", third: "ACTIVE"}


def test_interruption_warning_twice_is_harmless(rack):
    doomed = rack.instance_ids()[0]
    handler(interruption_event(doomed))
    # e.g. the ECS agent's own spot draining got there first, or EventBridge redelivered
    assert handler(interruption_event(doomed))["result"] == "already-draining"
    assert statuses(rack)[doomed] == "DRAINING"


def test_interruption_of_a_node_of_another_cluster_is_ignored(rack, capsys):
    rack.ecs.create_cluster(clusterName="other")
    stranger = rack.spot_instance()
    rack.register(stranger, cluster="other")
    before = statuses(rack)
    assert handler(interruption_event(stranger))["result"] == "not-in-cluster"
    assert statuses(rack) == before
    assert {ci["status"] for ci in rack.container_instances("other").values()} == {"ACTIVE"}
    logged = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert any(
        r.get("outcome") == "not-in-cluster" and r["instance_id"] == stranger for r in logged
    )


def test_rebalance_recommendation_is_only_logged(rack, capsys):
    target = rack.instance_ids()[0]
    assert handler(rebalance_event(target))["result"] == "logged"
    assert set(statuses(rack).values()) == {"ACTIVE"}
    assert "rebalance recommendation" in capsys.readouterr().out


def test_spot_shortage_raises_the_on_demand_share_of_the_group(rack):
    # moto launches every instance at once and never fails a launch, so the shortage
    # is set up as AWS would show it mid-way: one node unhealthy (its spot pool was
    # reclaimed) and the event of its replacement's failed spot launch.
    rack.autoscaling.set_instance_health(
        InstanceId=rack.instance_ids()[0], HealthStatus="Unhealthy"
    )
    event = launch_unsuccessful_event("rack-nodes")
    result = handler(event)
    assert result["in_fallback"] is True
    assert rack.distribution() == {
        "OnDemandBaseCapacity": 1,
        "OnDemandPercentageAboveBaseCapacity": 100,
        "SpotAllocationStrategy": "price-capacity-optimized",  # the rest of the policy kept
    }
    assert rack.tags()[TAG_FALLBACK_SINCE] != ""
    assert rack.describe()["DesiredCapacity"] == 3
    # the same event again (EventBridge delivers at least once) changes nothing more
    assert handler(event)["actions"] == []


def test_launch_failure_of_another_group_is_ignored(rack):
    rack.autoscaling.set_instance_health(
        InstanceId=rack.instance_ids()[0], HealthStatus="Unhealthy"
    )
    assert handler(launch_unsuccessful_event("someone-else"))["result"] == "ignored"
    assert rack.distribution()["OnDemandPercentageAboveBaseCapacity"] == 0


def test_recovery_brings_the_configured_share_back(rack):
    rack.autoscaling.set_instance_health(
        InstanceId=rack.instance_ids()[0], HealthStatus="Unhealthy"
    )
    handle(launch_unsuccessful_event("rack-nodes"), RuntimeConfig.from_env(), Clients.create())
    assert rack.distribution()["OnDemandPercentageAboveBaseCapacity"] == 100
    # moto keeps no scaling activities (DescribeScalingActivities is always empty), so
    # "no failure since" is the truth here; the clock is moved past the cool-down.
    config = RuntimeConfig.from_env()
    later = rack_time_after_cooldown(rack, config)
    summary = reconcile(Clients.create(), config, now=later)
    assert summary["in_fallback"] is False
    assert rack.distribution()["OnDemandPercentageAboveBaseCapacity"] == 0
    assert rack.tags()[TAG_FALLBACK_SINCE] == ""
    assert (rack.describe()["DesiredCapacity"], len(rack.instance_ids())) == (3, 3)


def rack_time_after_cooldown(rack: MotoRack, config: RuntimeConfig):
    state = state_from_tags(rack.tags())
    assert state.last_spot_failure is not None
    return state.last_spot_failure + config.settings.cooldown + MINUTE


def test_replacement_on_moto_launches_drains_then_removes(rack):
    # moto's group runs everything on-demand; configured is base 1 + 0%: two extra nodes.
    config = RuntimeConfig.from_env()
    for instance_id in rack.instance_ids():
        rack.run_task_on(instance_id)
    t0 = datetime.now(UTC) + timedelta(hours=1)  # after any cool-down an earlier step started

    # 1. a scheduled run: no spot trouble, so no fallback, but one extra node launched first
    first = reconcile(Clients.create(), config, now=t0)
    assert rack.distribution()["OnDemandPercentageAboveBaseCapacity"] == 0
    assert rack.describe()["DesiredCapacity"] == 4
    record = state_from_tags(rack.tags()).replacement
    assert record is not None
    assert (record.desired, record.draining_since) == (3, None)
    target = record.instance_id
    assert "launching a spot node" in " ".join(first["reasons"])

    # moto launched the extra node on-demand (it cannot launch spot through an ASG);
    # swap it for a spot instance, as the ASG would have launched, and let ECS register it.
    extra = next(i for i in rack.instance_ids() if i not in statuses(rack))
    rack.autoscaling.detach_instances(
        AutoScalingGroupName="rack-nodes", InstanceIds=[extra], ShouldDecrementDesiredCapacity=True
    )
    spot = rack.spot_instance()
    rack.autoscaling.attach_instances(AutoScalingGroupName="rack-nodes", InstanceIds=[spot])
    rack.register(spot)
    assert rack.describe()["DesiredCapacity"] == 4

    # 2. the spot node serves: the old node is drained, nothing removed yet
    reconcile(Clients.create(), config, now=t0 + 3 * MINUTE)
    assert statuses(rack)[target] == "DRAINING"
    assert [s for i, s in statuses(rack).items() if i != target] == ["ACTIVE"] * 3
    assert target in rack.instance_ids()

    # 3. it still runs a task: wait
    reconcile(Clients.create(), config, now=t0 + 4 * MINUTE)
    assert target in rack.instance_ids()

    # ECS would move the service task away from a draining node; moto does not.
    task = rack.ecs.list_tasks(cluster="rack", containerInstance=statuses_arn(rack, target))
    for arn in task["taskArns"]:
        rack.ecs.stop_task(cluster="rack", task=arn)

    # 4. drained: removed, and the desired capacity is back to 3, all of it in service
    reconcile(Clients.create(), config, now=t0 + 5 * MINUTE)
    group_now = rack.describe()
    assert target not in rack.instance_ids()
    assert group_now["DesiredCapacity"] == 3
    assert sum(1 for i in group_now["Instances"] if i["LifecycleState"] == "InService") == 3
    assert state_from_tags(rack.tags()).replacement is None


def statuses_arn(rack: MotoRack, instance_id: str) -> str:
    return str(rack.container_instances()[instance_id]["containerInstanceArn"])


def test_the_policy_allows_every_call_the_function_makes(rack):
    """A drain, a fallback, a recovery and a whole replacement: every call is granted.

    moto does not evaluate IAM policies, so this checks the action list, not the scoping.
    """
    test_interruption_warning_drains_that_node_and_only_it(rack)
    rack.ecs.update_container_instances_state(
        cluster="rack",
        containerInstances=[
            ci["containerInstanceArn"] for ci in rack.container_instances().values()
        ],
        status="ACTIVE",
    )
    test_recovery_brings_the_configured_share_back(rack)
    rack.autoscaling.set_instance_health(InstanceId=rack.instance_ids()[0], HealthStatus="Healthy")
    test_replacement_on_moto_launches_drains_then_removes(rack)
    assert rack.calls <= granted_actions(), rack.calls - granted_actions()
    assert {
        "autoscaling:UpdateAutoScalingGroup",
        "autoscaling:SetDesiredCapacity",
        "autoscaling:SetInstanceProtection",
        "autoscaling:TerminateInstanceInAutoScalingGroup",
        "autoscaling:CreateOrUpdateTags",
        "ecs:UpdateContainerInstancesState",
    } <= rack.calls
