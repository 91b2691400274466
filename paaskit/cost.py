"""The monthly cost of a planned stack, from a dated price table that ships with paaskit.

`estimate(plan)` reads the plan's records (never paaskit's components) and
prices what runs by the hour: EC2 nodes, NAT, public IPv4 addresses, the load
balancer, interface endpoints, RDS, ElastiCache nodes, EBS volumes, Container
Insights, secrets.
Prices are us-east-1 list prices from `paaskit/data/prices-us-east-1.json`,
with the date they were gathered; prices change, and other regions differ.

How nodes are counted. An autoscaling group runs at least `minSize` nodes (its
floor; ECS scales above it with the tasks), or `desiredCapacity` when the
program fixes one. Its first instance type (the one asked for, listed first in
the mixed-instances overrides) prices all of them. On-demand and spot nodes
follow the group's distribution: `onDemandBaseCapacity` nodes on demand, then
`onDemandPercentageAboveBaseCapacity` percent of the rest. Spot nodes cost the
on-demand price less the type's typical saving from the Spot Instance Advisor
(or the median over all types, 66%, for a type it does not list); the market
moves, so the real bill does too. The same stack all on-demand is shown beside.

Assumed: one load balancer capacity unit (LCU) on average, a quiet site's
traffic; Container Insights at the middle of the range the price table gives.

An app on a rack of another stack runs on nodes its plan does not hold: it is
priced its share of them, read from the rack's `nodes` output (the stack
reference's record): each task takes the larger of the fractions of a node's
CPU and memory it reserves, times the service's desired count (a daemon runs
on every node), at the node's price with the rack's spot mix.

Not counted, because they depend on use rather than on the plan: see
`NOT_COUNTED`. A resource with an hourly price the table does not know (an
instance type, an RDS class) gets a "no price" line, never a silent zero.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from .plan import Plan, PlanIndex, ResourceRecord
from .plan import types as t
from .plan.values import dig, flag, items, known, number
from .prices import load_prices

__all__ = [
    "ASSUMED_LCUS",
    "HOURS",
    "NOT_COUNTED",
    "CostEstimate",
    "CostLine",
    "estimate",
    "load_prices",
    "money",
    "render_text",
]

HOURS = 730
ASSUMED_LCUS = 1.0

NOT_COUNTED: tuple[str, ...] = (
    "data transfer: to the internet, between zones, and through NAT gateways ($0.045/GB) and interface endpoints ($0.01/GB)",
    "load balancer capacity beyond the assumed 1 LCU ($0.008 per LCU-hour)",
    "CloudFront traffic and requests beyond the always-free 1 TB and 10M requests a month",
    "S3 and ECR storage and requests (images at $0.10/GB-month, objects at $0.023/GB-month)",
    "CloudWatch Logs ingestion ($0.50/GB) and storage ($0.03/GB-month), including flow logs and CloudFront's standard logs",
    "Lambda, SQS and EventBridge requests (a rack's spot handler stays inside the free tier)",
    "RDS backup storage beyond the free allowance ($0.095/GB-month) and snapshots",
    "EFS storage, elastic throughput and backups (an app's volumes: nothing fixed, by the GB), "
    "and an app's internal names (a Route 53 private zone and Cloud Map instances; not in the price table yet)",
    "ElastiCache snapshots beyond the one per cache that is free, and data transfer between zones to replicas",
    "taxes, support plans; Savings Plans or reserved instances would lower the on-demand lines",
)


@dataclass(frozen=True)
class CostLine:
    """One priced item: what it is, which resource, per month, and how it was worked out."""

    item: str
    resource: str
    type: str
    monthly: float | None
    """None: the table has no price for it (shown as such, never as zero)."""
    on_demand: float | None
    """The same item with every node on demand."""
    basis: str

    def to_json(self) -> dict[str, Any]:
        return {
            "item": self.item,
            "resource": self.resource,
            "type": self.type,
            "monthly": None if self.monthly is None else round(self.monthly, 2),
            "on_demand": None if self.on_demand is None else round(self.on_demand, 2),
            "basis": self.basis,
        }


@dataclass
class CostEstimate:
    """A stack's monthly estimate, line by line."""

    region: str
    prices_as_of: str
    notice: str
    lines: list[CostLine] = field(default_factory=list)
    assumptions: list[str] = field(default_factory=list)
    not_counted: tuple[str, ...] = NOT_COUNTED
    spot_discount: float = 0.0

    @property
    def total(self) -> float:
        """The sum of the lines as shown (each rounded to the cent), so the table adds up."""
        return round(sum(round(line.monthly or 0.0, 2) for line in self.lines), 2)

    @property
    def total_on_demand(self) -> float:
        return round(sum(round(line.on_demand or 0.0, 2) for line in self.lines), 2)

    @property
    def unpriced(self) -> list[CostLine]:
        return [line for line in self.lines if line.monthly is None]

    def to_json(self) -> dict[str, Any]:
        return {
            "region": self.region,
            "currency": "USD",
            "prices_as_of": self.prices_as_of,
            "notice": self.notice,
            "total": self.total,
            "total_on_demand": self.total_on_demand,
            "lines": [line.to_json() for line in self.lines],
            "unpriced": [line.resource for line in self.unpriced],
            "assumptions": list(self.assumptions),
            "not_counted": list(self.not_counted),
        }


