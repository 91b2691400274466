"""AWS's own limits, checked on the plan before AWS says no minutes into a deploy.

Each limit is a rule (`PK-LIMIT-...`, severity `error`) whose findings carry the
limit and the planned value. Hard limits (name rules, CIDR sizes, ECS task
sizes) cannot be waived: AWS refuses the request whatever the reason. Adjustable
quotas (rules per load balancer, security group rules, cache behaviours) can be,
with a reason such as "quota raised to 200 (case 1234)".

Names. A name the program gives is checked as given. A name Pulumi generates is
the logical name, trimmed by the provider to the service's length, a hyphen and
seven random hex digits; the S3 bucket, RDS instance and RDS group names are
also lowercased by the provider. So a generated name can still break only on
characters (an underscore in a load balancer's logical name) or on a rule about
its start or end, and that is all these rules check for one. Case of other
generated names (an ECR repository's) is left to the provider.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Iterator, Mapping
from typing import Any

from paaskit.config import RETENTION_DAYS
from paaskit.naming import RULES, NameRule
from paaskit.plan import PlanIndex, ResourceRecord, fakes
from paaskit.plan import types as t
from paaskit.plan.values import dig, items, known, number, strings, tag_map

from .model import RuleSet, Violation
from .rules.containers import containers

__all__ = [
    "CLOUDFRONT_PREFIX_LISTS",
    "FARGATE_SIZES",
    "NAME_LIMITS",
    "asg_sizes",
    "cidr_sizes",
    "cloudfront_sizes",
    "condition_values",
    "descriptions",
    "lambda_sizes",
    "load_balancer_subnets",
    "names",
    "rds_sizes",
    "retention_values",
    "rule_priorities",
    "rules",
    "rules_per_load_balancer",
    "rules_per_security_group",
    "tags",
    "target_groups_per_load_balancer",
    "targets_per_rule",
    "task_sizes",
]

rules = RuleSet()

# --- names ------------------------------------------------------------------------


NAME_LIMITS: dict[str, NameRule] = {typ: rule for rule in RULES.values() for typ in rule.types}
"""The name rule of each resource type that has one (`paaskit.naming.RULES`, by type)."""


def _name_problems(limit: NameRule, name: str, *, generated: bool) -> list[Violation]:
    out: list[Violation] = []
    # A generated name that ends up lowercased may come from a logical name in any case.
    checked = name.lower() if generated and limit.generated_lowercase else name
    how = f"Pulumi will name it {name!r}" if generated else f"{limit.what} {name!r}"
    if len(name) > limit.max_len:
        out.append(
            Violation(
                f"{how}: {len(name)} characters; AWS allows {limit.max_len}",
                limit=limit.max_len,
                value=len(name),
            )
        )
    if len(name) < limit.min_len:
        out.append(
            Violation(
                f"{how}: {len(name)} characters; AWS needs at least {limit.min_len}",
                limit=limit.min_len,
                value=len(name),
            )
        )
    body = next((checked[: -len(s)] for s in limit.suffixes if checked.endswith(s)), checked)
    bad = sorted(set(limit.refused.findall(body)))
    if bad:
        out.append(
            Violation(
                f"{how}: {''.join(bad)!r} not allowed; AWS allows {limit.chars}",
                limit=limit.chars,
                value=name,
            )
        )
    elif limit.also is not None:
        problem = limit.also(checked)
        if problem:
            out.append(Violation(f"{how}: {problem}", limit=problem, value=name))
    return out


@rules.rule(
    "PK-LIMIT-001",
    "Names fit AWS's length and character rules",
    severity="error",
    sources=["AWS API reference: name constraints of each service"],
    types=list(NAME_LIMITS),
    waivable=False,
)
def names(r: ResourceRecord, index: PlanIndex) -> Iterator[Violation]:
    """A name AWS refuses fails the deploy at that resource, after everything before
    it was created. Checked: a name the program gives, a `namePrefix`, and the
    characters of a name Pulumi generates from the logical name."""
    limit = NAME_LIMITS[r.type]
    given = r.inputs.get(limit.prop)
    if isinstance(given, str) and known(given):
        yield from _name_problems(limit, given, generated=False)
        return
    if given is not None:
        return  # computed from another resource: not known at plan time
    prefix = r.inputs.get("namePrefix") or r.inputs.get(limit.prop + "Prefix")
    if isinstance(prefix, str) and known(prefix):
        if limit.prefix_max is not None and len(prefix) > limit.prefix_max:
            yield Violation(
                f"namePrefix {prefix!r}: {len(prefix)} characters; the provider allows {limit.prefix_max}",
                limit=limit.prefix_max,
                value=len(prefix),
            )
        return
    if r.type not in fakes.AUTONAMED:
        return
    yield from _name_problems(limit, index.physical_name(r), generated=True)


_SG_TEXT = re.compile(r"^[a-zA-Z0-9 ._\-:/()#,@\[\]+=&;{}!$*]*$")
_IAM_TEXT = re.compile(r"^[\t\n\r\x20-\x7e\xa1-\xff]*$")


@rules.rule(
    "PK-LIMIT-002",
    "Descriptions use the characters AWS accepts",
    severity="error",
    sources=[
        "EC2 API: GroupDescription and rule Description constraints",
        "IAM API: Role Description",
    ],
    types=[t.SECURITY_GROUP, t.SG_INGRESS, t.SG_EGRESS, t.SG_RULE, t.ROLE],
    waivable=False,
)
def descriptions(r: ResourceRecord, index: PlanIndex) -> Iterator[Violation]:
    """Security group and rule descriptions take ASCII letters, digits, spaces and
    `._-:/()#,@[]+=&;{}!$*` only, up to 255 characters: a typographic dash or an
    apostrophe fails the deploy. Role descriptions take up to 1000 Latin-1 characters."""
    texts: list[tuple[str, Any]] = [("description", r.inputs.get("description"))]
    if r.type == t.SECURITY_GROUP:
        for direction in ("ingress", "egress"):
            for i, rule in enumerate(items(r.inputs.get(direction))):
                texts.append((f"{direction}[{i}].description", dig(rule, "description")))
    pattern, max_len = (_IAM_TEXT, 1000) if r.type == t.ROLE else (_SG_TEXT, 255)
    for where, text in texts:
        if not isinstance(text, str) or not known(text):
            continue
        if len(text) > max_len:
            yield Violation(
                f"{where}: {len(text)} characters; AWS allows {max_len}",
                limit=max_len,
                value=len(text),
            )
        if not pattern.match(text):
            bad = "".join(sorted({c for c in text if not pattern.match(c)}))
            yield Violation(
                f"{where}: {bad!r} not allowed by AWS", limit="allowed characters", value=text
            )


_PORTABLE_TAG = re.compile(r"^[\w\s.:/=+\-@]*$")
_STRICT_TAG_SERVICES = ("aws:cloudfront/",)
"""Services whose tags take only the portable characters (EC2 and S3 take any): a
waiver's reason in a `paaskit:waive:` tag must keep to them there."""


