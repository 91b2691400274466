"""paaskit.spot.decision: the fallback and replacement decision, exhaustively and by property.

The first tests replay the sequences of issue 16 that the simulator of AWS
(tests/spot_model.py) found; each failed on the decision as it was.
"""

from __future__ import annotations

import itertools
import time
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from paaskit.spot.config import Settings
from paaskit.spot.decision import (
    ON_DEMAND,
    SPOT,
    STATE_TAGS,
    TAG_REPLACEMENT,
    TAG_SHORT_SINCE,
    Activity,
    Decision,
    Distribution,
    Node,
    Replacement,
    SpotState,
    decide,
    is_spot_capacity_failure,
    merge_activities,
    normalise,
    state_from_tags,
    state_to_tags,
)
from tests.spot_helpers import (
    BAD_PROFILE,
    ON_DEMAND_ICE,
    ON_DEMAND_SHORTAGE,
    SPOT_BAD_REQUEST,
    SPOT_QUOTA,
    SPOT_SHORTAGE,
    SPOT_UNFULFILLABLE,
    T0,
    FakeAsg,
    failure,
    group,
    node,
    simulate,
)

CONFIGURED = Settings(on_demand_base=1, on_demand_percentage=0)
MINUTE = timedelta(minutes=1)
GRACE = CONFIGURED.fallback_grace
COOLDOWN = CONFIGURED.cooldown

A = "i-000000000000000a1"
B = "i-000000000000000a2"
S1 = "i-000000000000000b1"
S2 = "i-000000000000000b2"


# =====================================================================================
# Issue 16, sequence 1: a drained on-demand node stayed DRAINING for good at the minimum
# =====================================================================================


def test_sequence_1_the_desired_capacity_set_back_under_a_replacement_drains_nothing():
    """min = desired = 2 after a fallback; ECS sets desired back to 2 as the spot node comes."""
    a = node(A, ON_DEMAND, tasks=3)
    b = node(B, ON_DEMAND, tasks=1)
    g = group(a, b, min_size=2, base=1)
    start = decide(g, [], CONFIGURED, T0)
    assert start.desired_capacity == 3
    assert start.state.replacement == Replacement(B, T0, desired=2, spot=0)
    g = simulate(g, start)
    # The spot node is ready just as ECS managed scaling sets the desired capacity back to 2.
    spot = node(S1, SPOT, tasks=0, launched=T0 + MINUTE)
    g = replace(g, nodes=(*g.nodes, spot), desired=2)
    d = decide(g, [], CONFIGURED, T0 + 3 * MINUTE)
    assert d.drain == ()
    assert d.state.replacement is None
    assert d.desired_capacity is None  # the desired capacity is not ours to lower any more
    assert d.state.replace_after == T0 + 3 * MINUTE + COOLDOWN
    # The group then removes its only unprotected node, the new empty spot node: b serves on.
    g = replace(simulate(g, d), nodes=(a, b))
    later = decide(g, [], CONFIGURED, T0 + 5 * MINUTE)
    assert (later.drain, later.terminate, later.desired_capacity) == ((), (), None)


def test_sequence_1_a_drained_node_at_the_minimum_is_terminated_and_the_group_replaces_it():
    """Had b been drained already: it must not stay DRAINING "until the group may shrink"."""
    r = Replacement(B, T0, desired=2, spot=0, draining_since=T0 + 3 * MINUTE)
    g = group(
        node(A, ON_DEMAND, tasks=4),
        node(B, ON_DEMAND, ecs="DRAINING", tasks=0),
        min_size=2,
        base=1,
        state=SpotState(replacement=r),
    )
    d = decide(g, [], CONFIGURED, T0 + 5 * MINUTE)
    assert d.terminate == (B,)
    # desired (2) - 1 would go below the minimum (AWS refuses): the group launches in its
    # place, as spot (the distribution asks for one on-demand node, a).
    assert d.decrement is False
    assert d.state.replacement is None


# =====================================================================================
# Issue 16, sequence 2: the drain timeout terminated a node that still ran service tasks
# =====================================================================================


def test_sequence_2_no_room_on_the_new_node_so_the_old_one_is_not_drained():
    """ECS scaled out at the moment of the +1 (desired is absolute: the two merged); its new
    tasks filled the new spot node, so the old node's tasks would have nowhere to go."""
    a = node(A, ON_DEMAND, tasks=4, used=(1536, 3072), free=(512, 512))
    b = node(B, ON_DEMAND, tasks=2, used=(1024, 2048), free=(1024, 1536))
    g = group(a, b, min_size=2, base=1)
    start = decide(g, [], CONFIGURED, T0)
    assert start.desired_capacity == 3
    full = node(S1, SPOT, tasks=4, used=(2048, 3584), free=(0, 0), launched=T0 + MINUTE)
    g = replace(simulate(g, start), nodes=(a, b, full))
    d = decide(g, [], CONFIGURED, T0 + 3 * MINUTE)
    assert d.drain == ()
    assert "waiting for room" in " ".join(d.reasons)
    # Once ECS has made room (another node), the drain goes ahead.
    roomy = node(S2, SPOT, tasks=0, used=(0, 0), free=(2048, 3584), launched=T0 + 3 * MINUTE)
    g = replace(g, nodes=(*g.nodes, roomy), desired=4)
    # (ECS raised the desired capacity: the +1 is no longer recognisable as ours.)
    assert decide(g, [], CONFIGURED, T0 + 5 * MINUTE).drain == ()