class _Pricer:
    def __init__(self, plan: Plan, prices: Mapping[str, Any]) -> None:
        self.index = PlanIndex.of(plan)
        self.prices = prices
        ec2 = prices["ec2_on_demand_hourly"]
        self.ec2: dict[str, float] = {**ec2["prices"], **ec2.get("added", {}).get("prices", {})}
        self.spot = prices["spot_savings"]
        self.net = prices["network"]
        self.lines: list[CostLine] = []
        self.assumptions: list[str] = []

    def add(
        self,
        item: str,
        r: ResourceRecord,
        monthly: float | None,
        basis: str,
        on_demand: float | None = None,
    ) -> None:
        self.lines.append(
            CostLine(
                item, r.name, r.type, monthly, monthly if on_demand is None else on_demand, basis
            )
        )

    def discount(self, instance_type: str) -> tuple[float, str]:
        by_type = self.spot["by_type"]
        if instance_type in by_type:
            return float(by_type[instance_type]), f"{instance_type}'s typical spot saving"
        return float(self.spot["typical"]), "the median spot saving"

    # --- compute -------------------------------------------------------------------

    def _asg_type(self, r: ResourceRecord) -> tuple[str | None, ResourceRecord | None]:
        template = next(iter(self.index.dependencies(r, t.LAUNCH_TEMPLATE)), None)
        for override in items(dig(r.inputs, "mixedInstancesPolicy", "launchTemplate", "overrides")):
            kind = dig(override, "instanceType")
            if isinstance(kind, str) and known(kind):
                return kind, template
            break
        kind = template.inputs.get("instanceType") if template is not None else None
        return (kind if isinstance(kind, str) and known(kind) else None), template

    def asg(self, r: ResourceRecord) -> None:
        desired, floor = number(r.inputs.get("desiredCapacity")), number(r.inputs.get("minSize"))
        count = int(desired if desired is not None else floor or 0)
        how = "desired capacity" if desired is not None else "minimum size, the floor"
        kind, template = self._asg_type(r)
        if count == 0:
            self.add("EC2 nodes", r, 0.0, f"0 nodes ({how}); nodes start as tasks need them")
            return
        if kind is None or kind not in self.ec2:
            self.add(
                f"EC2 nodes: {count} x {kind or 'unknown type'}",
                r,
                None,
                f"no price for {kind or 'an instance type the plan does not say'} in the table",
            )
            return
        spread = dig(r.inputs, "mixedInstancesPolicy", "instancesDistribution")
        if isinstance(dig(r.inputs, "mixedInstancesPolicy"), Mapping):
            base = int(number(dig(spread, "onDemandBaseCapacity")) or 0)
            above = number(dig(spread, "onDemandPercentageAboveBaseCapacity"))
            percent = 100.0 if above is None else above
        else:
            spot_market = (
                dig(template.inputs if template else {}, "instanceMarketOptions", "marketType")
                == "spot"
            )
            base, percent = (0, 0.0) if spot_market else (count, 100.0)
        on_demand_nodes = min(count, base) + max(0, count - base) * percent / 100
        spot_nodes = count - on_demand_nodes
        hourly = self.ec2[kind]
        saving, why = self.discount(kind)
        monthly = HOURS * hourly * (on_demand_nodes + spot_nodes * (1 - saving))
        full = HOURS * hourly * count
        split = (
            f"{on_demand_nodes:g} on-demand, {spot_nodes:g} spot" if spot_nodes else "all on-demand"
        )
        basis = f"{count} x {HOURS} h x ${hourly}/h ({how}); {split}"
        if spot_nodes:
            basis += f"; spot at {saving:.0%} off ({why}, {self.spot['as_of']})"
        self.add(f"EC2 nodes: {count} x {kind} ({split})", r, monthly, basis, on_demand=full)
        size = self._volume_gib(template)
        gb_price = self.prices["storage"]["ebs_gp3_gb_month"]
        self.add(
            f"EBS root volumes: {count} x {size:g} GiB gp3",
            r,
            count * size * gb_price,
            f"{count} x {size:g} GiB x ${gb_price}/GB-month",
        )

    @staticmethod
    def _volume_gib(template: ResourceRecord | None) -> float:
        for mapping in items(template.inputs.get("blockDeviceMappings") if template else None):
            size = number(dig(mapping, "ebs", "volumeSize"))
            if size:
                return size
        return 30.0  # the ECS-optimised AMI's snapshot size

    def instance(self, r: ResourceRecord) -> None:
        kind = r.inputs.get("instanceType")
        if not isinstance(kind, str) or kind not in self.ec2:
            self.add(f"EC2 instance: {kind}", r, None, f"no price for {kind} in the table")
        else:
            hourly = self.ec2[kind]
            spot = dig(r.inputs, "instanceMarketOptions", "marketType") == "spot"
            saving, why = self.discount(kind)
            monthly = HOURS * hourly * ((1 - saving) if spot else 1)
            basis = f"{HOURS} h x ${hourly}/h" + (
                f", spot at {saving:.0%} off ({why})" if spot else ""
            )
            self.add(
                f"EC2 instance: {kind}" + (" (spot)" if spot else ""),
                r,
                monthly,
                basis,
                on_demand=HOURS * hourly,
            )
        size = number(dig(r.inputs, "rootBlockDevice", "volumeSize")) or 8.0
        gb_price = self.prices["storage"]["ebs_gp3_gb_month"]
        self.add(
            f"EBS root volume: {size:g} GiB",
            r,
            size * gb_price,
            f"{size:g} GiB x ${gb_price}/GB-month",
        )

    # --- network -------------------------------------------------------------------

    def nat_gateway(self, r: ResourceRecord) -> None:
        hourly = self.net["nat_gateway_hourly"]
        self.add(
            "NAT gateway",
            r,
            HOURS * hourly,
            f"{HOURS} h x ${hourly}/h, plus ${self.net['nat_gateway_per_gb']}/GB processed (not counted)",
        )

    def eip(self, r: ResourceRecord) -> None:
        hourly = self.net["public_ipv4_hourly"]
        self.add("Public IPv4 address (Elastic IP)", r, HOURS * hourly, f"{HOURS} h x ${hourly}/h")

    def endpoint(self, r: ResourceRecord) -> None:
        if r.inputs.get("vpcEndpointType", "Gateway") != "Interface":
            self.add("VPC gateway endpoint", r, 0.0, "gateway endpoints (S3, DynamoDB) are free")
            return
        zones = len(items(r.inputs.get("subnetIds"))) or 1
        hourly = self.net["interface_endpoint_hourly_per_az"]
        service = (
            str(r.inputs.get("serviceName", "")).rsplit(".", 1)[-1]
            if known(r.inputs.get("serviceName"))
            else "?"
        )
        self.add(
            f"Interface endpoint ({service}) in {zones} zone(s)",
            r,
            HOURS * hourly * zones,
            f"{zones} x {HOURS} h x ${hourly}/h",
        )

    def load_balancer(self, r: ResourceRecord) -> None:
        if r.inputs.get("loadBalancerType", "application") != "application":
            self.add(
                "Load balancer (not application)",
                r,
                None,
                "only Application Load Balancers are priced",
            )
            return
        hourly, lcu = self.net["alb_hourly"], self.net["alb_lcu_hourly"]
        self.add(
            "Application Load Balancer",
            r,
            HOURS * (hourly + ASSUMED_LCUS * lcu),
            f"{HOURS} h x (${hourly}/h + {ASSUMED_LCUS:g} LCU x ${lcu}/LCU-h)",
        )
        if flag(r.inputs.get("internal")) is not True:
            zones = (
                len(items(r.inputs.get("subnets")))
                or len(items(r.inputs.get("subnetMappings")))
                or 2
            )
            ip = self.net["public_ipv4_hourly"]
            self.add(
                f"Public IPv4 addresses of the load balancer ({zones} zones)",
                r,
                zones * HOURS * ip,
                f"{zones} x {HOURS} h x ${ip}/h",
            )

    # --- data ----------------------------------------------------------------------

    def database(self, r: ResourceRecord) -> None:
        engine = r.inputs.get("engine", "postgres")
        table = "rds_mysql_hourly" if engine in ("mysql", "mariadb") else "rds_postgres_hourly"
        rds = self.prices[table]
        klass = r.inputs.get("instanceClass")
        multi = flag(r.inputs.get("multiAz")) is True
        price = rds["classes"].get(klass) if isinstance(klass, str) else None
        what = (
            f"RDS {engine} {klass}"
            + (" Multi-AZ" if multi else "")
            + (" (replica)" if r.inputs.get("replicateSourceDb") else "")
        )
        if price is None or engine not in ("postgres", "mysql", "mariadb", None):
            self.add(what, r, None, f"no price for {engine} {klass} in the table")
        else:
            hourly = price["multi_az" if multi else "single_az"]
            note = " (low confidence)" if price.get("low_confidence") else ""
            self.add(what, r, HOURS * hourly, f"{HOURS} h x ${hourly}/h{note}")
        storage = number(r.inputs.get("allocatedStorage"))
        if storage:
            gb = rds["gp3_gb_month_multi_az" if multi else "gp3_gb_month_single_az"]
            self.add(
                f"RDS storage: {storage:g} GiB" + (" Multi-AZ" if multi else ""),
                r,
                storage * gb,
                f"{storage:g} GiB x ${gb}/GB-month",
            )
        self.extended_support(r, engine, klass, multi)
        if flag(r.inputs.get("manageMasterUserPassword")):
            self.secret(r, "Secrets Manager secret (RDS-managed master password)")

    def extended_support(self, r: ResourceRecord, engine: Any, klass: Any, multi: bool) -> None:
        """RDS Extended Support's surcharge, for an instance enrolled in it on a major the
        price table lists as billed: per vCPU-hour, the standby's too, at the first years'
        rate."""
        if r.inputs.get("engineLifecycleSupport") != "open-source-rds-extended-support":
            return
        table = self.prices["rds_extended_support"]
        version = str(r.inputs.get("engineVersion") or "")
        billed = table["billed_majors"].get(str(engine), [])
        if not any(version == major or version.startswith(f"{major}.") for major in billed):
            return
        what = f"RDS Extended Support: {engine} {version}" + (" Multi-AZ" if multi else "")
        vcpus = table["vcpus"].get(klass) if isinstance(klass, str) else None
        if vcpus is None:
            self.add(what, r, None, f"no vCPU count for {klass} in the table")
            return
        rate = table["vcpu_hourly_years_1_2"]
        copies = 2 if multi else 1
        self.add(
            what,
            r,
            copies * vcpus * HOURS * rate,
            f"{copies} x {vcpus} vCPU x {HOURS} h x ${rate}/vCPU-h (years 1-2; doubled in "
            "year 3) (low confidence)",
        )

    def cache(self, r: ResourceRecord) -> None:
        """ElastiCache nodes: a replication group's (primary and replicas) or a cluster's."""
        table = self.prices["elasticache_node_hourly"]
        if r.type == t.CACHE_REPLICATION_GROUP:
            engine = str(r.inputs.get("engine") or "redis")
            nodes = int(number(r.inputs.get("numCacheClusters")) or 1)
        else:
            engine = str(r.inputs.get("engine") or "memcached")
            nodes = int(number(r.inputs.get("numCacheNodes")) or 1)
        node = r.inputs.get("nodeType")
        label = {"valkey": "Valkey", "redis": "Redis OSS", "memcached": "Memcached"}.get(
            engine, engine
        )
        what = f"ElastiCache {label} {nodes} x {node}"
        hourly = table["engines"].get(engine, {}).get(node) if isinstance(node, str) else None
        if hourly is None:
            self.add(what, r, None, f"no price for {engine} {node} in the table")
            return
        note = " (low confidence)" if table.get("low_confidence") else ""
        self.add(what, r, nodes * HOURS * hourly, f"{nodes} x {HOURS} h x ${hourly}/h{note}")

    def secret(self, r: ResourceRecord, item: str = "Secrets Manager secret") -> None:
        month = self.prices["secrets_manager_secret_month"]
        self.add(item, r, month, f"${month}/secret-month (API calls not counted)")

    def cluster(self, r: ResourceRecord) -> None:
        settings = {dig(s, "name"): dig(s, "value") for s in items(r.inputs.get("settings"))}
        if settings.get("containerInsights") in ("enabled", "enhanced"):
            ci = self.prices["container_insights"]
            middle = (ci["monthly_low"] + ci["monthly_high"]) / 2
            self.add(
                "CloudWatch Container Insights",
                r,
                middle,
                f"estimate: ${ci['monthly_low']}-{ci['monthly_high']} a month for a small rack; grows with tasks",
            )

    def distribution(self, r: ResourceRecord) -> None:
        plans = self.prices["cloudfront"]["flat_rate_plans_monthly"]
        listed = ", ".join(f"{k} ${v}" for k, v in plans.items())
        self.add(
            "CloudFront distribution",
            r,
            0.0,
            f"pay-as-you-go has no base fee and 1 TB + 10M requests free each month; flat-rate plans: {listed}",
        )

    def unpriced(self, r: ResourceRecord, item: str) -> None:
        self.add(item, r, None, "no price in the table")

    # --- an app on another stack's rack ----------------------------------------------

    def rack_nodes(self) -> Mapping[str, Any] | None:
        """The nodes of the rack an app's plan reads from another stack, if it says."""
        for record in self.index.of_type(t.STACK_REFERENCE):
            nodes = record.outputs.get("nodes")
            if isinstance(nodes, Mapping) and nodes.get("instanceType"):
                return nodes
        return None

    @staticmethod
    def reserved(task: ResourceRecord) -> tuple[float, float]:
        """(CPU units, MiB) one task reserves: the sum over its containers."""
        try:
            containers = json.loads(str(task.inputs.get("containerDefinitions") or "[]"))
        except ValueError:
            return 0.0, 0.0
        cpu = sum(number(c.get("cpu")) or 0.0 for c in containers if isinstance(c, Mapping))
        memory = sum(
            number(c.get("memory")) or number(c.get("memoryReservation")) or 0.0
            for c in containers
            if isinstance(c, Mapping)
        )
        return cpu, memory

    def rack_share(self) -> None:
        """Each ECS service's share of the rack's nodes, when they are not in this plan."""
        if self.index.of_type(t.ASG):
            return  # the nodes are in this plan, priced in full above
        nodes = self.rack_nodes()
        if nodes is None:
            return
        kind = str(nodes["instanceType"])
        vcpus, memory = number(nodes.get("vcpus")) or 0.0, number(nodes.get("memoryMib")) or 0.0
        count = int(number(nodes.get("minNodes")) or 0)
        services = [s for s in self.index.of_type(t.ECS_SERVICE) if s.custom and not s.read]
        if kind not in self.ec2 or not vcpus or not memory:
            for service in services:
                self.add(
                    f"Share of the rack's nodes ({kind})",
                    service,
                    None,
                    f"no price or size for {kind} in the table",
                )
            return
        hourly = self.ec2[kind]
        base = int(number(nodes.get("onDemandBase")) or 0)
        above = number(nodes.get("onDemandPercentage"))
        percent = 100.0 if above is None else above
        saving, why = self.discount(kind)
        on_demand_nodes = min(count, base) + max(0, count - base) * percent / 100
        spot_nodes = max(0, count - on_demand_nodes)
        # The rack's mix of on-demand and spot nodes, per node on average.
        average = (
            hourly * (on_demand_nodes + spot_nodes * (1 - saving)) / count if count else hourly
        )
        for service in services:
            tasks = _task_of(self.index, service)
            if tasks is None:
                continue
            cpu, mib = self.reserved(tasks)
            strategy = service.inputs.get("schedulingStrategy")
            desired = (
                count
                if strategy == "DAEMON"
                else int(number(service.inputs.get("desiredCount")) or 1)
            )
            fraction = max(cpu / (vcpus * 1024), mib / memory)
            monthly = HOURS * average * fraction * desired
            self.add(
                f"Share of the rack's nodes: {desired} x ({cpu:g} CPU units, {mib:g} MiB) of a {kind}",
                service,
                monthly,
                f"{desired} task(s) x {fraction:.3f} of a {kind} ({vcpus:g} vCPU, {memory:g} MiB; "
                f"the larger of its CPU and memory shares) x {HOURS} h x ${average:.4f}/h "
                f"(the rack's {count} nodes: {on_demand_nodes:g} on-demand, {spot_nodes:g} spot "
                f"at {saving:.0%} off, {why})",
                on_demand=HOURS * hourly * fraction * desired,
            )


