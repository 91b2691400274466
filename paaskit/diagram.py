"""A picture of a planned rack or app: viewers, domains, CloudFront, the load balancer, services, nodes.

`build(plan)` reads the plan's records (never paaskit's components) into a small
graph: who reaches what, and where it runs. `to_dot` and `to_mermaid` write it
as Graphviz or Mermaid text; `render` runs Graphviz's `dot` to make SVG or PNG
when it is installed, and writes Mermaid (which GitHub and most wikis draw)
when it is not, saying so. `default_output` says where a picture goes when
no path is given: never inside a folder the plan builds an image from.

What is drawn and how it is found:
- viewers (the internet) reach each distribution through its domains (its
  aliases; a domain still awaiting its certificate is dashed; without any,
  its own `*.cloudfront.net` name), and reach internet-facing load balancers;
- a distribution's origins: the buckets and load balancers it depends on, and
  a VPC origin's load balancer; an app's plan holds no load balancer, so the
  rack's (another stack's) is drawn for the listener its rules are on;
- a load balancer's services: ECS services whose target groups its listeners
  or listener rules forward to (with the rules' hosts, paths and routes);
- a service's resources: the databases its task definition reads;
- timers: the service whose task definition each schedule runs;
- services run on their ECS cluster; the cluster's nodes are the autoscaling
  groups behind its capacity providers, drawn in each zone of their subnets;
- databases sit in a private subnet of their zone (a Multi-AZ standby in the
  next zone), reached by whatever the database's security group admits;
- NAT gateways (or a NAT instance) in their public subnet carry the private
  subnets' egress to the internet.
"""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from .errors import PaaskitError
from .plan import Plan, PlanIndex, ResourceRecord
from .plan import types as t
from .plan.queries import subnet_zones, viewer_facing
from .plan.values import dig, flag, items, known, strings

__all__ = [
    "FORMATS",
    "Diagram",
    "DiagramError",
    "Edge",
    "Format",
    "Node",
    "Place",
    "Rendered",
    "build",
    "default_output",
    "graphviz",
    "kinds",
    "render",
    "to_dot",
    "to_mermaid",
]

Format = Literal["svg", "png", "mermaid", "dot"]
FORMATS: tuple[Format, ...] = ("svg", "png", "mermaid", "dot")
Place = Literal["outside", "edge", "vpc", "public", "private"]


class DiagramError(PaaskitError):
    """Graphviz failed to draw the picture; the message says why."""


@dataclass(frozen=True)
class Node:
    id: str
    label: str
    kind: str
    place: Place
    zone: str | None = None


@dataclass(frozen=True)
class Edge:
    source: str
    target: str
    label: str = ""
    dashed: bool = False
    weak: bool = False
    """Drawn, but not used to lay the picture out (egress back to the internet)."""


@dataclass
class Diagram:
    """What `to_dot` and `to_mermaid` draw."""

    title: str
    vpc_label: str = "VPC"
    zones: list[str] = field(default_factory=list)
    nodes: list[Node] = field(default_factory=list)
    edges: list[Edge] = field(default_factory=list)

    def node(self, node_id: str) -> Node:
        return next(n for n in self.nodes if n.id == node_id)

    def add(self, node: Node) -> str:
        if all(n.id != node.id for n in self.nodes):
            self.nodes.append(node)
        return node.id

    def link(
        self, source: str, target: str, label: str = "", *, dashed: bool = False, weak: bool = False
    ) -> None:
        edge = Edge(source, target, label, dashed, weak)
        if edge not in self.edges:
            self.edges.append(edge)


_COLORS = {
    "viewer": "#ffffff",
    "internet": "#ffffff",
    "domain": "#ffffff",
    "timer": "#fce4ec",
    "cdn": "#f3e5f5",
    "origin": "#ede7f6",
    "bucket": "#e8f5e9",
    "lb": "#e3f2fd",
    "service": "#fff3e0",
    "cluster": "#fff8e1",
    "nodes": "#fffde7",
    "database": "#e0f2f1",
    "nat": "#eceff1",
}
_SHAPES = {
    "viewer": "oval",
    "internet": "oval",
    "domain": "note",
    "bucket": "cylinder",
    "database": "cylinder",
}