def test_sequence_2_a_node_still_running_tasks_after_the_drain_timeout_is_kept():
    r = Replacement(B, T0, desired=2, spot=0, draining_since=T0 + 3 * MINUTE)
    g = group(
        node(A, ON_DEMAND, tasks=4),
        node(B, ON_DEMAND, ecs="DRAINING", tasks=2),
        node(S1, SPOT, tasks=4),
        min_size=2,
        base=1,
        state=SpotState(replacement=r),
    )
    d = decide(g, [], CONFIGURED, T0 + 3 * MINUTE + CONFIGURED.drain_timeout)
    assert d.terminate == ()
    assert d.activate == (B,)  # set ACTIVE again: its tasks stay, nothing is killed
    assert d.desired_capacity is None  # the extra node may be needed: ECS decides
    assert d.state.replacement is None
    assert d.state.replace_after == T0 + 3 * MINUTE + CONFIGURED.drain_timeout + COOLDOWN


# =====================================================================================
# Issue 16, sequence 3: one spot failure in one zone triggered the whole fallback
# =====================================================================================


def short_group(**kwargs):
    """Three of four nodes: a spot node was reclaimed and its replacement cannot launch."""
    return group(node(A, ON_DEMAND), node(S1), node(S2), desired=4, base=1, **kwargs)


def test_one_spot_failure_while_short_is_no_fallback_yet():
    d = decide(short_group(), [failure(at=T0 - MINUTE)], CONFIGURED, T0)
    assert d.distribution is None
    assert d.state.fallback_since is None
    assert d.state.short_since == T0
    assert d.state.last_spot_failure == T0 - MINUTE
    assert "not falling back yet" in " ".join(d.reasons)


def test_the_group_launching_in_another_zone_ends_the_shortage():
    state = SpotState(short_since=T0 - 2 * MINUTE, last_spot_failure=T0 - 2 * MINUTE)
    g = short_group(state=state)
    launching = node("i-000000000000000b3", state="Pending", ecs=None, tasks=0)
    g = replace(g, nodes=(*g.nodes, launching))
    d = decide(g, [], CONFIGURED, T0)
    assert d.state.short_since is None
    assert d.distribution is None
    # and a later failure starts the count again
    again = decide(replace(g, nodes=g.nodes[:3], state=d.state), [failure(at=T0)], CONFIGURED, T0)
    assert again.state.short_since == T0


@pytest.mark.parametrize(
    ("short_for", "falls_back"), [(GRACE - timedelta(seconds=1), False), (GRACE, True)]
)
def test_a_shortage_that_lasts_the_grace_falls_back_to_on_demand(short_for, falls_back):
    state = SpotState(short_since=T0 - short_for, last_spot_failure=T0 - MINUTE)
    d = decide(short_group(state=state), [], CONFIGURED, T0)
    assert (d.distribution == Distribution(1, 100)) is falls_back
    assert (d.state.fallback_since == T0) is falls_back
    assert d.state.short_since == T0 - short_for
    since = (T0 - short_for).strftime("%Y-%m-%dT%H:%M:%SZ")
    expected = "falling back to on-demand" if falls_back else "not falling back yet"
    assert expected in d.reasons[0]
    assert since in d.reasons[0]


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


@pytest.mark.parametrize(
    "message", [ON_DEMAND_SHORTAGE, ON_DEMAND_ICE, BAD_PROFILE, SPOT_BAD_REQUEST]
)
def test_other_launch_failures_are_not_spot_shortages(message):
    # Raising the on-demand share would not help an on-demand shortage or a bad profile.
    assert not is_spot_capacity_failure(failure(message))


def test_only_failed_activities_are_failures():
    assert not is_spot_capacity_failure(Activity("a-9", "Successful", SPOT_SHORTAGE, T0))
    assert not is_spot_capacity_failure(Activity("a-9", "Cancelled", SPOT_SHORTAGE, T0))


def test_an_on_demand_shortage_does_not_count_towards_the_fallback():
    d = decide(short_group(), [failure(ON_DEMAND_ICE, at=T0 - MINUTE)], CONFIGURED, T0)
    assert d.state.short_since is None
    assert d.state.last_spot_failure is None


# =====================================================================================
# The distribution
# =====================================================================================


@pytest.mark.parametrize(
    ("base", "percentage", "desired", "on_demand"),
    [
        (0, 0, 4, 0),
        (1, 0, 4, 1),
        (0, 50, 4, 2),
        (0, 50, 3, 2),  # 1.5 rounds up, as the ASG does
        (1, 50, 4, 3),
        (2, 10, 1, 1),  # a base above the desired capacity is capped by it
        (2, 25, 2, 2),
        (0, 100, 3, 3),
        (1, 30, 5, 3),
        (0, 1, 101, 2),  # 1.01 rounds up: a percentage, not a fraction of 101
    ],
)
def test_on_demand_count_follows_the_asg(base, percentage, desired, on_demand):
    assert Distribution(base, percentage).on_demand_count(desired) == on_demand


def test_the_rest_of_the_distribution_does_not_count_in_comparisons():
    assert Distribution(1, 0, {"SpotAllocationStrategy": "price-capacity-optimized"}) == (
        Distribution(1, 0)
    )


# =====================================================================================
# Fallback to on-demand and back
# =====================================================================================


def test_spot_failure_while_the_group_is_full_changes_nothing():
    full = group(node(A, ON_DEMAND), node(S1), base=1)
    d = decide(full, [failure(at=T0 - MINUTE)], CONFIGURED, T0)
    assert d.distribution is None
    assert (d.state.fallback_since, d.state.short_since) == (None, None)


def test_an_unhealthy_node_is_no_capacity():
    g = replace(short_group(), nodes=(*short_group().nodes, node(S2[:-1] + "3", healthy=False)))
    d = decide(g, [failure(at=T0)], CONFIGURED, T0)
    assert d.state.short_since == T0


def test_fallback_holds_while_failures_are_recent():
    state = SpotState(fallback_since=T0 - 20 * MINUTE, last_spot_failure=T0 - 10 * MINUTE)
    in_fallback = short_group(percentage=100, state=state)
    d = decide(in_fallback, [], CONFIGURED, T0)
    assert d.distribution is None
    assert d.state.fallback_since == T0 - 20 * MINUTE