@rules.rule(
    "PK-LIMIT-003",
    "Tags fit AWS's limits",
    severity="error",
    sources=["AWS tagging: 50 tags, keys 128, values 256, no aws: prefix"],
    types=["*"],
    waivable=False,
)
def tags(r: ResourceRecord, index: PlanIndex) -> Iterator[Violation]:
    """A resource takes at most 50 tags of your own, keys of 1-128 characters that do
    not start with `aws:`, values up to 256 characters; CloudFront's take only letters,
    digits, spaces and `_ . : / = + - @` (a waiver reason with a comma fails there)."""
    found = tag_map(r.inputs.get("tags"))
    if len(found) > 50:
        yield Violation(f"{len(found)} tags; AWS allows 50", limit=50, value=len(found))
    strict = r.type.startswith(_STRICT_TAG_SERVICES)
    for key, value in found.items():
        if strict and not (_PORTABLE_TAG.match(key) and _PORTABLE_TAG.match(value)):
            yield Violation(
                f"tag {key!r}: {r.type.split('/')[0].split(':')[1]} tags take only letters, digits, "
                "spaces and _ . : / = + - @",
                limit="letters, digits, spaces and _ . : / = + - @",
                value=f"{key}={value}",
            )
        if not 1 <= len(key) <= 128:
            yield Violation(
                f"tag key {key[:40]!r}: {len(key)} characters; AWS allows 1-128",
                limit=128,
                value=len(key),
            )
        if key.lower().startswith("aws:"):
            yield Violation(
                f"tag key {key!r}: the aws: prefix is reserved", limit="no aws: prefix", value=key
            )
        if len(value) > 256:
            yield Violation(
                f"tag {key!r}: value of {len(value)} characters; AWS allows 256",
                limit=256,
                value=len(value),
            )