def _task_of(index: PlanIndex, service: ResourceRecord) -> ResourceRecord | None:
    found: Sequence[ResourceRecord] = index.dependencies(service, t.TASK_DEFINITION)
    return found[0] if found else None


def estimate(
    plan: Plan, *, region: str = "us-east-1", prices: Mapping[str, Any] | None = None
) -> CostEstimate:
    """The monthly estimate of a planned stack."""
    table = prices or load_prices()
    pricer = _Pricer(plan, table)
    handlers = {
        t.ASG: pricer.asg,
        t.INSTANCE: pricer.instance,
        t.NAT_GATEWAY: pricer.nat_gateway,
        t.EIP: pricer.eip,
        t.VPC_ENDPOINT: pricer.endpoint,
        t.DB_INSTANCE: pricer.database,
        t.CACHE_REPLICATION_GROUP: pricer.cache,
        t.CACHE_CLUSTER: pricer.cache,
        t.SECRET: pricer.secret,
        t.ECS_CLUSTER: pricer.cluster,
        t.DISTRIBUTION: pricer.distribution,
        **dict.fromkeys(t.LOAD_BALANCERS, pricer.load_balancer),
    }
    unpriced = {t.KMS_KEY: "KMS key", t.HOSTED_ZONE: "Route 53 hosted zone"}
    for record in plan.resources:
        if not record.custom or record.read:
            continue
        handler = handlers.get(record.type)
        if handler is not None:
            handler(record)
        elif record.type in unpriced:
            pricer.unpriced(record, unpriced[record.type])
    pricer.rack_share()
    assumptions = [
        f"{HOURS} hours a month; us-east-1 list prices gathered {table['as_of']}",
        "nodes: an autoscaling group's desired capacity, else its minimum size; priced as its first instance type",
        f"spot nodes: the on-demand price less the type's typical saving (Spot Instance Advisor, {table['spot_savings']['as_of']}), else the median {table['spot_savings']['typical']:.0%}",
        f"load balancer: {ASSUMED_LCUS:g} LCU on average",
    ]
    if pricer.rack_nodes() is not None and not pricer.index.of_type(t.ASG):
        assumptions.append(
            "an app on a rack of another stack: each task's share of a node, the larger of "
            "the CPU and memory it reserves, at the rack's node price and spot mix; the "
            "rack's own lines (NAT, load balancer, Container Insights) are the rack's"
        )
    if region != table["region"]:
        assumptions.insert(
            0, f"the stack deploys to {region}, but these are {table['region']} prices"
        )
    return CostEstimate(
        region=region,
        prices_as_of=table["as_of"],
        notice=table["notice"],
        lines=pricer.lines,
        assumptions=assumptions,
        spot_discount=float(table["spot_savings"]["typical"]),
    )


