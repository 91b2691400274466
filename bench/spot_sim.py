"""The spot handler in a model of AWS for many simulated hours: its invariants and what it costs.

    python bench/spot_sim.py                      # 240 runs of 10 hours per scenario
    python bench/spot_sim.py --runs 20 --hours 4  # quicker
    python bench/spot_sim.py --code /path/to/checkout   # another version of paaskit.spot

Each run drives the real handler (``paaskit.spot.handler.handle`` -> ``decide`` ->
``apply``) through the AWS model of ``tests/spot_model.py`` (an Auto Scaling group
with a mixed instances policy over three zones, ECS managed scaling, termination
protection and draining, the spot market, EventBridge and Lambda delivery, API
faults), seeded so that a run can be replayed. For each scenario it prints, per
invariant (``tests.spot_model.INVARIANTS``), how many runs broke it and how
often; then what the handler cost: the share of node-hours on on-demand (all
nodes, and above the configured base), fallbacks to on-demand per 6 hours,
tasks killed by the handler's terminations, and task-minutes waiting for room.

Scenarios: ``zone`` (short spot shortages in one zone at a time, the common
case), ``region`` (rarer, longer shortages in every zone at once, where the
fallback must keep the capacity) and ``quiet`` (the zone scenario on a small
rack that sits at its minimum size, ECS managed scaling's scale-in alarm firing).
"""

from __future__ import annotations

import argparse
import importlib.util
import sys
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent

SCENARIOS: dict[str, dict[str, Any]] = {
    "zone": {},
    "region": {"zone_shortages_per_hour": 0.1, "region_shortages_per_hour": 0.12},
    "quiet": {"services": "QUIET"},
}


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=240, help="runs per scenario (default 240)")
    parser.add_argument("--hours", type=float, default=10.0, help="simulated hours per run")
    parser.add_argument("--seed", type=int, default=0, help="first seed (runs use seed..seed+runs)")
    parser.add_argument("--scenario", choices=[*SCENARIOS, "all"], default="all")
    parser.add_argument("--code", type=Path, help="a checkout whose paaskit.spot to drive")
    parser.add_argument("--show", type=int, default=3, help="violations to show per invariant")
    args = parser.parse_args(argv)
    # paaskit from --code when given, else from this checkout; the model always from here.
    sys.path.insert(0, str((args.code or ROOT).resolve()))
    spec = importlib.util.spec_from_file_location("spot_model", ROOT / "tests" / "spot_model.py")
    if spec is None or spec.loader is None:
        raise SystemExit(f"cannot load {ROOT / 'tests' / 'spot_model.py'}")
    spot_model = importlib.util.module_from_spec(spec)
    sys.modules["spot_model"] = spot_model
    spec.loader.exec_module(spot_model)
    import paaskit.spot

    print(f"paaskit.spot from {Path(paaskit.spot.__file__).parent}")

    names = list(SCENARIOS) if args.scenario == "all" else [args.scenario]
    for name in names:
        changes = {
            key: getattr(spot_model, value) if key == "services" else value
            for key, value in SCENARIOS[name].items()
        }
        scenario = replace(spot_model.Scenario(hours=args.hours), **changes)
        started = time.perf_counter()
        results = [
            spot_model.simulate(seed, scenario) for seed in range(args.seed, args.seed + args.runs)
        ]
        seconds = time.perf_counter() - started
        report(name, results, seconds, args.show, spot_model)
    return 0


def report(name: str, results: list[Any], seconds: float, show: int, spot_model: Any) -> None:
    invariants: dict[str, str] = spot_model.INVARIANTS
    hours = sum(r.minutes for r in results) / 60
    print(f"== scenario {name}: {len(results)} runs, {hours:.0f} simulated hours, {seconds:.0f} s")
    print(f"{'invariant':<20} {'runs broken':>11} {'times':>6}  what")
    for key, what in invariants.items():
        broken = [r for r in results if any(v.invariant == key for v in r.violations)]
        times = sum(1 for r in results for v in r.violations if v.invariant == key)
        print(f"{key:<20} {len(broken):>11} {times:>6}  {what}")
    for key in invariants:
        examples = [(r.seed, v) for r in results for v in r.violations if v.invariant == key]
        for seed, v in examples[:show]:
            print(f"    {key}: seed {seed} minute {v.minute}: {v.detail}")
    stats: Counter[str] = Counter()
    for r in results:
        stats.update(r.stats)
    on_demand, spot = stats["on-demand node-minutes"], stats["spot node-minutes"]
    total = on_demand + spot or 1
    base = sum(r.scenario.settings.on_demand_base for r in results) / len(results)
    above = max(0.0, on_demand - base * len(results) * results[0].minutes)
    settings = results[0].scenario.settings
    print(
        f"stated bounds: back to spot {spot_model.back_to_spot_minutes(settings)} min, "
        f"drained node {spot_model.wedge_minutes(settings)} min, purchase option changes "
        f"{spot_model.purchase_interval_minutes(settings)} min apart"
    )
    returns = sorted(m for r in results for m in getattr(r, "back_to_spot", []))
    if returns:
        print(
            f"back to the configured share once spot is back: {len(returns)} times, median "
            f"{returns[len(returns) // 2]} min, p95 {returns[int(len(returns) * 0.95)]} min, "
            f"longest {returns[-1]} min"
        )
    gaps = [
        r.stats["shortest purchase change gap"]
        for r in results
        if "shortest purchase change gap" in r.stats
    ]
    if gaps:
        print(f"shortest gap between two purchase option changes  {min(gaps)} min")
    print(f"on-demand share of node-hours          {on_demand / total:6.1%}")
    print(f"  above the configured base            {above / total:6.1%}")
    print(f"fallbacks to on-demand per 6 hours     {stats['fallbacks'] / hours * 6:6.2f}")
    print(
        f"purchase option changes per 6 hours    {stats['purchase option changes'] / hours * 6:6.2f}"
    )
    print(f"tasks killed by the handler            {stats['tasks killed by handler']:6d}")
    print(f"tasks killed by spot interruptions     {stats['tasks killed by spot interruption']:6d}")
    print(
        f"task-minutes waiting for room per hour {stats['task-minutes waiting for room'] / hours:6.2f}"
    )
    print(
        f"handler terminations per 6 hours       {stats['handler terminations'] / hours * 6:6.2f}"
    )
    print(
        f"invocations {stats['invocations']}, failed {stats['invocations failed']} "
        f"(faults injected {stats['faults injected']}), events lost {stats['events lost']}, "
        f"to the dead-letter queue {stats['events to the dead-letter queue']}"
    )
    print()


if __name__ == "__main__":
    raise SystemExit(main())