def test_fallback_lasts_at_least_a_cooldown_even_once_failures_stop():
    state = SpotState(fallback_since=T0 - 10 * MINUTE, last_spot_failure=T0 - 16 * MINUTE)
    d = decide(short_group(percentage=100, state=state), [], CONFIGURED, T0)
    assert d.distribution is None
    assert d.state.fallback_since == T0 - 10 * MINUTE


def test_fallback_ends_after_the_cooldown_without_removing_anything():
    state = SpotState(fallback_since=T0 - COOLDOWN, last_spot_failure=T0 - COOLDOWN)
    recovered = group(
        node(A, ON_DEMAND), node(B, ON_DEMAND), node(S1), base=1, percentage=100, state=state
    )
    d = decide(recovered, [failure(at=T0 - COOLDOWN)], CONFIGURED, T0)
    assert d.distribution == Distribution(1, 0)
    assert d.state.fallback_since is None
    assert (d.desired_capacity, d.drain, d.terminate) == (None, (), ())
    assert "back to the configured distribution" in " ".join(d.reasons)


def test_a_drifted_distribution_is_restored_without_a_fallback():
    drifted = group(node(S1), base=0, percentage=60)
    d = decide(drifted, [], CONFIGURED, T0)
    assert d.distribution == Distribution(1, 0)
    assert "not the intended one" in " ".join(d.reasons)


def test_a_fallback_whose_distribution_did_not_take_is_set_again():
    state = SpotState(fallback_since=T0 - MINUTE, last_spot_failure=T0 - MINUTE)
    d = decide(short_group(state=state), [], CONFIGURED, T0)
    assert d.distribution == Distribution(1, 100)
    assert d.state.fallback_since == T0 - MINUTE


def test_a_group_without_mixed_instances_policy_is_left_alone():
    plain = replace(short_group(), distribution=None)
    d = decide(plain, [failure()], CONFIGURED, T0)
    assert d.actions() == []
    assert d.state == plain.state
    assert "no mixed instances policy" in d.reasons[0]


def test_fallback_percentage_never_lowers_a_higher_configured_share():
    mostly_on_demand = Settings(on_demand_base=1, on_demand_percentage=80, fallback_percentage=50)
    state = SpotState(short_since=T0 - GRACE, last_spot_failure=T0)
    d = decide(short_group(percentage=80, state=state), [], mostly_on_demand, T0)
    assert d.distribution is None
    assert d.state.fallback_since == T0


def test_a_failure_exactly_a_cooldown_ago_is_no_longer_recent():
    state = SpotState(short_since=T0 - GRACE, last_spot_failure=T0 - COOLDOWN)
    d = decide(short_group(state=state), [], CONFIGURED, T0)
    assert d.state.fallback_since is None
    assert d.state.short_since is None


# =====================================================================================
# Replacing on-demand nodes with spot, one at a time
# =====================================================================================


def after_fallback(**kwargs):
    """Base 1 + two on-demand nodes left over from a fallback + one spot node."""
    return group(
        node(A, ON_DEMAND, tasks=3),
        node(B, ON_DEMAND, tasks=2),
        node("i-000000000000000a3", ON_DEMAND, tasks=1),
        node(S1, SPOT, tasks=2),
        base=1,
        **kwargs,
    )


A3 = "i-000000000000000a3"


def test_replacement_starts_by_launching_one_extra_node():
    d = decide(after_fallback(), [], CONFIGURED, T0)
    assert d.desired_capacity == 5
    assert d.state.replacement == Replacement(A3, T0, desired=4, spot=1)
    assert (d.distribution, d.drain, d.terminate) == (None, (), ())


@pytest.mark.parametrize(
    ("first", "second", "chosen"),
    [
        ((A, 1, 5), (B, 2, 9), A),  # fewer tasks
        ((A, 1, 5), (B, 1, 9), B),  # then the oldest
        ((B, 1, 5), (A, 1, 5), A),  # then the id
    ],
)
def test_the_node_with_fewest_tasks_then_the_oldest_is_replaced_first(first, second, chosen):
    nodes = [
        node(i, ON_DEMAND, tasks=tasks, launched=T0 - timedelta(days=age))
        for i, tasks, age in (first, second)
    ]
    d = decide(group(*nodes, node(S1), base=1), [], CONFIGURED, T0)
    assert d.state.replacement is not None
    assert d.state.replacement.instance_id == chosen


def test_an_excess_of_exactly_one_on_demand_node_is_replaced():
    g = group(node(A, ON_DEMAND), node(B, ON_DEMAND), node(S1), base=1)
    d = decide(g, [], CONFIGURED, T0)
    assert d.desired_capacity == 4
    assert "1 on-demand nodes above the configured share" in d.reasons[0]


@pytest.mark.parametrize(("max_size", "replaces"), [(4, False), (5, True)])
def test_no_replacement_at_max_size(max_size, replaces):
    d = decide(after_fallback(max_size=max_size), [], CONFIGURED, T0)
    assert (d.desired_capacity == 5) is replaces
    if not replaces:
        assert d.actions() == []
        assert "max size" in d.reasons[0]


@pytest.mark.parametrize(
    "unsettle",
    [
        lambda g: replace(
            g, nodes=(*g.nodes[:-1], replace(g.nodes[-1], lifecycle_state="Pending"))
        ),
        lambda g: replace(g, desired=g.desired + 1),
        lambda g: replace(g, nodes=(*g.nodes[:-1], replace(g.nodes[-1], ecs_status="DRAINING"))),
        lambda g: replace(g, nodes=(*g.nodes[:-1], replace(g.nodes[-1], healthy=False))),
    ],
)
def test_no_replacement_while_the_group_is_unsettled(unsettle):
    d = decide(unsettle(after_fallback()), [], CONFIGURED, T0)
    assert d.desired_capacity is None
    assert "settle" in " ".join(d.reasons)


