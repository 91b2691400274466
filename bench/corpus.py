"""How much of real convox.yml files paaskit plans, and whether each plan reflects its manifest.

    python bench/corpus.py DIR            # every DIR/*/convox.yml
    python bench/corpus.py DIR --verbose  # and each missing setting

For each `DIR/<name>/convox.yml` (with `DIR/<name>/env.json`, the values of its variables,
if there is one) it plans the app stack (`stacks/app`) onto the reference rack's default
stack, as `paaskit plan stacks/app -c paaskit-app:manifest=... -c paaskit-app:environment=...`
would, with the app named after the folder. A manifest that plans is then read back from
the plan: every service an ECS service, every resource a component, every timer a schedule
with the translated expression, every variable in its service's container (plain or
secret), every scale setting (CPU, memory, count, autoscaling range) and every web
service's health check in the container, the ECS service, the target group; every internal
service reachable inside the rack, every link's `<NAME>_URL`, every volume mounted where
written (from EFS, or the node for a host path), every port, `privileged` and a web
service's `timeout`. It prints a line per manifest and a summary: how many plan, and the
failures by reason.

The rack is planned once; the manifests are never copied anywhere.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from collections import Counter
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from paaskit.manifest import (  # noqa: E402
    Manifest,
    ManifestError,
    Service,
    env_prefix,
    load_manifest,
)
from paaskit.plan import Plan, PlanError, ResourceRecord, plan_directory  # noqa: E402
from paaskit.tags import SERVICE_TAG  # noqa: E402

RACK_STACK = "organization/paaskit-rack/dev"


@dataclass
class Reflection:
    """What of one manifest its plan shows, by kind of setting: (found, expected, missing)."""

    counts: dict[str, list[int]] = field(default_factory=dict)
    missing: list[str] = field(default_factory=list)

    def check(self, kind: str, what: str, ok: bool) -> None:
        found, expected = self.counts.setdefault(kind, [0, 0])
        self.counts[kind] = [found + ok, expected + 1]
        if not ok:
            self.missing.append(f"{kind}: {what}")

    @property
    def complete(self) -> bool:
        return not self.missing

    def summary(self) -> str:
        return ", ".join(f"{kind} {f}/{e}" for kind, (f, e) in self.counts.items())


def app_name(folder: str) -> str:
    """The folder's name as an app name: at most 31 of [a-z0-9-]."""
    return re.sub(r"[^a-z0-9-]+", "-", folder.lower())[:31].strip("-")


def containers(plan: Plan, service: str) -> list[dict[str, Any]]:
    for record in plan.of_type("aws:ecs/taskDefinition:TaskDefinition"):
        if _tag(record) == service:
            definitions: list[dict[str, Any]] = json.loads(record.inputs["containerDefinitions"])
            return definitions
    return []


def _tag(record: ResourceRecord) -> str | None:
    tags = record.inputs.get("tags") or {}
    return tags.get(SERVICE_TAG) if isinstance(tags, Mapping) else None


def _one(plan: Plan, type_: str, service: str) -> ResourceRecord | None:
    found = [r for r in plan.of_type(type_) if _tag(r) == service]
    return found[0] if len(found) == 1 else None