# --- load balancers ---------------------------------------------------------------


def _listeners_of(lb: ResourceRecord, index: PlanIndex) -> list[ResourceRecord]:
    return index.dependents(lb, *t.LISTENERS)


def _rules_of(listener: ResourceRecord, index: PlanIndex) -> list[ResourceRecord]:
    return index.dependents(listener, *t.LISTENER_RULES)


@rules.rule(
    "PK-LIMIT-004",
    "A load balancer has at most 100 listener rules",
    severity="error",
    sources=["ELB quota: Rules per Application Load Balancer (100, adjustable)"],
    types=list(t.LOAD_BALANCERS),
    scope="stack",
)
def rules_per_load_balancer(r: ResourceRecord, index: PlanIndex) -> Iterator[Violation]:
    """Every app route is a listener rule; the 101st fails to create. The quota can be
    raised: waive with the case number once it is."""
    listeners = _listeners_of(r, index)
    count = sum(len(_rules_of(listener, index)) for listener in listeners)
    if count > 100:
        detail = ", ".join(
            f"{listener.name}: {len(_rules_of(listener, index))}" for listener in listeners
        )
        yield Violation(
            f"{count} listener rules ({detail}); AWS allows 100 per load balancer",
            limit=100,
            value=count,
        )


@rules.rule(
    "PK-LIMIT-005",
    "Listener rule priorities are unique and in range",
    severity="error",
    sources=["ELB API: CreateRule Priority (1-50000, unique per listener)"],
    types=list(t.LISTENERS),
    scope="stack",
    waivable=False,
)
def rule_priorities(r: ResourceRecord, index: PlanIndex) -> Iterator[Violation]:
    """Two rules with one priority on a listener: the second fails to create."""
    seen: dict[int, str] = {}
    for rule in _rules_of(r, index):
        priority = number(rule.inputs.get("priority"))
        if priority is None:
            continue
        value = int(priority)
        if not 1 <= value <= 50000:
            yield Violation(
                f"rule {rule.name}: priority {value}; AWS allows 1-50000",
                limit="1-50000",
                value=value,
            )
        elif value in seen:
            yield Violation(
                f"rules {seen[value]} and {rule.name} both have priority {value}",
                limit="unique",
                value=value,
            )
        else:
            seen[value] = rule.name


_CONDITION_FIELDS = ("hostHeader", "pathPattern", "httpRequestMethod", "sourceIp", "httpHeader")


@rules.rule(
    "PK-LIMIT-006",
    "A listener rule has at most 5 condition values and 5 wildcards",
    severity="error",
    sources=["ELB quota: Condition values per rule (5)", "ELB quota: Wildcards per rule (5)"],
    types=list(t.LISTENER_RULES),
    waivable=False,
)
def condition_values(r: ResourceRecord, index: PlanIndex) -> Iterator[Violation]:
    """An app with many hostnames or paths needs several rules, not one long one."""
    values: list[str] = []
    for condition in items(r.inputs.get("conditions")):
        for field in _CONDITION_FIELDS:
            values += strings(dig(condition, field, "values"))
        for pair in items(dig(condition, "queryStrings")):
            values.append(str(dig(pair, "value") or ""))
    if len(values) > 5:
        yield Violation(
            f"{len(values)} condition values; AWS allows 5 per rule", limit=5, value=len(values)
        )
    wildcards = sum(v.count("*") + v.count("?") for v in values)
    if wildcards > 5:
        yield Violation(f"{wildcards} wildcards; AWS allows 5 per rule", limit=5, value=wildcards)