class _Builder:
    def __init__(self, plan: Plan) -> None:
        self.plan = plan
        self.index = PlanIndex.of(plan)
        self.d = Diagram(title=f"{plan.project} ({plan.stack})")
        self.viewer = self.d.add(Node("viewers", "Viewers\n(internet)", "viewer", "outside"))

    def managed(self, *types: str) -> list[ResourceRecord]:
        return [r for r in self.index.of_type(*types) if r.custom and not r.read]

    def zone_of(self, subnet: ResourceRecord) -> str | None:
        zone = subnet.inputs.get("availabilityZone")
        return zone if isinstance(zone, str) and known(zone) else None

    def zones_of(self, r: ResourceRecord) -> list[str]:
        return subnet_zones(r, self.index) or []

    def build(self) -> Diagram:
        vpcs = self.managed(t.VPC)
        if vpcs:
            cidr = vpcs[0].inputs.get("cidrBlock")
            self.d.vpc_label = f"VPC {cidr}" if known(cidr) else "VPC"
        self.d.zones = sorted({z for s in self.managed(t.SUBNET) if (z := self.zone_of(s))})
        self.distributions()
        self.vpc_origins()
        self.load_balancers()
        self.services()
        self.clusters()
        self.databases()
        self.caches()
        self.service_resources()
        self.timers()
        self.lb_to_nodes()
        self.nat()
        if not any(self.viewer in (e.source, e.target) for e in self.d.edges):
            self.d.nodes = [n for n in self.d.nodes if n.id != self.viewer]  # nothing public
        return self.d

    # --- edge ------------------------------------------------------------------------

    def distributions(self) -> None:
        for dist in self.managed(t.DISTRIBUTION):
            aliases = strings(dist.inputs.get("aliases"))
            label = "CloudFront\n" + (aliases[0] if aliases else dist.name)
            node = self.d.add(Node(dist.urn, label, "cdn", "edge"))
            self.domains(dist, node, aliases)
            for bucket in self.index.dependencies(dist, *t.BUCKETS):
                target = self.d.add(Node(bucket.urn, f"S3 bucket\n{bucket.name}", "bucket", "edge"))
                self.d.link(node, target, "origin (OAC)")
            for lb in self.index.dependencies(dist, *t.LOAD_BALANCERS):
                self.d.add(self.lb_node(lb))
                self.d.link(node, lb.urn, "origin")
            for origin in self.index.dependencies(dist, t.VPC_ORIGIN):
                self.d.add(self.vpc_origin_node(origin))
                self.d.link(node, origin.urn, "VPC origin")
            if self.uses_vpc_origin(dist) and not self.index.dependencies(dist, t.VPC_ORIGIN):
                # An app's distribution, through its rack's VPC origin (another stack's).
                self.d.link(node, self.rack_lb(), "VPC origin (HTTP)")

    def domains(self, dist: ResourceRecord, node: str, aliases: Sequence[str]) -> None:
        """Viewers reach a distribution by its domains; with none, by its own name."""
        names = list(aliases)
        for name in names:
            domain = self.d.add(Node(f"domain:{name}", name, "domain", "outside"))
            self.d.link(self.viewer, domain, "HTTPS")
            self.d.link(domain, node)
        pending = [
            name
            for cert in self.certificates_of(dist)
            for name in [
                cert.inputs.get("domainName"),
                *strings(cert.inputs.get("subjectAlternativeNames")),
            ]
            if isinstance(name, str) and known(name) and name not in names
        ]
        for name in pending:
            domain = self.d.add(
                Node(
                    f"domain:{name}",
                    f"{name}\n(once its certificate is issued)",
                    "domain",
                    "outside",
                )
            )
            self.d.link(self.viewer, domain, "HTTPS", dashed=True)
            self.d.link(domain, node, dashed=True)
        if not names:
            own = self.d.add(
                Node(f"domain:{dist.urn}", "its own\n*.cloudfront.net name", "domain", "outside")
            )
            self.d.link(self.viewer, own, "HTTPS")
            self.d.link(own, node)

    def certificates_of(self, dist: ResourceRecord) -> list[ResourceRecord]:
        """The certificates made for a distribution that does not use them yet: same service."""
        service = _tag(dist, "paaskit:service")
        if service is None:
            return []
        return [
            c
            for c in self.managed("aws:acm/certificate:Certificate")
            if _tag(c, "paaskit:service") == service
            and _tag(c, "paaskit:app") == _tag(dist, "paaskit:app")
        ]

    @staticmethod
    def uses_vpc_origin(dist: ResourceRecord) -> bool:
        return any(
            isinstance(origin, dict) and isinstance(origin.get("vpcOriginConfig"), dict)
            for origin in items(dist.inputs.get("origins"))
        )

    def vpc_origin_node(self, origin: ResourceRecord) -> Node:
        return Node(origin.urn, f"CloudFront VPC origin\n{origin.name}", "origin", "edge")

    def rack_lb(self) -> str:
        """The load balancer of the rack an app's plan runs on (not in the plan)."""
        rack = next(
            (
                str(r.outputs.get("rackName"))
                for r in self.index.of_type(t.STACK_REFERENCE)
                if r.outputs.get("rackName")
            ),
            "",
        )
        label = "internal Application Load Balancer\n" + (
            f"(on rack {rack})" if rack else "(the rack's)"
        )
        return self.d.add(Node("rack-load-balancer", label, "lb", "vpc"))

    def vpc_origins(self) -> None:
        """A VPC origin reaches its load balancer; a rack's serves apps of other stacks."""
        for origin in self.managed(t.VPC_ORIGIN):
            node = self.d.add(self.vpc_origin_node(origin))
            for lb in self.index.dependencies(origin, *t.LOAD_BALANCERS):
                self.d.add(self.lb_node(lb))
                self.d.link(node, lb.urn, "HTTP, inside AWS")
            users = [
                d for d in self.index.dependents(origin, t.DISTRIBUTION) if self.uses_vpc_origin(d)
            ]
            if not any(_tag(d, "paaskit:app") for d in users):
                apps = self.d.add(
                    Node(
                        "apps-distributions",
                        "CloudFront\napps' distributions\n(one per web service)",
                        "cdn",
                        "edge",
                    )
                )
                own = self.d.add(
                    Node(
                        "domain:apps",
                        "each web service's\ndomains, or its own\n*.cloudfront.net name",
                        "domain",
                        "outside",
                    )
                )
                self.d.link(self.viewer, own, "HTTPS")
                self.d.link(own, apps)
                self.d.link(apps, node, "route header + secret")

    def lb_node(self, lb: ResourceRecord) -> Node:
        internal = flag(lb.inputs.get("internal")) is True
        kind = "internal " if internal else ""
        return Node(lb.urn, f"{kind}Application Load Balancer\n{lb.name}", "lb", "vpc")

    def load_balancers(self) -> None:
        for lb in self.managed(*t.LOAD_BALANCERS):
            node = self.d.add(self.lb_node(lb))
            if viewer_facing(lb, self.index):
                ports = sorted(
                    {
                        str(listener.inputs.get("port"))
                        for listener in self.index.dependents(lb, *t.LISTENERS)
                    }
                )
                self.d.link(self.viewer, node, "/".join(ports) if ports else "")

    # --- services --------------------------------------------------------------------

    def routes(self, group: ResourceRecord) -> list[tuple[str, str]]:
        """(load balancer node, what routes there) for a target group."""
        out = []
        for holder in self.index.dependents(group, *t.LISTENERS, *t.LISTENER_RULES):
            listeners = (
                [holder]
                if holder.type in t.LISTENERS
                else self.index.dependencies(holder, *t.LISTENERS)
            )
            what: list[str] = []
            for condition in items(holder.inputs.get("conditions")):
                what += strings(dig(condition, "hostHeader", "values"))
                what += strings(dig(condition, "pathPattern", "values"))
                if dig(condition, "httpHeader", "httpHeaderName") == "X-Paaskit-Route":
                    what += [f"route {v}" for v in strings(dig(condition, "httpHeader", "values"))]
            label = " ".join(what) or "default"
            lbs = [
                lb
                for listener in listeners
                for lb in self.index.dependencies(listener, *t.LOAD_BALANCERS)
            ]
            for lb in lbs:
                out.append((self.d.add(self.lb_node(lb)), label))
            if not lbs and holder.type in t.LISTENER_RULES:
                out.append((self.rack_lb(), label))  # the rack's, in another stack
        return out

    def services(self) -> None:
        for service in self.managed(t.ECS_SERVICE):
            desired = service.inputs.get("desiredCount")
            label = f"ECS service\n{service.name}" + (
                f"\n{desired} task(s)" if known(desired) and desired is not None else ""
            )
            node = self.d.add(Node(service.urn, label, "service", "vpc"))
            for group in self.index.dependencies(service, *t.TARGET_GROUPS):
                for lb_node, what in self.routes(group):
                    self.d.link(lb_node, node, what)
            for cluster in self.index.dependencies(service, t.ECS_CLUSTER):
                self.d.add(Node(cluster.urn, f"ECS cluster\n{cluster.name}", "cluster", "vpc"))
                self.d.link(node, cluster.urn, "runs on")

    def groups_of(self, cluster: ResourceRecord) -> list[ResourceRecord]:
        groups: list[ResourceRecord] = []
        providers = {p.urn for p in self.managed(t.CAPACITY_PROVIDER)}
        for holder in self.index.dependents(cluster):
            for provider in self.index.dependencies(holder, t.CAPACITY_PROVIDER):
                if provider.urn in providers:
                    groups += self.index.dependencies(provider, t.ASG)
        return groups

    def nodes_label(self, group: ResourceRecord) -> str:
        overrides = items(dig(group.inputs, "mixedInstancesPolicy", "launchTemplate", "overrides"))
        first = dig(overrides[0], "instanceType") if overrides else None
        kinds = (
            f"{first}" + (f" +{len(overrides) - 1} types" if len(overrides) > 1 else "")
            if first
            else ""
        )
        spread = dig(group.inputs, "mixedInstancesPolicy", "instancesDistribution")
        spot = (
            spread is not None and (dig(spread, "onDemandPercentageAboveBaseCapacity") or 0) < 100
        )
        sizes = f"{group.inputs.get('minSize')}-{group.inputs.get('maxSize')} nodes"
        return "\n".join(p for p in ("ECS nodes" + (" (spot)" if spot else ""), kinds, sizes) if p)

    def clusters(self) -> None:
        for cluster in self.managed(t.ECS_CLUSTER):
            node = self.d.add(Node(cluster.urn, f"ECS cluster\n{cluster.name}", "cluster", "vpc"))
            for group in self.groups_of(cluster):
                zones = self.zones_of(group) or [None]  # type: ignore[list-item]
                for zone in zones:
                    nid = self.d.add(
                        Node(
                            f"{group.urn}#{zone}", self.nodes_label(group), "nodes", "private", zone
                        )
                    )
                    self.d.link(node, nid, "places tasks", dashed=True)

    # --- data ------------------------------------------------------------------------

    def users_of(self, group: ResourceRecord) -> list[str]:
        """Diagram nodes that run with a security group: node groups and services."""
        found: list[str] = []
        for holder in self.index.dependents(group, t.LAUNCH_TEMPLATE, t.ECS_SERVICE):
            if holder.type == t.ECS_SERVICE:
                found.append(holder.urn)
            for asg in self.index.dependents(holder, t.ASG):
                found += [n.id for n in self.d.nodes if n.id.startswith(asg.urn + "#")]
        return [f for f in found if any(n.id == f for n in self.d.nodes)]

    def databases(self) -> None:
        zones = self.d.zones
        for db in self.managed(t.DB_INSTANCE):
            given = db.inputs.get("availabilityZone")
            zone = (
                given if isinstance(given, str) and known(given) else (zones[0] if zones else None)
            )
            engine = db.inputs.get("engine", "database")
            label = f"RDS {engine}\n{db.name}\n{db.inputs.get('instanceClass', '')}".rstrip()
            node = self.d.add(Node(db.urn, label, "database", "private", zone))
            if flag(db.inputs.get("multiAz")) and len(zones) > 1:
                other = next(z for z in zones if z != zone)
                standby = self.d.add(
                    Node(db.urn + "#standby", f"standby\n{db.name}", "database", "private", other)
                )
                self.d.link(node, standby, "synchronous copy", dashed=True)
            port = db.inputs.get("port", 5432 if engine == "postgres" else "")
            self.admitted(db, node, port)

    def admitted(self, store: ResourceRecord, node: str, port: Any) -> None:
        """Links from whoever the data store's security groups admit."""
        for group in self.index.dependencies(store, t.SECURITY_GROUP):
            for rule in self.index.attached(group, t.SG_INGRESS, "securityGroupId"):
                for source in self.index.dependencies(rule, t.SECURITY_GROUP):
                    if source.urn == group.urn:
                        continue
                    for user in self.users_of(source):
                        self.d.link(user, node, str(rule.inputs.get("fromPort", port)))

    def caches(self) -> None:
        """ElastiCache: a replication group (Valkey, Redis OSS) or a Memcached cluster."""
        zones = self.d.zones
        for cache in self.managed(t.CACHE_REPLICATION_GROUP, t.CACHE_CLUSTER):
            group = cache.type == t.CACHE_REPLICATION_GROUP
            engine = str(cache.inputs.get("engine") or ("redis" if group else "memcached"))
            count = cache.inputs.get("numCacheClusters" if group else "numCacheNodes") or 1
            label = (
                f"ElastiCache {engine}\n{cache.name}\n{count} x {cache.inputs.get('nodeType', '')}"
            ).rstrip()
            node = self.d.add(
                Node(cache.urn, label, "database", "private", zones[0] if zones else None)
            )
            self.admitted(cache, node, cache.inputs.get("port", 6379 if group else 11211))

    def nat(self) -> None:
        nats: dict[str | None, str] = {}
        for gateway in self.managed(t.NAT_GATEWAY):
            zone = next(iter(self.zones_of(gateway)), None)
            nats[zone] = self.d.add(
                Node(gateway.urn, f"NAT gateway\n{zone or ''}".rstrip(), "nat", "public", zone)
            )
        for instance in self.managed(t.INSTANCE):
            if flag(instance.inputs.get("sourceDestCheck")) is False:
                zone = next(iter(self.zones_of(instance)), None)
                kind = instance.inputs.get("instanceType", "")
                nats[zone] = self.d.add(
                    Node(instance.urn, f"NAT instance\n{kind}", "nat", "public", zone)
                )
        if not nats:
            return
        internet = self.d.add(Node("internet", "Internet\n(egress)", "internet", "outside"))
        for nid in nats.values():
            self.d.link(nid, internet, dashed=True)
        for node in [n for n in self.d.nodes if n.kind == "nodes"]:
            target = nats.get(node.zone) or next(iter(nats.values()))
            self.d.link(node.id, target, "egress", dashed=True, weak=True)

    def task_definition_of(self, service: ResourceRecord) -> ResourceRecord | None:
        found = self.index.dependencies(service, t.TASK_DEFINITION)
        return found[0] if found else None

    def service_resources(self) -> None:
        """A service reads the databases its task definition names (their host, their secret)."""
        for service in self.managed(t.ECS_SERVICE):
            task = self.task_definition_of(service)
            if task is None:
                continue
            near = [task, *self.index.dependencies(task)]
            stores = (t.DB_INSTANCE, t.CACHE_REPLICATION_GROUP, t.CACHE_CLUSTER)
            found = {r.urn: r for r in near if r.type in stores}
            for record in near:
                found.update({d.urn: d for d in self.index.dependencies(record, *stores)})
            for db in found.values():
                if any(n.id == db.urn for n in self.d.nodes):
                    port = db.inputs.get("port") or (
                        5432 if db.inputs.get("engine") == "postgres" else ""
                    )
                    self.d.link(service.urn, db.urn, str(port or "reads"))

    def timers(self) -> None:
        """A timer starts tasks of its service's task definition on a schedule."""
        for schedule in self.managed(t.SCHEDULE):
            expression = schedule.inputs.get("scheduleExpression", "")
            label = (
                f"timer {schedule.name}\n{expression}"
                if known(expression)
                else f"timer {schedule.name}"
            )
            node = self.d.add(Node(schedule.urn, label, "timer", "outside"))
            for task in self.index.dependencies(schedule, t.TASK_DEFINITION):
                for service in self.index.dependents(task, t.ECS_SERVICE):
                    self.d.link(node, service.urn, "runs a task")

    def lb_to_nodes(self) -> None:
        """Load balancer to nodes, as its security group's egress rules say."""
        for lb in self.managed(*t.LOAD_BALANCERS):
            for group in self.index.dependencies(lb, t.SECURITY_GROUP):
                for rule in self.index.attached(group, t.SG_EGRESS, "securityGroupId"):
                    for target in self.index.dependencies(rule, t.SECURITY_GROUP):
                        if target.urn == group.urn:
                            continue
                        for user in self.users_of(target):
                            if self.d.node(user).kind == "nodes":
                                self.d.link(lb.urn, user, "app traffic")