def reflect(manifest: Manifest, settings: Mapping[str, str], plan: Plan) -> Reflection:
    """What of `manifest` the plan shows."""
    out = Reflection()
    for name, service in manifest.services.items():
        ecs = _one(plan, "aws:ecs/service:Service", name)
        out.check("services", name, ecs is not None)
        (container, *_) = containers(plan, name) or [{}]
        environment = manifest.service_environment(name)
        present = {e["name"] for e in container.get("environment", [])}
        present |= {s["name"] for s in container.get("secrets", [])}
        wanted = [k for k in environment.variables if k in settings or environment.variables[k]]
        wanted += [k for k in environment.passed(settings) if k not in environment.variables]
        for key in wanted:
            out.check("variables", f"{name}.{key}", key in present)
        scale = service.scale
        out.check("scale", f"{name}.cpu", container.get("cpu") == scale.cpu)
        out.check("scale", f"{name}.memory", container.get("memory") == scale.memory)
        if ecs is not None and not service.agent.enabled and not scale.autoscaling:
            count = 1 if service.singleton else scale.min
            out.check("scale", f"{name}.count", ecs.inputs.get("desiredCount") == count)
        if scale.autoscaling:
            target = _one(plan, "aws:appautoscaling/target:Target", name)
            inputs = target.inputs if target is not None else {}
            bounds = (inputs.get("minCapacity"), inputs.get("maxCapacity"))
            out.check("scale", f"{name}.count", bounds == (scale.min, scale.max))
        for other in service.links:
            out.check("links", f"{name} -> {other}", f"{env_prefix(other)}_URL" in present)
        _reflect_volumes(out, plan, name, service, container)
        mappings = {
            (m.get("containerPort"), m.get("protocol")): m.get("hostPort")
            for m in container.get("portMappings", [])
        }
        for extra in service.host_ports:
            found = mappings.get((extra.port, extra.protocol), 0) == extra.port
            out.check("ports", f"{name}.{extra.port}/{extra.protocol} on its node", found)
        for extra in service.internal_ports:
            found = (extra.port, extra.protocol) in mappings
            out.check("ports", f"{name}.{extra.port}/{extra.protocol} inside the rack", found)
        if service.privileged:
            out.check("privileged", name, container.get("privileged") is True)
        if service.timeout is not None and service.web:
            cdn = _one(plan, "aws:cloudfront/distribution:Distribution", name)
            origins = (cdn.inputs.get("origins") or [{}]) if cdn is not None else [{}]
            waits = (origins[0].get("vpcOriginConfig") or {}).get("originReadTimeout")
            out.check("timeout", f"{name}.timeout", waits == service.timeout)
        if service.internal and service.port is not None:
            reachable = ecs is not None and (
                _one(plan, "aws:lb/targetGroup:TargetGroup", name) is not None
                or bool(ecs.inputs.get("serviceRegistries"))
                or bool(ecs.inputs.get("serviceConnectConfiguration"))
            )
            out.check("internal", f"{name} reachable inside the rack", reachable)
        if service.web and ecs is not None:
            group = _one(plan, "aws:lb/targetGroup:TargetGroup", name)
            check = (group.inputs.get("healthCheck") or {}) if group is not None else {}
            health = service.health
            out.check("health", f"{name}.path", check.get("path") == health.path)
            out.check("health", f"{name}.interval", check.get("interval") == health.interval)
            out.check("health", f"{name}.timeout", check.get("timeout") == health.timeout)
            grace = ecs.inputs.get("healthCheckGracePeriodSeconds")
            out.check("health", f"{name}.grace", grace == health.grace)
    components = [r for r in plan.resources if not r.custom]
    for name in manifest.resources:
        found = any(r.name.endswith((f"-db-{name}", f"-{name}")) for r in components)
        out.check("resources", name, found)
    schedules = plan.of_type("aws:scheduler/schedule:Schedule")
    for name, timer in manifest.timers.items():
        expression = timer.aws_schedule_expression()
        found = any(
            r.name.endswith(f"-timer-{name}") and r.inputs.get("scheduleExpression") == expression
            for r in schedules
        )
        out.check("timers", name, found)
    return out


def _reflect_volumes(
    out: Reflection, plan: Plan, name: str, service: Service, container: Mapping[str, Any]
) -> None:
    """Each volume mounted where the manifest says, from EFS or the node as its kind says."""
    task = _one(plan, "aws:ecs/taskDefinition:TaskDefinition", name)
    volumes = {v.get("name"): v for v in (task.inputs.get("volumes") or [])} if task else {}
    mounts = {m.get("containerPath"): m for m in container.get("mountPoints", [])}
    for volume in service.volumes:
        mount = mounts.get(volume.path) or {}
        source = volumes.get(mount.get("sourceVolume")) or {}
        if volume.kind == "host":
            kind_ok = source.get("hostPath") == volume.source
        else:
            config = source.get("efsVolumeConfiguration") or {}
            kind_ok = bool(config.get("authorizationConfig", {}).get("accessPointId"))
        ok = kind_ok and bool(mount.get("readOnly")) == volume.read_only
        out.check("volumes", f"{name}: {volume.key(name)} at {volume.path}", ok)