@rules.rule(
    "PK-LIMIT-007",
    "A load balancer routes to at most 100 target groups",
    severity="error",
    sources=["ELB quota: Target groups per Application Load Balancer (100)"],
    types=list(t.LOAD_BALANCERS),
    scope="stack",
)
def target_groups_per_load_balancer(r: ResourceRecord, index: PlanIndex) -> Iterator[Violation]:
    """Each app service is a target group behind the rack's one load balancer."""
    groups: set[str] = set()
    for listener in _listeners_of(r, index):
        for holder in [listener, *_rules_of(listener, index)]:
            groups.update(g.urn for g in index.dependencies(holder, *t.TARGET_GROUPS))
    if len(groups) > 100:
        yield Violation(
            f"{len(groups)} target groups; AWS allows 100 per load balancer",
            limit=100,
            value=len(groups),
        )


# --- security groups ----------------------------------------------------------------

CLOUDFRONT_PREFIX_LISTS = {"pl-3b927c52": 55, "pl-82a045eb": 55}
"""AWS's CloudFront origin-facing prefix lists (us-east-1, us-west-2) and their weight:
a rule that references one counts as 55 rules."""


def _weight(rule: Mapping[str, Any]) -> tuple[int, int]:
    """(IPv4 weight, IPv6 weight) of one rule toward the per-group quota."""
    if rule.get("cidrIpv6") or strings(rule.get("ipv6CidrBlocks")):
        return 0, max(1, len(strings(rule.get("ipv6CidrBlocks"))))
    lists = strings(rule.get("prefixListId")) + strings(rule.get("prefixListIds"))
    if lists:
        return sum(CLOUDFRONT_PREFIX_LISTS.get(p, 1) for p in lists), 0
    return max(1, len(strings(rule.get("cidrBlocks")))), 0


@rules.rule(
    "PK-LIMIT-008",
    "A security group has at most 60 inbound and 60 outbound rules",
    severity="error",
    sources=["VPC quota: Inbound or outbound rules per security group (60, adjustable)"],
    types=[t.SECURITY_GROUP],
    scope="stack",
)
def rules_per_security_group(r: ResourceRecord, index: PlanIndex) -> Iterator[Violation]:
    """A rule that references a managed prefix list counts as the list's size: the
    CloudFront origin-facing list alone weighs 55, so two such rules exceed the quota."""
    for direction, standalone in (("ingress", t.SG_INGRESS), ("egress", t.SG_EGRESS)):
        rules_: list[Mapping[str, Any]] = [
            x for x in items(r.inputs.get(direction)) if isinstance(x, Mapping)
        ]
        rules_ += [x.inputs for x in index.attached(r, standalone, "securityGroupId")]
        rules_ += [
            x.inputs
            for x in index.attached(r, t.SG_RULE, "securityGroupId")
            if x.inputs.get("type") == direction
        ]
        v4 = sum(_weight(x)[0] for x in rules_)
        v6 = sum(_weight(x)[1] for x in rules_)
        for family, count in (("IPv4", v4), ("IPv6", v6)):
            if count > 60:
                yield Violation(
                    f"{count} {family} {direction} rules (prefix lists count as their size); AWS allows 60",
                    limit=60,
                    value=count,
                )


# --- CloudFront ---------------------------------------------------------------------


@rules.rule(
    "PK-LIMIT-009",
    "A distribution has at most 75 cache behaviours and 25 origins",
    severity="error",
    sources=[
        "CloudFront quotas: Cache behaviors per distribution (75)",
        "Origins per distribution (25)",
    ],
    types=[t.DISTRIBUTION],
)
def cloudfront_sizes(r: ResourceRecord, index: PlanIndex) -> Iterator[Violation]:
    """Both quotas can be raised; waive with the case number once they are."""
    behaviors = 1 + len(items(r.inputs.get("orderedCacheBehaviors")))
    if behaviors > 75:
        yield Violation(f"{behaviors} cache behaviours; AWS allows 75", limit=75, value=behaviors)
    origins = len(items(r.inputs.get("origins")))
    if origins > 25:
        yield Violation(f"{origins} origins; AWS allows 25", limit=25, value=origins)


# --- networks -------------------------------------------------------------------------


def _network(value: Any) -> ipaddress.IPv4Network | None:
    if not isinstance(value, str) or not known(value):
        return None
    try:
        return ipaddress.IPv4Network(value, strict=False)
    except ValueError:
        return None


