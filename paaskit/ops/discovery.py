"""Find racks, apps and services by their `paaskit:*` tags, never by physical names.

The contract (see docs/operations.md): every resource of a rack carries
`paaskit:rack=<rack>`; of an app also `paaskit:app=<app>`; per service also
`paaskit:service=<service>`. Racks are found as ECS clusters tagged
`paaskit:rack`, apps and services as ECS services tagged with all three, both
through the Resource Groups Tagging API (`tag:GetResources`, one paginated call
for the whole region). That API also returns resources that were tagged once
and deleted since, so what it finds is confirmed with ECS (an INACTIVE service
or cluster is not an app or a rack).

Names that come from the contract rather than from AWS: an app's log group is
`/paaskit/<rack>/<app>` with streams `<service>/<service>/<task id>`; its
settings are SSM parameters `/paaskit/<rack>/<app>/<KEY>`.

`--rack` is needed only when the answer would otherwise be ambiguous: an app
name found on two racks of the region, or `paaskit apps` asked for one rack.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

from .aws import Aws
from .errors import OpsError

__all__ = [
    "APP_TAG",
    "RACK_TAG",
    "SERVICE_TAG",
    "App",
    "Rack",
    "describe_services",
    "find_app",
    "find_apps",
    "find_racks",
    "select_racks",
]

RACK_TAG = "paaskit:rack"
APP_TAG = "paaskit:app"
SERVICE_TAG = "paaskit:service"

_DESCRIBE_SERVICES_BATCH = 10  # DescribeServices takes at most 10 services
_DESCRIBE_CLUSTERS_BATCH = 100


@dataclass(frozen=True)
class Rack:
    """A rack: its name and ECS cluster."""

    name: str
    cluster_arn: str


@dataclass(frozen=True)
class App:
    """An app on a rack: its ECS services by manifest service name."""

    name: str
    rack: Rack
    services: dict[str, str] = field(default_factory=dict)
    """Service name (as in the manifest) -> ECS service ARN."""
    described: dict[str, dict[str, Any]] = field(default_factory=dict, compare=False, repr=False)
    """Service name -> ECS's description of the service when the app was found."""

    @property
    def log_group(self) -> str:
        return f"/paaskit/{self.rack.name}/{self.name}"

    @property
    def parameter_path(self) -> str:
        return f"/paaskit/{self.rack.name}/{self.name}"

    def service_arn(self, service: str) -> str:
        """The ECS service ARN of `service`; `OpsError` naming the app's services otherwise."""
        if service not in self.services:
            known = ", ".join(sorted(self.services)) or "none"
            raise OpsError(f"app {self.name} has no service {service!r} (its services: {known})")
        return self.services[service]


def _tagged(
    aws: Aws, resource_type: str, filters: dict[str, str | None]
) -> Iterator[dict[str, Any]]:
    """Resources of `resource_type` (e.g. `ecs:service`) whose tags match `filters` (None: any value)."""
    tag_filters = [
        {"Key": key, "Values": [value]} if value is not None else {"Key": key}
        for key, value in filters.items()
    ]
    paginator = aws.client("resourcegroupstaggingapi").get_paginator("get_resources")
    for page in paginator.paginate(TagFilters=tag_filters, ResourceTypeFilters=[resource_type]):
        for mapping in page.get("ResourceTagMappingList", []):
            tags = {t["Key"]: t["Value"] for t in mapping.get("Tags", [])}
            yield {"arn": mapping["ResourceARN"], "tags": tags}


def _batches(items: list[str], size: int) -> Iterator[list[str]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def find_racks(aws: Aws) -> list[Rack]:
    """Every rack in the region (ACTIVE ECS clusters tagged `paaskit:rack`), by name."""
    tagged = {r["arn"]: r["tags"][RACK_TAG] for r in _tagged(aws, "ecs:cluster", {RACK_TAG: None})}
    if not tagged:
        return []
    ecs = aws.client("ecs")
    racks = []
    for batch in _batches(sorted(tagged), _DESCRIBE_CLUSTERS_BATCH):
        for cluster in ecs.describe_clusters(clusters=batch).get("clusters", []):
            if cluster.get("status") == "ACTIVE" and cluster["clusterArn"] in tagged:
                racks.append(Rack(tagged[cluster["clusterArn"]], cluster["clusterArn"]))
    return sorted(racks, key=lambda r: r.name)


def select_racks(aws: Aws, rack: str | None) -> list[Rack]:
    """The racks to look in: the one named `rack`, or all; `OpsError` when there is none."""
    racks = find_racks(aws)
    if not racks:
        raise OpsError(
            f"no paaskit rack in {aws.region}: no ECS cluster there is tagged {RACK_TAG} "
            "(check AWS_REGION and AWS_PROFILE)"
        )
    if rack is None:
        return racks
    chosen = [r for r in racks if r.name == rack]
    if not chosen:
        names = ", ".join(r.name for r in racks)
        raise OpsError(f"no rack named {rack!r} in {aws.region} (racks: {names})")
    if len(chosen) > 1:
        raise OpsError(f"rack {rack!r} has {len(chosen)} clusters tagged {RACK_TAG}={rack}")
    return chosen


def describe_services(aws: Aws, cluster_arn: str, arns: Iterable[str]) -> dict[str, dict[str, Any]]:
    """ECS's description of each service, by ARN (only those that exist and are not INACTIVE)."""
    ecs = aws.client("ecs")
    described: dict[str, dict[str, Any]] = {}
    for batch in _batches(sorted(set(arns)), _DESCRIBE_SERVICES_BATCH):
        for service in ecs.describe_services(cluster=cluster_arn, services=batch).get(
            "services", []
        ):
            if service.get("status") != "INACTIVE":
                described[service["serviceArn"]] = service
    return described


def find_apps(aws: Aws, racks: list[Rack], app: str | None = None) -> list[App]:
    """Every app on `racks` (or only those named `app`), from their ECS services' tags, by rack then name."""
    by_rack = {r.name: r for r in racks}
    found: dict[tuple[str, str], dict[str, str]] = defaultdict(dict)
    for resource in _tagged(aws, "ecs:service", {RACK_TAG: None, APP_TAG: app}):
        tags = resource["tags"]
        rack, name, service = tags[RACK_TAG], tags[APP_TAG], tags.get(SERVICE_TAG)
        if rack in by_rack and service:
            found[(rack, name)][service] = resource["arn"]
    apps = []
    for rack_name in sorted({rack for rack, _ in found}):
        rack = by_rack[rack_name]
        candidates = {key: services for key, services in found.items() if key[0] == rack_name}
        live = describe_services(
            aws,
            rack.cluster_arn,
            [arn for services in candidates.values() for arn in services.values()],
        )
        for (_, app_name), services in sorted(candidates.items()):
            active = {name: arn for name, arn in sorted(services.items()) if arn in live}
            if active:
                described = {name: live[arn] for name, arn in active.items()}
                apps.append(App(app_name, rack, active, described))
    return apps


def find_app(aws: Aws, app: str, rack: str | None = None) -> App:
    """The app named `app` (on `rack`, or on whichever rack has it); `OpsError` if none or several."""
    racks = select_racks(aws, rack)
    matches = find_apps(aws, racks, app)
    if not matches:
        where = (
            f"rack {racks[0].name}"
            if rack
            else f"the racks in {aws.region} ({', '.join(r.name for r in racks)})"
        )
        raise OpsError(f"no app named {app!r} on {where}")
    if len(matches) > 1:
        names = ", ".join(m.rack.name for m in matches)
        raise OpsError(f"app {app!r} is on several racks ({names}): choose one with --rack")
    return matches[0]