# A key path that starts a problem: at the start, after a problem's indent, "; " or ": " (a
# key path inside a message, "set resources.main.options.extendedSupport", is advice).
_KEYS = re.compile(
    r"(?:^|(?<=\n  )|(?<=; )|(?<=: ))"
    r"((?:services|resources|timers|balancers|appSettings|labels|environment)"
    r"(?:\.[\w-]+|\[\d+\])*): "
)
_CATEGORIES = [
    # A key and the start of its message: a domain or sticky sessions on a service without a
    # port (its `ports`, if any, are reached inside the rack only, as on Convox).
    (r"\.(domain|sticky): .*(routes to a port|need a port)", "no port to route to"),
    (r"\.domain: not a domain name", "a domain that is not a hostname"),
    (r"\.domain$", "domains"),
    (r"^resources\.[\w-]+\.type$", "resource types"),
    (r"^resources\.[\w-]+\.options\.version$", "engine versions past their support"),
    (r"\.volumes(\[\d+\])?$", "volumes"),
    (r"\.(ports|internalAndExternal|links)(\[\d+\])?$", "internal services"),
    (r"^balancers$", "custom balancers"),
    (r"\.privileged$", "privileged containers"),
    (r"\.(cpu_shares|mem_limit|entrypoint|dockerfile|env_file|expose)$", "docker-compose keys"),
    (r"\.targets\.external$", "Kubernetes metrics"),
]


def category(message: str) -> str:
    """Why a manifest does not plan, by the key paths its error names: every reason given."""
    found = []
    for match in _KEYS.finditer(message):
        key = match.group(1)
        said = f"{key}: {message[match.end() :].splitlines()[0] if message[match.end() :] else ''}"
        names = [
            name
            for pattern, name in _CATEGORIES
            if re.search(pattern, said if ": " in pattern else key)
        ]
        found += names[:1] or [key]
    return " + ".join(dict.fromkeys(found)) or "other"


def corpus(directory: Path) -> Iterator[tuple[Path, dict[str, str]]]:
    for manifest in sorted(directory.resolve().glob("*/convox.yml")):
        env_file = manifest.parent / "env.json"
        env = json.loads(env_file.read_text()) if env_file.is_file() else {}
        yield manifest, {str(k): str(v) for k, v in env.items()}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("directory", type=Path, help="a folder of <name>/convox.yml")
    parser.add_argument("--verbose", action="store_true", help="list each missing setting")
    args = parser.parse_args(argv)

    rack = plan_directory(ROOT, stack="dev")
    refs = {RACK_STACK: rack.outputs}
    planned = complete = 0
    failures: Counter[str] = Counter()
    found = list(corpus(args.directory))
    for path, settings in found:
        name = path.parent.name
        overrides = [
            f"paaskit-app:manifest={path}",
            f"paaskit-app:environment={json.dumps(settings)}",
            f"paaskit-app:name={app_name(name)}",
        ]
        try:
            plan = plan_directory(ROOT / "stacks" / "app", overrides=overrides, refs=refs)
        except PlanError as error:
            reason = str(error).split(": ", 1)[-1].replace(str(path), "convox.yml")
            failures[category(reason)] += 1
            print(f"{name}: does not plan: {reason}")
            continue
        planned += 1
        try:
            manifest = load_manifest(path, env=settings)
        except ManifestError as error:  # planned, so it reads; kept for a clear message
            print(f"{name}: plans, but does not read back: {error}")
            continue
        reflection = reflect(manifest, settings, plan)
        complete += reflection.complete
        verdict = "plans, all reflected" if reflection.complete else "plans, NOT all reflected"
        warned = f"; {len(plan.warnings)} warning(s)" if plan.warnings else ""
        print(f"{name}: {verdict} ({reflection.summary()}){warned}")
        for item in reflection.missing if args.verbose or not reflection.complete else []:
            print(f"    missing {item}")
        for warning in plan.warnings if args.verbose else []:
            print(f"    warning {warning['message'].replace(str(path), 'convox.yml')}")
    print()
    print(f"{planned} of {len(found)} manifests plan; {complete} reflect all of their manifest.")
    for reason, count in failures.most_common():
        print(f"  {count} do not plan: {reason}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