@rules.rule(
    "PK-LIMIT-010",
    "VPC and subnet blocks are /16 to /28, inside the VPC, without overlaps",
    severity="error",
    sources=["VPC: IPv4 CIDR block size (/16 to /28)"],
    types=[t.VPC, t.SUBNET],
    scope="stack",
    waivable=False,
)
def cidr_sizes(r: ResourceRecord, index: PlanIndex) -> Iterator[Violation]:
    """AWS refuses a block larger than /16 or smaller than /28, a subnet outside its
    VPC's block and two subnets that overlap."""
    net = _network(r.inputs.get("cidrBlock"))
    if net is None:
        return
    kind = "VPC" if r.type == t.VPC else "subnet"
    if not 16 <= net.prefixlen <= 28:
        yield Violation(
            f"{kind} block {net} is /{net.prefixlen}; AWS allows /16 to /28",
            limit="/16-/28",
            value=f"/{net.prefixlen}",
        )
    if r.type != t.SUBNET:
        return
    for vpc in index.dependencies(r, t.VPC):
        block = _network(vpc.inputs.get("cidrBlock"))
        if block is not None and not net.subnet_of(block):
            yield Violation(
                f"subnet {net} is outside the VPC's block {block}", limit=str(block), value=str(net)
            )
        for sibling in index.dependents(vpc, t.SUBNET):
            other = _network(sibling.inputs.get("cidrBlock"))
            if (
                sibling.urn != r.urn
                and other is not None
                and net.overlaps(other)
                and sibling.urn < r.urn
            ):
                yield Violation(
                    f"subnet {net} overlaps {sibling.name} ({other})",
                    limit="no overlap",
                    value=str(net),
                )


@rules.rule(
    "PK-LIMIT-011",
    "An Application Load Balancer has subnets in two zones, each at least /27",
    severity="error",
    sources=[
        "ELB: subnets for an Application Load Balancer (two zones, /27 with 8 free addresses)"
    ],
    types=list(t.LOAD_BALANCERS),
    scope="stack",
    waivable=False,
)
def load_balancer_subnets(r: ResourceRecord, index: PlanIndex) -> Iterator[Violation]:
    """The load balancer scales by adding nodes, each with an address in its subnets."""
    if r.inputs.get("loadBalancerType", "application") != "application":
        return
    listed = r.inputs.get("subnets")
    mapped = items(r.inputs.get("subnetMappings"))
    count = len(listed) if isinstance(listed, list) else len(mapped)
    if (isinstance(listed, list) or mapped) and count < 2:
        yield Violation(
            f"{count} subnet(s); an Application Load Balancer needs two zones", limit=2, value=count
        )
    for subnet in index.dependencies(r, t.SUBNET):
        net = _network(subnet.inputs.get("cidrBlock"))
        if net is not None and net.prefixlen > 27:
            yield Violation(
                f"subnet {subnet.name} is /{net.prefixlen}; load balancers need /27 or larger",
                limit="/27",
                value=f"/{net.prefixlen}",
            )


# --- ECS task sizes -------------------------------------------------------------------

FARGATE_SIZES: dict[int, tuple[int, ...]] = {
    256: (512, 1024, 2048),
    512: tuple(range(1024, 4097, 1024)),
    1024: tuple(range(2048, 8193, 1024)),
    2048: tuple(range(4096, 16385, 1024)),
    4096: tuple(range(8192, 30721, 1024)),
    8192: tuple(range(16384, 61441, 4096)),
    16384: tuple(range(32768, 122881, 8192)),
}
"""Fargate's CPU units and the memory (MiB) each accepts."""


def _size(value: Any) -> int | None:
    """Task cpu/memory: "1024", 1024, "1 vCPU", "2 GB"."""
    if isinstance(value, str) and known(value):
        text = value.strip().lower()
        match = re.fullmatch(r"([\d.]+)\s*(vcpu|gb)", text)
        if match:
            return int(float(match.group(1)) * 1024)
    n = number(value)
    return int(n) if n is not None else None