def test_an_excess_of_one_waits_for_the_group_to_settle_too():
    g = group(node(A, ON_DEMAND), node(B, ON_DEMAND), node(S1, state="Pending", ecs=None), base=1)
    d = decide(g, [], CONFIGURED, T0)
    assert d.desired_capacity is None
    assert "1 on-demand nodes above the configured share; waiting" in d.reasons[0]


def test_an_excess_of_one_at_max_size_launches_nothing():
    g = group(node(A, ON_DEMAND), node(B, ON_DEMAND), node(S1), base=1, max_size=3)
    d = decide(g, [], CONFIGURED, T0)
    assert d.desired_capacity is None
    assert "max size" in d.reasons[0]


def test_nothing_to_say_about_a_group_at_its_share():
    at_share = group(node(A, ON_DEMAND), node(S1, state="Pending", ecs=None), base=1)
    assert decide(at_share, [], CONFIGURED, T0).reasons == ()
    waiting = replace(at_share, state=SpotState(replace_after=T0 + MINUTE))
    assert decide(waiting, [], CONFIGURED, T0).reasons == ()
    full = group(node(A, ON_DEMAND), node(S1), base=1, max_size=2)
    assert decide(full, [], CONFIGURED, T0).reasons == ()


def test_a_node_of_unknown_launch_time_counts_as_the_oldest():
    unknown = replace(node(B, ON_DEMAND), launch_time=None)
    g = group(node(A, ON_DEMAND), unknown, node(S1), base=1)
    d = decide(g, [], CONFIGURED, T0)
    assert d.state.replacement is not None
    assert d.state.replacement.instance_id == B


def test_no_replacement_within_the_cooldown_or_when_switched_off():
    recent = after_fallback(state=SpotState(last_spot_failure=T0 - 5 * MINUTE))
    assert decide(recent, [], CONFIGURED, T0).actions() == []
    off = replace(CONFIGURED, replace_on_demand=False)
    assert decide(after_fallback(), [], off, T0).actions() == []


def test_no_replacement_before_the_recorded_time_after_one_was_given_up():
    waiting = after_fallback(state=SpotState(replace_after=T0 + MINUTE))
    d = decide(waiting, [], CONFIGURED, T0)
    assert d.actions() == []
    assert d.state.replace_after == T0 + MINUTE
    assert "waits until" in d.reasons[0]
    done = decide(after_fallback(state=SpotState(replace_after=T0)), [], CONFIGURED, T0)
    assert done.desired_capacity == 5
    assert done.state.replace_after is None


def test_a_surplus_kept_by_scale_in_protection_counts_the_extra_node_from_the_nodes():
    """More nodes than desired, every one running tasks: AWS keeps them all (its scale-in
    waits for an unprotected node), so the extra node must come above the nodes held."""
    g = replace(after_fallback(), nodes=(*after_fallback().nodes, node(S2)), desired=4)
    d = decide(g, [], CONFIGURED, T0)
    assert d.desired_capacity == 6
    assert d.state.replacement == Replacement(A3, T0, desired=5, spot=2)
    # then it goes on as any replacement: the desired capacity is the recorded one plus one
    g = replace(simulate(g, d), nodes=(*g.nodes, node("i-000000000000000b9", SPOT, tasks=0)))
    assert decide(g, [], CONFIGURED, T0 + 3 * MINUTE).drain == (A3,)


def test_a_surplus_with_an_idle_node_is_left_to_the_group_to_scale_in():
    idle = node(S2, tasks=0)
    g = replace(after_fallback(), nodes=(*after_fallback().nodes, idle), desired=4)
    d = decide(g, [], CONFIGURED, T0)
    assert d.desired_capacity is None
    assert "settle" in d.reasons[0]


@pytest.mark.parametrize(("held", "replaces"), [(5, True), (6, False)])
def test_no_replacement_when_the_nodes_held_reach_the_max_size(held, replaces):
    extra = [node(f"i-000000000000000c{k}") for k in range(held - 4)]
    g = replace(after_fallback(max_size=6), nodes=(*after_fallback().nodes, *extra), desired=4)
    d = decide(g, [], CONFIGURED, T0)
    assert (d.desired_capacity == held + 1) is replaces


def test_on_demand_nodes_within_the_configured_share_stay():
    half = Settings(on_demand_base=0, on_demand_percentage=50)
    g = group(node(A, ON_DEMAND), node(B, ON_DEMAND), node(S1), node(S2), percentage=50)
    assert decide(g, [], half, T0).actions() == []


def launching(**changes):
    r = Replacement(A3, T0 - 2 * MINUTE, desired=4, spot=1)
    return replace(r, **changes)


def launched(*extra: Node, **kwargs):
    g = after_fallback(desired=5, state=SpotState(replacement=launching()), **kwargs)
    return replace(g, nodes=(*g.nodes, *extra))


def test_replacement_waits_for_the_spot_node_to_be_in_ecs():
    g = launched(node(S2, SPOT, ecs=None, tasks=0))
    d = decide(g, [], CONFIGURED, T0)
    assert d.actions() == []
    assert d.state.replacement == launching()
    assert "waiting for a spot node" in d.reasons[0]


def test_replacement_drains_the_old_node_once_the_spot_node_serves():
    d = decide(launched(node(S2, SPOT, tasks=0)), [], CONFIGURED, T0)
    assert d.drain == (A3,)
    assert d.state.replacement == launching(draining_since=T0)
    assert d.reasons == (f"a spot node is in service: draining {A3}",)
    assert (d.desired_capacity, d.terminate) == (None, ())