def _tag(record: ResourceRecord, key: str) -> str | None:
    tags = record.inputs.get("tags")
    value = tags.get(key) if isinstance(tags, dict) else None
    return value if isinstance(value, str) else None


def build(plan: Plan) -> Diagram:
    """The topology of a planned stack."""
    return _Builder(plan).build()


def default_output(
    plan: Plan,
    extension: str,
    *,
    cwd: Path | None = None,
    program_dir: Path | None = None,
) -> Path:
    """Where a picture of `plan` goes when no path is given: `<project>-<stack>.<ext>` here.

    Never inside a folder the plan builds an image from (an app's folder): a
    build copies that folder, picture and all. There, the picture goes to
    `paaskit-diagrams/` in the system's temporary directory instead.
    `program_dir` resolves build contexts given relative to the program.
    """
    here = (cwd or Path.cwd()).resolve()
    name = f"{plan.project}-{plan.stack}.{extension}"
    for image in plan.of_type("docker:index/image:Image"):
        context = dig(image.inputs, "build", "context")
        if not isinstance(context, str) or not known(context):
            continue
        folder = Path(context)
        if not folder.is_absolute():
            folder = (program_dir or here) / folder
        folder = folder.resolve()
        if here == folder or folder in here.parents:
            out = Path(tempfile.gettempdir()) / "paaskit-diagrams"
            out.mkdir(parents=True, exist_ok=True)
            return out / name
    return here / name


