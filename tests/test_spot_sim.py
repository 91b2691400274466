"""The whole spot handler in a model of AWS (tests/spot_model.py): a quick run of the long bench.

The model fakes the three boto3 clients of ``paaskit.spot.aws.Clients`` over a
simulated group, ECS and spot market, and delivers events as the rack is
deployed (EventBridge, Lambda, the SQS FIFO queue); the handler runs unchanged.
Every invariant (``spot_model.INVARIANTS``) is checked as the handler acts.
The long run, with its figures, is ``python bench/spot_sim.py``.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import ClientError, ParamValidationError

from paaskit.spot import decision, handler
from paaskit.spot.config import Settings
from tests import spot_model
from tests.spot_model import QUIET, Scenario, Simulation, World, simulate

#: Harsher than the bench, so that a short run meets every fault often.
ROUGH = Scenario(
    hours=4,
    zone_shortages_per_hour=1.2,
    region_shortages_per_hour=0.1,
    desired_changes_per_hour=1.0,
    event_duplicate=0.15,
    event_late=0.15,
    event_lost=0.03,
    api_failure=0.03,
    duplicate_replay=0.3,
)
SCENARIOS = {
    "rough": ROUGH,
    "quiet": replace(ROUGH, services=QUIET),
    "region": replace(ROUGH, zone_shortages_per_hour=0.2, region_shortages_per_hour=0.4),
}
SEEDS = range(6)


def report(results: list[spot_model.RunResult]) -> str:
    lines = [
        f"seed {r.seed} minute {v.minute}: {v.invariant}: {v.detail}"
        for r in results
        for v in r.violations
    ]
    return "\n".join(lines[:20])


@pytest.mark.parametrize("name", SCENARIOS)
def test_the_invariants_hold_in_a_quick_run(name):
    results = [simulate(seed, SCENARIOS[name]) for seed in SEEDS]
    assert not any(r.violations for r in results), report(results)
    stats = sum((r.stats for r in results), start=type(results[0].stats)())
    # The run met what it is meant to meet (else it proves nothing).
    assert stats["faults injected"] > 50
    assert stats["spot launch failures"] > 10
    assert stats["handler terminations"] + stats["call UpdateContainerInstancesState"] > 0
    assert stats["duplicates dropped by the queue"] > 0


def test_the_handler_brings_spot_back_after_a_fallback():
    """Some runs of the region scenario fall back and come back, replacing the on-demand nodes."""
    stats = sum(
        (simulate(seed, SCENARIOS["region"]).stats for seed in SEEDS),
        start=type(World(0, ROUGH).stats)(),
    )
    assert stats["fallbacks"] > 0
    assert stats["purchase option changes"] > stats["fallbacks"]  # and back
    assert stats["handler terminations"] > 0


# --- a broken decision fails the quick run -----------------------------------------------


def restores_at_once(*args: Any) -> decision.Decision:
    """Forgets that a fallback lasts a cool-down: back to spot as soon as it is set."""
    d = decision.decide(*args)
    if args[0].state.fallback_since is not None and d.state.fallback_since is not None:
        configured = decision.Distribution(args[2].on_demand_base, args[2].on_demand_percentage)
        return replace(d, distribution=configured, state=replace(d.state, fallback_since=None))
    return d


def raises_again(*args: Any) -> decision.Decision:
    """Asks for the extra node again on every invocation while it is on its way."""
    d = decision.decide(*args)
    r = d.state.replacement
    group = args[0]
    launching = r is not None and r.draining_since is None and d.desired_capacity is None
    if launching and group.desired < group.max_size:
        return replace(d, desired_capacity=group.desired + 1)
    return d


def lowers_the_base(*args: Any) -> decision.Decision:
    """Sets the on-demand base to 0 whenever it changes the distribution."""
    d = decision.decide(*args)
    if d.distribution is not None:
        return replace(
            d, distribution=decision.Distribution(0, d.distribution.on_demand_percentage)
        )
    return d


@pytest.mark.parametrize(
    ("broken", "invariant"),
    [
        (restores_at_once, "purchase-interval"),
        (raises_again, "duplicate"),
        (lowers_the_base, "on-demand-base"),
    ],
)
def test_a_broken_decide_fails_the_quick_run(monkeypatch, broken, invariant):
    monkeypatch.setattr(handler, "decide", broken)
    found = {v.invariant for seed in SEEDS for v in simulate(seed, ROUGH).violations}
    assert invariant in found


def test_a_decide_that_would_kill_tasks_is_stopped_by_apply(monkeypatch):
    """Removing the old node as soon as it is drained, tasks or not: apply refuses it."""

    def terminates_at_once(*args: Any) -> decision.Decision:
        d = decision.decide(*args)
        r = d.state.replacement
        if r is not None and r.draining_since is not None:
            return replace(d, terminate=(r.instance_id,))
        return d

    monkeypatch.setattr(handler, "decide", terminates_at_once)
    results = [simulate(seed, ROUGH) for seed in SEEDS]
    assert not any(v.invariant == "running-tasks" for r in results for v in r.violations)
    assert not any(r.stats["tasks killed by handler"] for r in results)


def test_the_model_still_drives_a_handler_invoked_directly():
    """The delivery of a rack without the queue (every rule invoking the function, one at a
    time): what the bench uses to run the code as it was."""
    sim = Simulation(0, replace(ROUGH, hours=2))
    sim.queued = None
    result = sim.run()
    assert not result.violations, report([result])
    assert result.stats["invocations"] > 120


# --- the model answers as AWS does --------------------------------------------------------


def test_the_fake_clients_check_requests_against_botocore():
    sim = Simulation(0, ROUGH)
    sim.clients.autoscaling.faults = False
    with pytest.raises(ParamValidationError):
        sim.clients.autoscaling.set_desired_capacity(AutoScalingGroupName="rack-nodes")
    with pytest.raises(ClientError, match="outside"):
        sim.clients.autoscaling.set_desired_capacity(
            AutoScalingGroupName="rack-nodes", DesiredCapacity=11
        )


def test_aws_refuses_a_decrement_below_the_minimum():
    sim = Simulation(0, replace(ROUGH, services=QUIET))
    sim.clients.autoscaling.faults = False
    world = sim.world
    assert world.desired == world.min_size
    instance = next(iter(world.instances))
    with pytest.raises(ClientError, match="desiredSize equals minSize"):
        sim.clients.autoscaling.terminate_instance_in_auto_scaling_group(
            InstanceId=instance, ShouldDecrementDesiredCapacity=True
        )


def test_every_rule_of_the_model_cites_the_aws_page_it_follows():
    text = Path(spot_model.__file__).read_text(encoding="utf-8")
    cited = {key for key in spot_model.DOCS if f"``{key}``" in text}
    assert cited == set(spot_model.DOCS)
    assert all(url.startswith("https://docs.aws.amazon.com/") for url in spot_model.DOCS.values())


def test_a_settings_change_reaches_the_model():
    slow = Settings(on_demand_base=1, cooldown=timedelta(hours=1))
    assert spot_model.back_to_spot_minutes(slow) > spot_model.back_to_spot_minutes(Settings())