def test_the_drain_needs_room_on_the_others_for_both_cpu_and_memory():
    def situation(cpu_free, memory_free):
        g = after_fallback(desired=5, state=SpotState(replacement=launching()))
        old = replace(g.nodes[2], cpu_used=512, memory_used=1024)
        others = [
            replace(n, cpu_free=0, memory_free=0) for n in (g.nodes[0], g.nodes[1], g.nodes[3])
        ]
        spot = node(S2, SPOT, tasks=0, free=(cpu_free, memory_free))
        return replace(g, nodes=(*others[:2], old, others[2], spot))

    assert decide(situation(512, 1024), [], CONFIGURED, T0).drain == (A3,)
    assert decide(situation(511, 1024), [], CONFIGURED, T0).drain == ()
    assert decide(situation(512, 1023), [], CONFIGURED, T0).drain == ()


def test_room_counts_only_active_nodes_in_service():
    g = after_fallback(desired=5, state=SpotState(replacement=launching()))
    old = replace(g.nodes[2], cpu_used=512, memory_used=1024)
    spot = node(S2, SPOT, tasks=0, free=(0, 0))
    draining = replace(g.nodes[0], ecs_status="DRAINING", cpu_free=4096, memory_free=8192)
    g = replace(g, nodes=(draining, g.nodes[1], old, g.nodes[3], spot))
    assert decide(g, [], CONFIGURED, T0).drain == ()


def test_no_room_in_time_gives_up_keeping_the_capacity_and_waits_a_cooldown():
    g = after_fallback(desired=5, state=SpotState(replacement=launching(started=T0 - 10 * MINUTE)))
    old = replace(g.nodes[2], cpu_used=512, memory_used=1024)
    g = replace(g, nodes=(*g.nodes[:2], old, g.nodes[3], node(S2, SPOT, tasks=3, free=(0, 0))))
    d = decide(g, [], CONFIGURED, T0)
    assert (d.drain, d.desired_capacity) == ((), None)
    assert d.state.replacement is None
    assert d.state.last_spot_failure is None  # not a spot failure
    assert d.state.replace_after == T0 + COOLDOWN
    assert "no room came" in d.reasons[0]


def test_an_extra_on_demand_node_is_not_a_spot_replacement():
    d = decide(launched(node(S2[:-1] + "9", ON_DEMAND, tasks=0)), [], CONFIGURED, T0)
    assert d.drain == ()


def test_a_spot_node_too_few_is_no_replacement():
    # the extra spot node came, but another spot node was reclaimed meanwhile
    g = launched(node(S2, SPOT, tasks=0))
    g = replace(g, nodes=tuple(n for n in g.nodes if n.instance_id != S1))
    assert decide(g, [], CONFIGURED, T0).drain == ()


def test_the_desired_capacity_changed_by_someone_else_cancels_without_handing_back():
    for desired in (4, 6):
        g = replace(launched(node(S2, SPOT, tasks=0)), desired=desired)
        d = decide(g, [], CONFIGURED, T0)
        assert (d.drain, d.desired_capacity) == ((), None)
        assert d.state.replacement is None
        assert d.state.replace_after == T0 + COOLDOWN
        assert f"the desired capacity is {desired}, not 5" in d.reasons[0]


def test_a_node_no_longer_above_the_configured_share_is_not_drained():
    # an on-demand node left meanwhile (ECS scaled it in): a3 is now the one the base needs
    g = launched(node(S2, SPOT, tasks=0))
    g = replace(g, nodes=tuple(n for n in g.nodes if n.instance_id not in (A, B)))
    g = replace(g, nodes=(*g.nodes, node(S2[:-1] + "3"), node(S2[:-1] + "4")))
    d = decide(g, [], CONFIGURED, T0)
    assert (d.drain, d.desired_capacity) == ((), None)
    assert d.state.replacement is None
    assert d.state.replace_after == T0 + COOLDOWN
    assert "no longer above the configured share" in d.reasons[0]


def test_the_share_counts_each_other_on_demand_node_once():
    """Base 2: a3 and a1 left of the on-demand nodes (a2 went): a3 is needed, not surplus."""
    two = Settings(on_demand_base=2)
    g = launched(node(S2, SPOT, tasks=0))
    g = replace(g, nodes=tuple(n for n in g.nodes if n.instance_id != B))
    g = replace(g, nodes=(*g.nodes, node(S2[:-1] + "3")))
    assert decide(g, [], two, T0).drain == ()
    g = replace(g, nodes=(*g.nodes, node(B, ON_DEMAND)))
    assert decide(g, [], two, T0).drain == (A3,)


def draining(tasks: int, since=T0 - MINUTE, **kwargs):
    g = after_fallback(
        desired=5, state=SpotState(replacement=launching(draining_since=since)), **kwargs
    )
    nodes = [
        replace(n, ecs_status="DRAINING", running_tasks=tasks) if n.instance_id == A3 else n
        for n in g.nodes
    ]
    return replace(g, nodes=(*nodes, node(S2, SPOT, tasks=1)))


def test_replacement_waits_while_the_old_node_drains():
    d = decide(draining(tasks=1), [], CONFIGURED, T0)
    assert d.actions() == []
    assert "to drain" in d.reasons[0]
    assert d.state.replacement == launching(draining_since=T0 - MINUTE)


def test_replacement_removes_the_drained_node_and_its_extra_capacity():
    d = decide(draining(tasks=0), [], CONFIGURED, T0)
    assert d.terminate == (A3,)
    assert d.decrement is True
    assert d.state.replacement is None
    assert d.desired_capacity is None  # the termination decrements it


def test_a_drained_node_the_group_no_longer_counts_is_removed_without_a_decrement():
    # desired already 4 (someone took the extra capacity): the other four nodes are the group
    d = decide(replace(draining(tasks=0), desired=4), [], CONFIGURED, T0)
    assert d.terminate == (A3,)
    assert d.decrement is False
    assert d.reasons == (f"{A3} is drained: terminating it, the group launching in its place",)
    assert decide(draining(tasks=0), [], CONFIGURED, T0).reasons == (
        f"{A3} is drained: terminating it",
    )