# --- writing ---------------------------------------------------------------------------


def _ids(diagram: Diagram) -> dict[str, str]:
    return {n.id: f"n{i}" for i, n in enumerate(diagram.nodes)}


def _esc_dot(text: str) -> str:
    return text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


def _groups(
    diagram: Diagram,
) -> tuple[list[Node], list[Node], list[Node], dict[str, dict[str, list[Node]]]]:
    outside = [n for n in diagram.nodes if n.place == "outside"]
    edge = [n for n in diagram.nodes if n.place == "edge"]
    vpc = [
        n
        for n in diagram.nodes
        if n.place == "vpc" or (n.place in ("public", "private") and n.zone is None)
    ]
    zones: dict[str, dict[str, list[Node]]] = {
        z: {"public": [], "private": []} for z in diagram.zones
    }
    for n in diagram.nodes:
        if n.place in ("public", "private") and n.zone is not None:
            zones.setdefault(n.zone, {"public": [], "private": []})[n.place].append(n)
    return outside, edge, vpc, zones


def to_dot(diagram: Diagram) -> str:
    """Graphviz text: the VPC and each zone's public and private subnets as boxes."""
    ids = _ids(diagram)
    outside, edge, vpc, zones = _groups(diagram)

    def node(n: Node, indent: str) -> str:
        shape = _SHAPES.get(n.kind, "box")
        style = "filled" if shape != "box" else "rounded,filled"
        return f'{indent}{ids[n.id]} [label="{_esc_dot(n.label)}", shape={shape}, style="{style}", fillcolor="{_COLORS.get(n.kind, "#ffffff")}"];'

    lines = [
        "digraph rack {",
        f'  label="{_esc_dot(diagram.title)}"; labelloc=t; fontname="Helvetica"; fontsize=16;',
        "  rankdir=LR; compound=true; newrank=true; nodesep=0.35; ranksep=0.7;",
        '  node [fontname="Helvetica", fontsize=11];',
        '  edge [fontname="Helvetica", fontsize=9, color="#546e7a"];',
    ]
    lines += [node(n, "  ") for n in outside]
    if edge:
        lines.append(
            '  subgraph cluster_edge { label="AWS edge (global)"; style="rounded,dashed"; color="#8e24aa";'
        )
        lines += [node(n, "    ") for n in edge]
        lines.append("  }")
    if vpc or any(g["public"] or g["private"] for g in zones.values()):
        lines.append(
            f'  subgraph cluster_vpc {{ label="{_esc_dot(diagram.vpc_label)}"; style=rounded; color="#1e88e5";'
        )
        lines += [node(n, "    ") for n in vpc]
        for i, (zone, groups) in enumerate(sorted(zones.items())):
            if not groups["public"] and not groups["private"]:
                continue
            lines.append(
                f'    subgraph cluster_zone{i} {{ label="{_esc_dot(zone)}"; style="rounded,dashed"; color="#90a4ae";'
            )
            for place in ("public", "private"):
                if groups[place]:
                    lines.append(
                        f'      subgraph cluster_zone{i}_{place} {{ label="{place} subnet"; style=rounded; color="#cfd8dc";'
                    )
                    lines += [node(n, "        ") for n in groups[place]]
                    lines.append("      }")
            lines.append("    }")
        lines.append("  }")
    ends = [ids[n.id] for n in outside if n.kind == "internet"]
    starts = [ids[n.id] for n in outside if n.kind == "viewer"]
    if starts:
        lines.append(f"  {{ rank=min; {'; '.join(starts)}; }}")
    if ends:
        lines.append(f"  {{ rank=max; {'; '.join(ends)}; }}")
    for e in diagram.edges:
        attrs = [f'label="{_esc_dot(e.label)}"'] if e.label else []
        if e.dashed:
            attrs.append("style=dashed")
        if e.weak:
            attrs.append("constraint=false")
        lines.append(
            f"  {ids[e.source]} -> {ids[e.target]}"
            + (f" [{', '.join(attrs)}]" if attrs else "")
            + ";"
        )
    lines.append("}")
    return "\n".join(lines) + "\n"