@rules.rule(
    "PK-LIMIT-012",
    "ECS task sizes are ones ECS accepts",
    severity="error",
    sources=[
        "ECS: task size (Fargate CPU/memory combinations, EC2 128-196608 CPU units)",
        "ECS: container memory (6 MiB minimum)",
    ],
    types=[t.TASK_DEFINITION],
    waivable=False,
)
def task_sizes(r: ResourceRecord, index: PlanIndex) -> Iterator[Violation]:
    """Fargate takes fixed CPU/memory pairs; on EC2 a task takes 128 to 196608 CPU
    units, every container needs at least 6 MiB (or a task-level memory), and the
    containers' hard limits must fit the task's."""
    cpu, memory = _size(r.inputs.get("cpu")), _size(r.inputs.get("memory"))
    fargate = "FARGATE" in strings(r.inputs.get("requiresCompatibilities"))
    if fargate:
        if cpu not in FARGATE_SIZES:
            yield Violation(
                f"cpu {cpu}: Fargate takes {', '.join(map(str, FARGATE_SIZES))}",
                limit="Fargate CPU values",
                value=str(cpu),
            )
        elif memory not in FARGATE_SIZES[cpu]:
            sizes = FARGATE_SIZES[cpu]
            allowed = (
                ", ".join(map(str, sizes))
                if len(sizes) <= 4
                else f"{sizes[0]}-{sizes[-1]} in steps of {sizes[1] - sizes[0]}"
            )
            yield Violation(
                f"memory {memory} MiB with cpu {cpu}: Fargate takes {allowed} MiB",
                limit=allowed,
                value=str(memory),
            )
    elif cpu is not None and not 128 <= cpu <= 196608:
        yield Violation(
            f"cpu {cpu}: ECS on EC2 takes 128 to 196608 units", limit="128-196608", value=cpu
        )
    hard_total, cpu_total = 0, 0
    for i, container in enumerate(containers(r)):
        name = container.get("name") or f"container {i}"
        hard, soft = number(container.get("memory")), number(container.get("memoryReservation"))
        if hard is None and soft is None and memory is None:
            yield Violation(
                f"{name}: neither memory nor memoryReservation, and the task sets no memory",
                limit="memory required",
                value="none",
            )
        for what, value in (("memory", hard), ("memoryReservation", soft)):
            if value is not None and value < 6:
                yield Violation(
                    f"{name}: {what} {int(value)} MiB; ECS needs at least 6",
                    limit=6,
                    value=int(value),
                )
        hard_total += int(hard or 0)
        cpu_total += int(number(container.get("cpu")) or 0)
    if memory is not None and hard_total > memory:
        yield Violation(
            f"containers' memory adds up to {hard_total} MiB, more than the task's {memory}",
            limit=memory,
            value=hard_total,
        )
    if cpu is not None and cpu_total > cpu:
        yield Violation(
            f"containers' cpu adds up to {cpu_total} units, more than the task's {cpu}",
            limit=cpu,
            value=cpu_total,
        )


# --- the rest -------------------------------------------------------------------------


@rules.rule(
    "PK-LIMIT-013",
    "Autoscaling group sizes are in order",
    severity="error",
    sources=["Auto Scaling API: MinSize <= DesiredCapacity <= MaxSize"],
    types=[t.ASG],
    waivable=False,
)
def asg_sizes(r: ResourceRecord, index: PlanIndex) -> Iterator[Violation]:
    """AWS refuses a group whose desired capacity is outside its bounds."""
    low, high = number(r.inputs.get("minSize")), number(r.inputs.get("maxSize"))
    desired = number(r.inputs.get("desiredCapacity"))
    if low is not None and high is not None and low > high:
        yield Violation(
            f"minSize {int(low)} is larger than maxSize {int(high)}",
            limit=int(high),
            value=int(low),
        )
    if desired is not None and low is not None and desired < low:
        yield Violation(
            f"desiredCapacity {int(desired)} is below minSize {int(low)}",
            limit=int(low),
            value=int(desired),
        )
    if desired is not None and high is not None and desired > high:
        yield Violation(
            f"desiredCapacity {int(desired)} is above maxSize {int(high)}",
            limit=int(high),
            value=int(desired),
        )