def money(value: float | None) -> str:
    return "no price" if value is None else f"${value:,.2f}"


def render_text(est: CostEstimate, *, title: str = "") -> str:
    """The estimate as a table: item, resource, monthly, and the same all on-demand."""
    head = f"Monthly cost estimate{': ' + title if title else ''} (USD, {est.region})"
    rows = [
        (line.item, line.resource, money(line.monthly), money(line.on_demand)) for line in est.lines
    ]
    rows.append(("total", "", money(est.total), money(est.total_on_demand)))
    widths = [
        max(len(r[i]) for r in [("item", "resource", "monthly", "all on-demand"), *rows])
        for i in range(4)
    ]

    def fmt(row: tuple[str, str, str, str]) -> str:
        return f"  {row[0]:<{widths[0]}}  {row[1]:<{widths[1]}}  {row[2]:>{widths[2]}}  {row[3]:>{widths[3]}}".rstrip()

    lines = [head, "", fmt(("item", "resource", "monthly", "all on-demand"))]
    lines += [fmt(r) for r in rows[:-1]]
    lines.append("  " + "-" * (sum(widths) + 6))
    lines.append(fmt(rows[-1]))
    if est.unpriced:
        lines.append(
            f"\n  {len(est.unpriced)} item(s) have no price in the table and are not in the total."
        )
    lines.append("\nHow:")
    lines += [f"  - {line.item} ({line.resource}): {line.basis}" for line in est.lines]
    lines.append("\nAssumed:")
    lines += [f"  - {a}" for a in est.assumptions]
    lines.append("\nNot counted (depends on use):")
    lines += [f"  - {n}" for n in est.not_counted]
    lines.append(f"\n{est.notice}")
    return "\n".join(lines)