def _esc_mermaid(text: str) -> str:
    return text.replace('"', "#quot;").replace("\n", "<br/>")


def to_mermaid(diagram: Diagram) -> str:
    """Mermaid flowchart text, for places without Graphviz (GitHub renders it)."""
    ids = _ids(diagram)
    outside, edge, vpc, zones = _groups(diagram)
    shapes = {
        "viewer": ('(["', '"])'),
        "internet": ('(["', '"])'),
        "bucket": ('[("', '")]'),
        "database": ('[("', '")]'),
    }

    def node(n: Node, indent: str) -> str:
        left, right = shapes.get(n.kind, ('["', '"]'))
        return f"{indent}{ids[n.id]}{left}{_esc_mermaid(n.label)}{right}"

    lines = ["flowchart LR", f"  %% {diagram.title}"]
    lines += [node(n, "  ") for n in outside]
    if edge:
        lines.append('  subgraph edge["AWS edge (global)"]')
        lines += [node(n, "    ") for n in edge]
        lines.append("  end")
    if vpc or any(g["public"] or g["private"] for g in zones.values()):
        lines.append(f'  subgraph vpc["{_esc_mermaid(diagram.vpc_label)}"]')
        lines += [node(n, "    ") for n in vpc]
        for i, (zone, groups) in enumerate(sorted(zones.items())):
            if not groups["public"] and not groups["private"]:
                continue
            lines.append(f'    subgraph zone{i}["{_esc_mermaid(zone)}"]')
            for place in ("public", "private"):
                if groups[place]:
                    lines.append(f'      subgraph zone{i}_{place}["{place} subnet"]')
                    lines += [node(n, "        ") for n in groups[place]]
                    lines.append("      end")
            lines.append("    end")
        lines.append("  end")
    for e in diagram.edges:
        arrow = "-.->" if e.dashed else "-->"
        label = f'|"{_esc_mermaid(e.label)}"|' if e.label else ""
        lines.append(f"  {ids[e.source]} {arrow}{label} {ids[e.target]}")
    for kind, color in _COLORS.items():
        members = [ids[n.id] for n in diagram.nodes if n.kind == kind]
        if members:
            lines.append(f"  classDef {kind} fill:{color},stroke:#607d8b")
            lines.append(f"  class {','.join(members)} {kind}")
    return "\n".join(lines) + "\n"