@rules.rule(
    "PK-LIMIT-014",
    "Lambda memory, timeout and environment fit Lambda's limits",
    severity="error",
    sources=["Lambda quotas: memory 128-10240 MB, timeout 900 s, environment 4 KB"],
    types=[t.LAMBDA_FUNCTION],
    waivable=False,
)
def lambda_sizes(r: ResourceRecord, index: PlanIndex) -> Iterator[Violation]:
    """Limits of the function's configuration that AWS checks on create."""
    memory = number(r.inputs.get("memorySize"))
    if memory is not None and not 128 <= memory <= 10240:
        yield Violation(
            f"memorySize {int(memory)} MB; Lambda takes 128-10240",
            limit="128-10240",
            value=int(memory),
        )
    timeout = number(r.inputs.get("timeout"))
    if timeout is not None and not 1 <= timeout <= 900:
        yield Violation(
            f"timeout {int(timeout)} s; Lambda takes 1-900", limit="1-900", value=int(timeout)
        )
    variables = dig(r.inputs, "environment", "variables")
    if isinstance(variables, Mapping):
        size = sum(len(str(k)) + len(str(v)) for k, v in variables.items())
        if size > 4096:
            yield Violation(
                f"environment variables take {size} bytes; Lambda allows 4096",
                limit=4096,
                value=size,
            )


@rules.rule(
    "PK-LIMIT-015",
    "RDS storage and backup retention are in range",
    severity="error",
    sources=[
        "RDS: allocated storage (20-65536 GiB for gp2/gp3)",
        "RDS: backup retention (0-35 days)",
    ],
    types=[t.DB_INSTANCE],
    waivable=False,
)
def rds_sizes(r: ResourceRecord, index: PlanIndex) -> Iterator[Violation]:
    """gp2 and gp3 volumes for PostgreSQL and MySQL are 20 GiB to 64 TiB; storage
    autoscaling needs a ceiling at least 10% above the allocation."""
    if r.inputs.get("replicateSourceDb"):
        return
    storage = number(r.inputs.get("allocatedStorage"))
    kind = r.inputs.get("storageType", "gp2")
    if storage is not None and kind in ("gp2", "gp3") and not 20 <= storage <= 65536:
        yield Violation(
            f"allocatedStorage {int(storage)} GiB; {kind} takes 20-65536",
            limit="20-65536",
            value=int(storage),
        )
    ceiling = number(r.inputs.get("maxAllocatedStorage"))
    if ceiling and storage is not None and ceiling < storage * 1.1:
        yield Violation(
            f"maxAllocatedStorage {int(ceiling)} GiB is less than 10% above allocatedStorage {int(storage)}",
            limit=int(storage * 1.1) + 1,
            value=int(ceiling),
        )
    days = number(r.inputs.get("backupRetentionPeriod"))
    if days is not None and not 0 <= days <= 35:
        yield Violation(
            f"backupRetentionPeriod {int(days)} days; RDS takes 0-35", limit="0-35", value=int(days)
        )


@rules.rule(
    "PK-LIMIT-016",
    "Log retention is a value CloudWatch accepts",
    severity="error",
    sources=["CloudWatch Logs API: PutRetentionPolicy retentionInDays"],
    types=[t.LOG_GROUP],
    waivable=False,
)
def retention_values(r: ResourceRecord, index: PlanIndex) -> Iterator[Violation]:
    """CloudWatch keeps logs for one of a fixed list of periods (1, 3, 5, 7, 14, 30, ... days)."""
    days = number(r.inputs.get("retentionInDays"))
    if days and int(days) not in RETENTION_DAYS:
        nearest = min(RETENTION_DAYS, key=lambda d: abs(d - days))
        yield Violation(
            f"retentionInDays {int(days)} is not one CloudWatch accepts (nearest: {nearest})",
            limit="CloudWatch retention values",
            value=int(days),
        )


@rules.rule(
    "PK-LIMIT-017",
    "An EventBridge rule has at most 5 targets",
    severity="error",
    sources=["EventBridge quota: Targets per rule (5)"],
    types=[t.EVENT_RULE],
    scope="stack",
    waivable=False,
)
def targets_per_rule(r: ResourceRecord, index: PlanIndex) -> Iterator[Violation]:
    """The sixth target fails to create."""
    count = len(index.dependents(r, t.EVENT_TARGET))
    if count > 5:
        yield Violation(f"{count} targets; EventBridge allows 5 per rule", limit=5, value=count)