@pytest.mark.parametrize(("min_size", "decrement"), [(4, True), (5, False)])
def test_a_decrement_never_goes_below_the_minimum(min_size, decrement):
    d = decide(draining(tasks=0, min_size=min_size), [], CONFIGURED, T0)
    assert d.terminate == (A3,)
    assert d.decrement is decrement


def test_a_drained_node_is_removed_even_if_the_group_is_short_meanwhile():
    """It serves nothing while DRAINING; keeping it helps no one (sequence 1's wedge)."""
    g = draining(tasks=0)
    # a spot node was interrupted meanwhile: without a3 only 3 nodes serve 5
    g = replace(g, nodes=tuple(n for n in g.nodes if n.instance_id != S1))
    d = decide(g, [], CONFIGURED, T0)
    assert d.terminate == (A3,)
    assert d.decrement is True  # 5 > the 4 other nodes: the group launches the one missing


def test_a_drained_node_the_base_now_needs_is_kept():
    g = draining(tasks=0)
    g = replace(g, nodes=tuple(n for n in g.nodes if n.instance_id not in (A, B)))
    d = decide(g, [], CONFIGURED, T0)
    assert d.terminate == ()
    assert d.activate == (A3,)
    assert d.desired_capacity is None
    assert d.state.replace_after == T0 + COOLDOWN


HALF = Settings(on_demand_base=0, on_demand_percentage=50)


def half_draining(desired: int, on_demand_others: int, spot: int):
    """0 base, 50% on-demand; a3 drained and empty; the other nodes as given."""
    r = Replacement(A3, T0 - 5 * MINUTE, desired=desired - 1, spot=0, draining_since=T0 - MINUTE)
    others = [
        node(f"i-00000000000000{k:03x}", ON_DEMAND) for k in range(0xA4, 0xA4 + on_demand_others)
    ]
    others += [node(f"i-00000000000000{k:03x}", SPOT) for k in range(0xB4, 0xB4 + spot)]
    target = node(A3, ON_DEMAND, ecs="DRAINING", tasks=0)
    return group(target, *others, desired=desired, percentage=50, state=SpotState(replacement=r))


@pytest.mark.parametrize(
    ("desired", "on_demand_others", "spot", "kept"),
    [
        (5, 2, 2, False),  # decrement: 4 asks for 2 on-demand, 2 others: terminate
        (4, 1, 2, True),  # decrement: 3 asks for 2, 1 other: keep
        (4, 2, 2, False),  # no decrement (4 others, desired 4) asks for 2: terminate
        (5, 2, 3, True),  # no decrement (5 others, desired 5) asks for 3: keep
    ],
)
def test_the_share_at_termination_is_counted_at_the_desired_capacity_after_it(
    desired, on_demand_others, spot, kept
):
    d = decide(half_draining(desired, on_demand_others, spot), [], HALF, T0)
    assert (d.activate == (A3,)) is kept
    assert (d.terminate == (A3,)) is not kept
    if kept:
        assert (
            d.reasons[0] == f"{A3} is drained but no longer above the configured share: keeping it"
        )


def test_a_node_that_never_drains_is_kept_after_the_drain_timeout():
    since = T0 - CONFIGURED.drain_timeout
    d = decide(draining(tasks=2, since=since), [], CONFIGURED, T0)
    assert d.terminate == ()
    assert d.activate == (A3,)
    assert "keeping it" in d.reasons[0]
    # a second less: still waiting
    d = decide(draining(tasks=2, since=since + timedelta(seconds=1)), [], CONFIGURED, T0)
    assert d.actions() == []


def test_a_node_set_active_by_someone_else_while_draining_is_left_alone():
    g = draining(tasks=1)
    g = replace(
        g,
        nodes=tuple(replace(n, ecs_status="ACTIVE") if n.instance_id == A3 else n for n in g.nodes),
    )
    d = decide(g, [], CONFIGURED, T0)
    assert (d.drain, d.terminate, d.desired_capacity) == ((), (), None)
    assert d.state.replacement is None
    assert d.state.replace_after == T0 + COOLDOWN


def test_a_spot_failure_cancels_the_launch_and_hands_the_capacity_back():
    g = after_fallback(desired=5, state=SpotState(replacement=launching()))
    d = decide(g, [failure(at=T0 - 2 * MINUTE)], CONFIGURED, T0)  # exactly at the start
    assert d.desired_capacity == 4
    assert d.state.replacement is None
    assert d.distribution is None  # the group is full: no fallback needed
    assert d.state.fallback_since is None
    assert d.state.short_since is None  # measured against the capacity handed back
    before = decide(g, [failure(at=T0 - 3 * MINUTE)], CONFIGURED, T0)
    assert before.state.replacement == launching()  # a failure before the launch is not its


def test_capacity_is_handed_back_down_to_the_minimum():
    g = after_fallback(desired=5, min_size=4, state=SpotState(replacement=launching()))
    g = replace(g, nodes=tuple(n for n in g.nodes if n.instance_id != A3))
    assert decide(g, [], CONFIGURED, T0).desired_capacity == 4


def test_capacity_is_handed_back_only_if_still_asked_for_and_above_the_minimum():
    for desired, min_size in ((4, 0), (5, 5)):
        g = after_fallback(
            desired=desired, min_size=min_size, state=SpotState(replacement=launching())
        )
        g = replace(g, nodes=tuple(n for n in g.nodes if n.instance_id != A3))
        d = decide(g, [], CONFIGURED, T0)
        assert d.desired_capacity is None
        assert d.state.replacement is None


def test_a_replacement_that_never_comes_is_cancelled_and_counts_as_a_failure():
    g = after_fallback(desired=5, state=SpotState(replacement=launching(started=T0 - 10 * MINUTE)))
    d = decide(g, [], CONFIGURED, T0)
    assert d.desired_capacity == 4
    assert d.state.replacement is None
    assert d.state.last_spot_failure == T0
    # and no new attempt until a cool-down has passed
    retry = decide(simulate(g, d), [], CONFIGURED, T0 + COOLDOWN - MINUTE)
    assert retry.desired_capacity is None
    again = decide(simulate(g, d), [], CONFIGURED, T0 + COOLDOWN)
    assert again.desired_capacity == 5