@dataclass(frozen=True)
class Rendered:
    """What `render` wrote, and in which format (Mermaid when Graphviz was missing)."""

    path: Path
    format: Format
    note: str = ""


def graphviz() -> str | None:
    """The `dot` program on PATH, if Graphviz is installed."""
    return shutil.which("dot")


def render(diagram: Diagram, out: str | Path, fmt: Format = "svg") -> Rendered:
    """Write the picture: SVG/PNG through Graphviz, else Mermaid beside the requested path."""
    path = Path(out)
    if fmt == "dot":
        path.write_text(to_dot(diagram))
        return Rendered(path, "dot")
    if fmt == "mermaid":
        path.write_text(to_mermaid(diagram))
        return Rendered(path, "mermaid")
    dot = graphviz()
    if dot is None:
        fallback = path.with_suffix(".mmd")
        fallback.write_text(to_mermaid(diagram))
        return Rendered(
            fallback,
            "mermaid",
            f"Graphviz (dot) is not installed, so no {fmt.upper()}: wrote Mermaid to {fallback} "
            "instead (GitHub renders it; install graphviz for SVG and PNG)",
        )
    try:
        result = subprocess.run(
            [dot, f"-T{fmt}", "-o", str(path)],
            input=to_dot(diagram).encode(),
            capture_output=True,
            check=False,
            timeout=120,
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise DiagramError(f"could not run {dot}: {exc}") from exc
    if result.returncode != 0:
        raise DiagramError(
            f"{dot} failed (exit {result.returncode}): {result.stderr.decode(errors='replace').strip()}"
        )
    return Rendered(path, fmt)


def kinds(diagram: Diagram) -> dict[str, int]:
    """How many nodes of each kind: a quick summary for tests and the CLI."""
    out: dict[str, int] = {}
    for n in diagram.nodes:
        out[n.kind] = out.get(n.kind, 0) + 1
    return out
