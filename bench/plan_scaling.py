"""How planning grows with apps, and what paaskit adds over plain pulumi_aws.

    python bench/plan_scaling.py                     # 1, 10 and 50 apps
    python bench/plan_scaling.py 1 5 20              # other counts
    python bench/plan_scaling.py --services 1 10 40  # one app of that many services

With `--services` each count is one app on the rack whose services are internal
(reached by name), each with a volume of its own and one shared with the others,
each linking to the one before: the parts an app grows by per service besides the
edge (the Flask example has that).

For each count N it plans one program: the reference rack (default settings)
with N copies of the Flask example on it, each its own App. It prints the
resources registered, the seconds taken (best of `--repeat`), resources per
second, and the ratio to a baseline that registers the *same* resources
(same types, names, inputs and parents) directly through the Pulumi SDK in
the same recording engine, with no paaskit components, validation or Output
plumbing: paaskit's own overhead. The target is a ratio at or under 1.3, and
seconds growing linearly with N.
"""

from __future__ import annotations

import argparse
import itertools
import re
import statistics
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import pulumi
import pulumi_aws
import pulumi_docker

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from paaskit import Rack  # noqa: E402
from paaskit.app import App, AppArgs  # noqa: E402
from paaskit.manifest import load_manifest, parse_manifest  # noqa: E402
from paaskit.plan import Plan, ResourceRecord, RunOptions, run  # noqa: E402

MANIFEST = ROOT / "examples" / "flask" / "paaskit.yml"


def rack_with_apps(count: int) -> Callable[[], None]:
    manifest = load_manifest(MANIFEST)

    def program() -> None:
        rack = Rack("rack")
        for i in range(count):
            App(f"app{i:03d}", AppArgs(manifest=manifest, rack=rack.info))

    return program


def rack_with_services(count: int) -> Callable[[], None]:
    services: dict[str, Any] = {}
    for i in range(count):
        services[f"svc{i:03d}"] = {
            "image": "ghcr.io/example/api:1",
            "port": 8000,
            "internal": True,
            "volumes": ["/data", "shared:/shared"],
            "links": [f"svc{i - 1:03d}"] if i else [],
        }
    manifest = parse_manifest({"services": services})

    def program() -> None:
        rack = Rack("rack")
        App("app", AppArgs(manifest=manifest, rack=rack.info))

    return program


def resource_class(token: str) -> type[pulumi.CustomResource]:
    """The pulumi_aws (or pulumi_docker) class of a type token: `aws:ec2/vpc:Vpc` -> `aws.ec2.Vpc`."""
    package, module, name = token.split(":")
    if package == "pulumi" and module == "providers":
        return pulumi_aws.Provider if name == "aws" else pulumi_docker.Provider
    root = {"aws": pulumi_aws, "docker": pulumi_docker}[package]
    module = module.split("/")[0]
    if module != "index":
        root = getattr(root, module if hasattr(root, module) else module + "_")
    cls: type[pulumi.CustomResource] = getattr(root, name)
    return cls


def _snake(name: str) -> str:
    return re.sub(r"(?<!^)(?=[A-Z])", "_", name).lower()


def _revive(value: Any) -> Any:
    """Assets and archives back from the plan's summaries of them."""
    if isinstance(value, dict) and "@asset" in value:
        path = value["@asset"].get("path")
        return pulumi.FileAsset(path) if path else pulumi.StringAsset("")
    if isinstance(value, dict) and "@archive" in value:
        return pulumi.AssetArchive({k: _revive(v) for k, v in value["@archive"].items()})
    if isinstance(value, dict):
        return {k: _revive(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_revive(v) for v in value]
    return value


def replay(records: Sequence[ResourceRecord]) -> Callable[[], None]:
    """Register the same resources, with their recorded inputs, straight through pulumi_aws's classes.

    No paaskit component, validation or Output plumbing: one class call per
    resource, as a hand-written program would make. Inputs go in as recorded
    (top-level names back to Python's snake_case).
    """
    custom = [(resource_class(r.type), r) for r in records if r.custom and not r.read]

    def program() -> None:
        for cls, record in custom:
            kwargs: dict[str, Any] = {_snake(k): _revive(v) for k, v in record.inputs.items()}
            cls(record.name, **kwargs)

    return program


def timed(program: Callable[[], None], repeat: int) -> tuple[Plan, float]:
    best = float("inf")
    plan: Plan | None = None
    for _ in range(repeat):
        start = time.perf_counter()
        plan = run(program, RunOptions(project="bench", stack="bench"))
        best = min(best, time.perf_counter() - start)
    assert plan is not None
    return plan, best


def measure(
    counts: Sequence[int],
    repeat: int,
    program: Callable[[int], Callable[[], None]] = rack_with_apps,
) -> list[dict[str, float]]:
    # Warm up once (imports, the instance catalogue, caches) so the first count is not charged for it.
    warm, _ = timed(program(1), 1)
    timed(replay(warm.resources), 1)
    rows = []
    for count in counts:
        plan, seconds = timed(program(count), repeat)
        custom = sum(1 for r in plan if r.custom)
        _, baseline = timed(replay(plan.resources), repeat)
        rows.append(
            {
                "apps": count,
                "resources": custom,
                "seconds": seconds,
                "per_second": custom / seconds,
                "baseline_seconds": baseline,
                "ratio": seconds / baseline,
            }
        )
    return rows


def table(rows: list[dict[str, float]], unit: str = "apps") -> str:
    lines = [
        f"{unit:>5} {'resources':>10} {'seconds':>9} {'res/s':>8} {'direct s':>9} {'ratio':>6}",
    ]
    for row in rows:
        lines.append(
            f"{int(row['apps']):>5} {int(row['resources']):>10} {row['seconds']:>9.2f} "
            f"{row['per_second']:>8.0f} {row['baseline_seconds']:>9.2f} {row['ratio']:>6.2f}"
        )
    if len(rows) > 1:
        # Linear growth: each added app costs the same, whatever the count.
        steps = []
        for before, after in itertools.pairwise(rows):
            per_app = (after["seconds"] - before["seconds"]) / max(
                1.0, after["apps"] - before["apps"]
            )
            steps.append(f"{int(before['apps'])}->{int(after['apps'])}: {per_app:.3f}")
        lines.append("")
        each = unit.rstrip("s")
        lines.append(
            f"seconds per added {each} ({', '.join(steps)}); equal steps mean linear growth"
        )
        lines.append(
            f"median ratio to plain pulumi_aws: {statistics.median(r['ratio'] for r in rows):.2f} (target <= 1.3)"
        )
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "counts", nargs="*", type=int, default=[1, 10, 50], help="numbers of apps to plan"
    )
    parser.add_argument(
        "--repeat", type=int, default=3, help="runs per measurement; the best is kept"
    )
    parser.add_argument(
        "--services",
        action="store_true",
        help="count services of one app (internal, with volumes and links) instead of apps",
    )
    args = parser.parse_args(argv)
    if args.services:
        print(table(measure(args.counts, args.repeat, rack_with_services), unit="svcs"))
    else:
        print(table(measure(args.counts, args.repeat)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