def test_a_replacement_waits_until_its_timeout():
    g = after_fallback(desired=5, state=SpotState(replacement=launching(started=T0 - 10 * MINUTE)))
    d = decide(g, [], CONFIGURED, T0 - timedelta(seconds=1))
    assert d.state.replacement == launching(started=T0 - 10 * MINUTE)


def test_a_target_that_left_the_group_ends_the_replacement():
    g = after_fallback(desired=5, state=SpotState(replacement=launching()))
    g = replace(g, nodes=tuple(n for n in g.nodes if n.instance_id != A3))
    d = decide(g, [], CONFIGURED, T0)
    assert d.state.replacement is None
    assert d.desired_capacity == 4
    assert "left the group" in d.reasons[0]


def test_while_launching_the_extra_node_its_absence_is_no_shortage():
    g = after_fallback(desired=5, state=SpotState(replacement=launching()))
    d = decide(g, [failure(at=T0 - 5 * MINUTE)], CONFIGURED, T0)
    assert d.state.short_since is None


def test_decision_actions_in_words():
    d = Decision(
        state=SpotState(),
        distribution=Distribution(1, 100),
        desired_capacity=3,
        drain=(A,),
        activate=(B,),
        terminate=(S1,),
        decrement=False,
    )
    assert d.actions() == [
        "set on-demand base 1, 100% above base",
        "set desired capacity 3",
        f"drain {A}",
        f"activate {B}",
        f"terminate {S1} (the group replaces it)",
    ]
    assert Decision(state=SpotState(), terminate=(S1,)).actions() == [f"terminate {S1}"]


# =====================================================================================
# Properties over arbitrary group states
# =====================================================================================

IDS = [f"i-{k:017x}" for k in range(1, 8)]
MESSAGES = [SPOT_SHORTAGE, SPOT_QUOTA, ON_DEMAND_ICE, BAD_PROFILE, "Launching a new instance"]


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
            used=(draw(st.integers(0, 2048)), draw(st.integers(0, 4096))),
            free=(draw(st.integers(0, 2048)), draw(st.integers(0, 4096))),
        )
        for i in range(count)
    ]
    max_size = draw(st.integers(1, 8))
    min_size = draw(st.integers(0, max_size))
    desired = draw(st.integers(min_size, max_size))
    configured = Settings(
        on_demand_base=draw(st.integers(0, 2)),
        on_demand_percentage=draw(st.sampled_from([0, 0, 25, 50, 100])),
        fallback_grace=timedelta(minutes=draw(st.integers(0, 5))),
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
        fallback_since=some_time(),
        last_spot_failure=some_time(),
        replacement=replacement,
        short_since=some_time(),
        replace_after=draw(
            st.none() | st.integers(-30, 30).map(lambda m: T0 + timedelta(minutes=m))
        ),
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


@settings(max_examples=200, deadline=None)
@given(situations())
def test_never_kills_a_task_nor_takes_capacity_it_did_not_add(situation):
    g, activities, configured = situation
    d = decide(g, activities, configured, T0)
    assert len(d.drain) + len(d.activate) + len(d.terminate) <= 1
    # only ever the node the recorded replacement is about
    touched = set(d.drain) | set(d.activate) | set(d.terminate)
    assert not touched or (
        g.state.replacement is not None and touched == {g.state.replacement.instance_id}
    )
    nodes = {n.instance_id: n for n in g.nodes}
    for instance_id in d.terminate:
        target = nodes[instance_id]
        assert target.running_tasks == 0
        assert target.ecs_status != "ACTIVE"
        if d.decrement:
            kept = [n for n in g.nodes if n.counted and n.instance_id != instance_id]
            assert g.desired - 1 >= max(g.min_size, len(kept))
        on_demand = [
            n
            for n in g.nodes
            if n.lifecycle == ON_DEMAND and n.counted and n.instance_id != instance_id
        ]
        assert len(on_demand) >= configured.on_demand_base or g.desired < configured.on_demand_base
    for instance_id in d.drain:
        others = [n for n in g.nodes if n.instance_id != instance_id]
        assert any(n.serving and n.ecs_status == "ACTIVE" for n in others)
    if d.desired_capacity is not None:
        assert d.desired_capacity != g.desired
        assert g.min_size <= d.desired_capacity <= g.max_size
        if d.desired_capacity < g.desired:
            # only the extra node of our own replacement is handed back
            assert g.state.replacement is not None
            assert d.desired_capacity == g.state.replacement.desired == g.desired - 1
        else:
            # one above the nodes held (the desired capacity, or more if protection keeps more)
            assert d.state.replacement is not None
            assert d.state.replacement.desired == max(g.desired, len(g.nodes))
            assert d.desired_capacity == d.state.replacement.desired + 1


@settings(max_examples=200, deadline=None)
@given(situations())
def test_never_raises_on_demand_without_a_lasting_spot_shortage(situation):
    g, activities, configured = situation
    d = decide(g, activities, configured, T0)
    new = d.distribution or g.distribution
    if new is not None and new.on_demand_percentage > configured.on_demand_percentage:
        assert d.state.fallback_since is not None
    if d.state.fallback_since is not None and g.state.fallback_since is None:
        # entering the fallback needs a recent failure and a shortage as long as the grace
        assert d.state.last_spot_failure is not None
        assert T0 - d.state.last_spot_failure < configured.cooldown
        assert d.state.short_since is not None
        assert T0 - d.state.short_since >= configured.fallback_grace
    if g.state.fallback_since is not None and d.state.fallback_since is None:
        # leaving it needs a cool-down in it and without failures
        assert T0 - g.state.fallback_since >= configured.cooldown
        assert d.state.last_spot_failure is None or (
            T0 - d.state.last_spot_failure >= configured.cooldown
        )


@settings(max_examples=200, deadline=None)
@given(situations())
def test_spot_healthy_means_the_configured_distribution(situation):
    g, _, configured = situation
    healthy = replace(g, state=SpotState())
    d = decide(healthy, [], configured, T0)
    assert (d.distribution or healthy.distribution) == Distribution(
        configured.on_demand_base, configured.on_demand_percentage
    )
    assert d.state.fallback_since is None


@settings(max_examples=200, deadline=None)
@given(situations())
def test_deciding_again_after_applying_repeats_nothing(situation):
    g, activities, configured = situation
    first = decide(g, activities, configured, T0)
    second = decide(simulate(g, first), activities, configured, T0)
    assert second.distribution is None
    assert not set(second.drain) & set(first.drain)
    assert not set(second.terminate) & set(first.terminate)
    assert not set(second.activate) & set(first.activate)
    assert second.desired_capacity is None or second.desired_capacity != first.desired_capacity
    assert decide(g, activities, configured, T0) == first  # and it is deterministic


@settings(max_examples=200, deadline=None)
@given(situations(), st.integers(0, 120))
def test_after_recovery_the_configured_distribution_returns(situation, extra_minutes):
    g, activities, configured = situation
    # long after every failure seen and every fallback began (and no replacement waiting)
    later = (
        T0
        + configured.cooldown
        + configured.replacement_timeout
        + timedelta(minutes=extra_minutes + 1)
    )
    g = replace(g, state=replace(g.state, replacement=None))
    d = decide(g, activities, configured, later)
    assert d.state.fallback_since is None
    assert d.state.short_since is None
    assert (d.distribution or g.distribution) == Distribution(
        configured.on_demand_base, configured.on_demand_percentage
    )


@settings(max_examples=200, deadline=None)
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
    with pytest.raises(ValueError, match="no start time"):
        state_from_tags({TAG_REPLACEMENT: '{"instance":"i-1","started":"","desired":1,"spot":0}'})


def test_tags_keep_whole_seconds_in_utc():
    at = datetime(2025, 6, 2, 14, 0, 1, 999, tzinfo=UTC)
    tags = state_to_tags(SpotState(short_since=at))
    assert tags[TAG_SHORT_SINCE] == "2025-06-02T14:00:01Z"
    assert normalise(SpotState(short_since=at)) == SpotState(short_since=at.replace(microsecond=0))
    naive = state_from_tags({TAG_SHORT_SINCE: "2025-06-02T14:00:01"})
    assert naive.short_since == datetime(2025, 6, 2, 14, 0, 1, tzinfo=UTC)
    offset = state_from_tags({TAG_SHORT_SINCE: "2025-06-02T14:00:01+02:00"})
    assert offset.short_since == datetime(2025, 6, 2, 12, 0, 1, tzinfo=UTC)
    compact = state_to_tags(SpotState(replacement=Replacement(A, at, 3, 1)))[TAG_REPLACEMENT]
    assert " " not in compact  # the most that fits in a tag's 256 characters
    full = Replacement(A, at, 3, 1, draining_since=at)
    assert normalise(SpotState(replacement=full)).replacement == Replacement(
        A, at.replace(microsecond=0), 3, 1, draining_since=at.replace(microsecond=0)
    )


def test_tags_are_in_utc_whatever_the_local_time_zone(monkeypatch):
    at = datetime(2025, 6, 2, 14, 0, 1, tzinfo=UTC)
    monkeypatch.setenv("TZ", "Asia/Tokyo")
    time.tzset()
    try:
        assert state_to_tags(SpotState(short_since=at))[TAG_SHORT_SINCE] == "2025-06-02T14:00:01Z"
    finally:
        monkeypatch.undo()
        time.tzset()


def test_activities_are_merged_one_per_id_oldest_first():
    early, late = T0 - MINUTE, T0
    reported = [Activity("b", "Failed", "from the API", late), Activity("a", "Failed", "x", late)]
    event = [Activity("b", "Failed", "from the event", early), Activity("c", "Failed", "y", early)]
    merged = merge_activities(reported, event)
    assert [(a.activity_id, a.message) for a in merged] == [
        ("c", "y"),
        ("a", "x"),
        ("b", "from the API"),
    ]
    assert merge_activities() == []


# =====================================================================================
# Whole episodes on a simulated group and spot market (decide only; see tests/spot_model.py
# for the whole handler in a model of AWS)
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
    nodes = [node(A, ON_DEMAND)] + [
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
    # within the grace (three invocations) of the first failure, and not before it
    assert 5 + 3 <= raised[0] <= 5 + 5
    # back to spot once a cool-down passed without a failure (the ASG does not retry
    # spot while on on-demand, so this is a probe: spot is still gone at minute 20)
    assert restored
    assert restored[0] - raised[0] >= 15
    assert len(raised) == len(restored) == 1  # no flapping
    # on-demand fills the gap while spot is gone
    assert max(serving for _, serving, _ in history[12:40]) == 4
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


def test_episode_a_one_zone_blip_is_no_fallback():
    """One failed launch, then the group launches elsewhere: no change of purchase option."""
    asg = spot_rack()
    spot_id = next(n.instance_id for n in asg.group.nodes if n.lifecycle == SPOT)

    def blip(a: FakeAsg) -> None:
        a.spot_available = False
        a.interrupt(spot_id)

    def other_zone(a: FakeAsg) -> None:
        a.spot_available = True

    history = run(asg, 60, CONFIGURED, {3: blip, 5: other_zone})
    assert [d.distribution for d, _, _ in history if d.distribution is not None] == []
    assert asg.count(ON_DEMAND) == 1
    assert asg.serving() == 4
