"""A model of the AWS the spot handler lives in, driving the real handler for hours of simulated time.

**The seam.** ``paaskit.spot.aws`` talks to AWS only through the three boto3
clients of ``paaskit.spot.aws.Clients``. This module fakes those three clients
(``autoscaling``, ``ec2``, ``ecs``) over one simulated world, and invokes the
real entry point, ``paaskit.spot.handler.handle``, with EventBridge events
(and, when the code under test is deployed behind an SQS FIFO queue, with SQS
batches): parsing, ``read_group``, ``decide`` and ``apply`` all run unchanged.
Every request is checked against botocore's own service model (names, types,
required members) before the world answers it, and answers have the shapes
AWS documents. The simulated clock reaches the handler by replacing the
``datetime`` name of ``paaskit.spot.handler`` for the duration of a call.

**The world,** one minute per step, each rule following the AWS documentation
cited next to it (``DOCS``):

- an Auto Scaling group with a mixed instances policy over three zones, on-demand
  up to ``OnDemandBaseCapacity`` + ``OnDemandPercentageAboveBaseCapacity`` and spot
  above (``mixed``); it launches towards its desired capacity, balancing zones and,
  when a launch fails in one zone, trying another (``az-distribution``); a spot
  launch in a zone short of spot fails with the activity and the ``EC2 Instance
  Launch Unsuccessful`` event AWS emits, and the group never falls back to
  on-demand by itself; it scales in unprotected instances by its termination
  policy (``termination-policy``, ``scale-in-protection``); capacity rebalancing
  (``capacity-rebalancing``) and an instance refresh (``instance-refresh``)
  launch before they terminate;
- the spot market: per-zone (and region-wide) shortages during which spot
  launches fail and spot nodes get a rebalance recommendation, then the
  two-minute interruption warning, then are reclaimed (``interruption``);
- ECS: the agent registers a node a minute after it is in service, drains it on
  an interruption notice (``spot-draining``); the service scheduler keeps each
  service at its desired count, replacing tasks of DRAINING nodes elsewhere
  first, as room allows (``draining``); rolling deploys at maximum 200%, load
  changes and one-off tasks that do not move; managed termination protection
  protects nodes that run tasks (``managed-termination-protection``); managed
  scaling sets the group's desired capacity to what the tasks need, scaling out
  at once and in after 15 minutes below target (``managed-scaling``,
  ``target-tracking``); managed draining drains a node before the group
  terminates it (``managed-draining``);
- delivery: EventBridge delivers at least once, sometimes late, duplicated or
  (best-effort sources) not at all (``eventbridge-delivery``,
  ``eventbridge-retry``); a failed asynchronous invocation is retried twice
  (``lambda-async``); behind an SQS FIFO queue, messages of one group are
  delivered one batch at a time, deduplicated by content for five minutes, and
  a failed batch comes back after the visibility timeout (``sqs-fifo``,
  ``lambda-sqs-fifo``);
- API faults: a call fails after botocore's retries (throttling, 5xx), and a
  write may take effect although its reply is lost.

**Invariants,** about what the handler itself causes, checked when it acts
(``Violation``); see ``INVARIANTS``.
"""

from __future__ import annotations

import contextlib
import io
import json
import math
import random
from collections import Counter, deque
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import botocore.session
from botocore.exceptions import ClientError
from botocore.validate import validate_parameters

from paaskit.spot import handler as spot_handler
from paaskit.spot import log as spot_log
from paaskit.spot import wiring as spot_wiring
from paaskit.spot.aws import Clients
from paaskit.spot.config import RuntimeConfig, Settings

DOCS: Mapping[str, str] = {
    "mixed": "https://docs.aws.amazon.com/autoscaling/ec2/APIReference/API_InstancesDistribution.html",
    "az-distribution": "https://docs.aws.amazon.com/autoscaling/ec2/APIReference/API_AvailabilityZoneDistribution.html",
    "termination-policy": "https://docs.aws.amazon.com/autoscaling/ec2/userguide/ec2-auto-scaling-termination-policies.html",
    "scale-in-protection": "https://docs.aws.amazon.com/autoscaling/ec2/userguide/ec2-auto-scaling-instance-protection.html",
    "capacity-rebalancing": "https://docs.aws.amazon.com/autoscaling/ec2/userguide/ec2-auto-scaling-capacity-rebalancing.html",
    "instance-refresh": "https://docs.aws.amazon.com/autoscaling/ec2/userguide/asg-instance-refresh.html",
    "terminate-instance": "https://docs.aws.amazon.com/autoscaling/ec2/APIReference/API_TerminateInstanceInAutoScalingGroup.html",
    "update-group": "https://docs.aws.amazon.com/autoscaling/ec2/APIReference/API_UpdateAutoScalingGroup.html",
    "interruption": "https://docs.aws.amazon.com/AWSEC2/latest/UserGuide/spot-instance-termination-notices.html",
    "rebalance": "https://docs.aws.amazon.com/AWSEC2/latest/UserGuide/rebalance-recommendations.html",
    "spot-draining": "https://docs.aws.amazon.com/AmazonECS/latest/developerguide/spot-instance-draining-linux-container.html",
    "draining": "https://docs.aws.amazon.com/AmazonECS/latest/developerguide/container-instance-draining.html",
    "managed-termination-protection": "https://docs.aws.amazon.com/AmazonECS/latest/developerguide/managed-termination-protection.html",
    "managed-scaling": "https://docs.aws.amazon.com/AmazonECS/latest/developerguide/cluster-auto-scaling.html",
    "target-tracking": "https://docs.aws.amazon.com/autoscaling/ec2/userguide/as-scaling-target-tracking.html",
    "managed-draining": "https://docs.aws.amazon.com/AmazonECS/latest/developerguide/managed-instance-draining.html",
    "eventbridge-delivery": "https://docs.aws.amazon.com/eventbridge/latest/ref/event-delivery-level.html",
    "eventbridge-retry": "https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-rule-retry-policy.html",
    "lambda-async": "https://docs.aws.amazon.com/lambda/latest/dg/invocation-async-error-handling.html",
    "sqs-fifo": "https://docs.aws.amazon.com/AWSSimpleQueueService/latest/SQSDeveloperGuide/FIFO-queues-understanding-logic.html",
    "lambda-sqs-fifo": "https://docs.aws.amazon.com/lambda/latest/dg/services-sqs-scaling.html",
    "sqs-dedup": "https://docs.aws.amazon.com/AWSSimpleQueueService/latest/SQSDeveloperGuide/using-messagededuplicationid-property.html",
}
"""The AWS documentation each rule of the model follows, by the key cited in its docstring."""

INVARIANTS: Mapping[str, str] = {
    "on-demand-base": "never takes the on-demand count (or the configured base) below the base",
    "last-active-node": "never drains the last ACTIVE node (but one a reclaim notice dooms)",
    "running-tasks": "never terminates a node that runs tasks",
    "scale-in": "never lowers the desired capacity below the nodes the group keeps, "
    "unless it hands back its own extra node",
    "whole-distribution": "sends the whole InstancesDistribution, so nothing falls back to defaults",
    "purchase-interval": "changes the purchase option at most once per stated interval",
    "duplicate": "a duplicate delivery right after its original changes nothing",
    "wedge": "a node it drains leaves DRAINING (removed or active again) in bounded time",
    "back-to-spot": "brings the group back to its configured share within the stated time "
    "once spot is back in every zone",
    "survives": "no invocation leaves an unhandled error on a healthy AWS",
}
"""What the handler must never do, or must always do; the keys of ``Violation.invariant``."""

T0 = datetime(2025, 6, 2, 0, 0, tzinfo=UTC)
REGION = "us-east-1"
ACCOUNT = "123456789012"
CLUSTER = "rack"
GROUP = "rack-nodes"
ZONES = ("us-east-1a", "us-east-1b", "us-east-1c")

NODE_CPU = 2048  # t3.medium: 2 vCPU
NODE_MEMORY = 3584  # 4 GiB less the OS and ECS_RESERVED_MEMORY

SPOT_SHORTAGE = (
    "Could not launch Spot Instances. InsufficientInstanceCapacity - There is no Spot capacity "
    "available that matches your request. Launching EC2 instance failed."
)
ON_DEMAND_SHORTAGE = (
    "Could not launch On-Demand Instances. InsufficientInstanceCapacity - We currently do not "
    "have sufficient t3.medium capacity in the Availability Zone you requested ({zone}). Our "
    "system will be working on provisioning additional capacity. Launching EC2 instance failed."
)

_BOTOCORE = botocore.session.get_session()


# =====================================================================================
# Settings of a run
# =====================================================================================


@dataclass(frozen=True)
class Scenario:
    """What happens around the handler in one run; rates are per hour unless said."""

    hours: float = 10.0
    zone_shortages_per_hour: float = 0.9
    """Per zone: a pool short of spot in one zone (the common case)."""
    zone_shortage_minutes: float = 12.0
    """Mean length of a one-zone shortage (exponential)."""
    region_shortages_per_hour: float = 0.0
    region_shortage_minutes: float = 45.0
    interruptions_per_minute: float = 0.06
    """Chance per minute that a spot node in a short zone gets its reclaim notice."""
    rebalance_before_interruption: float = 0.5
    load_changes_per_hour: float = 1.5
    deploys_per_hour: float = 0.5
    one_off_tasks_per_hour: float = 1.0
    instance_refresh: bool = True
    desired_changes_per_hour: float = 0.3
    """Someone else sets the desired capacity one up or down (a scheduled action, an operator)."""
    on_demand_launch_failure: float = 0.01
    """Chance that an on-demand launch fails for lack of on-demand capacity."""
    event_duplicate: float = 0.05
    event_late: float = 0.05
    event_lost: float = 0.01
    api_failure: float = 0.01
    """Chance that a call fails after botocore's retries (throttling, 5xx)."""
    api_applied_then_failed: float = 0.2
    """Of the failed writes, the share that took effect although the reply was lost."""
    duplicate_replay: float = 0.1
    """Chance that a reconcile is delivered again at once (the ``duplicate`` check)."""
    min_size: int = 2
    max_size: int = 10
    services: tuple[tuple[str, int, int, int], ...] = (
        ("web", 4, 512, 1024),
        ("api", 3, 512, 1024),
        ("worker", 3, 256, 768),
        ("jobs", 2, 512, 1024),
        ("admin", 1, 256, 512),
    )
    """(name, tasks, CPU units, MiB) of each service; the default needs 4-5 nodes."""
    settings: Settings = field(default_factory=lambda: Settings(on_demand_base=1))


QUIET = (("web", 2, 256, 512), ("worker", 1, 256, 512))
"""A small, quiet rack: its tasks fit on one node, so at the minimum of two nodes
ECS managed scaling's scale-in alarm is always firing (the issue's sequence 1)."""


@dataclass(frozen=True)
class Violation:
    invariant: str
    minute: int
    detail: str


# =====================================================================================
# The world
# =====================================================================================


@dataclass
class Task:
    id: int
    service: str | None
    cpu: int
    memory: int
    started: int
    ends_at: int | None = None
    """One-off tasks end on their own; service tasks run until stopped."""


@dataclass
class ContainerInstance:
    arn: str
    instance_id: str
    status: str = "ACTIVE"
    tasks: list[Task] = field(default_factory=list)

    @property
    def cpu_used(self) -> int:
        return sum(t.cpu for t in self.tasks)

    @property
    def memory_used(self) -> int:
        return sum(t.memory for t in self.tasks)

    def fits(self, task: Task) -> bool:
        return (
            self.cpu_used + task.cpu <= NODE_CPU and self.memory_used + task.memory <= NODE_MEMORY
        )


@dataclass
class Instance:
    id: str
    zone: str
    market: str  # "spot" | "on-demand"
    launched: int
    version: int
    state: str = "Pending"
    """Pending, InService, Terminating:Wait (managed draining), Terminating."""
    in_service_at: int = 0
    registers_at: int = 0
    protected: bool = True
    warned_at: int | None = None
    reclaim_at: int | None = None
    terminating_since: int | None = None
    terminated_by: str | None = None
    being_replaced: bool = False
    """A capacity rebalancing or refresh replacement for it is on its way: not counted."""
    empty_since: int | None = None

    @property
    def counted(self) -> bool:
        """Counts towards the desired capacity (AWS: Pending and InService)."""
        return self.state in ("Pending", "InService") and not self.being_replaced


@dataclass
class Service:
    name: str
    desired: int
    cpu: int
    memory: int
    deploy_until: int | None = None
    provisioning: int = 0


@dataclass
class Delivery:
    at: int
    event: dict[str, Any]
    attempt: int = 1
    emitted: int = 0
    duplicate_of: int | None = None


@dataclass
class Message:
    """A message in the SQS FIFO queue."""

    id: str
    body: str
    dedup: str
    sent: int
    visible_at: int
    receives: int = 0


class World:
    """The group, its nodes, ECS and the spot market, stepped a minute at a time."""

    def __init__(self, seed: int, scenario: Scenario) -> None:
        self.rng = random.Random(seed)
        self.scenario = scenario
        self.settings = scenario.settings
        self.minute = 0
        self.serial = 0
        self.version = 1
        self.min_size = scenario.min_size
        self.max_size = scenario.max_size
        s = scenario.settings
        self.distribution: dict[str, Any] = {
            "OnDemandAllocationStrategy": "prioritized",
            "OnDemandBaseCapacity": s.on_demand_base,
            "OnDemandPercentageAboveBaseCapacity": s.on_demand_percentage,
            "SpotAllocationStrategy": "price-capacity-optimized",
        }
        self.instances: dict[str, Instance] = {}
        self.gone: dict[str, Instance] = {}
        self.container_instances: dict[str, ContainerInstance] = {}
        self.tags: dict[str, str] = {"AmazonECSManaged": "true"}
        self.activities: list[dict[str, Any]] = []
        self.activity_visible: dict[str, int] = {}
        self.shortage_until: dict[str, int] = {}
        self.next_launch = 0
        self.launch_failures = 0
        self.failed_zone: dict[str, int] = {}
        self.refresh_at = (
            self.rng.randrange(60, max(61, int(scenario.hours * 60) - 60))
            if scenario.instance_refresh
            else None
        )
        self.refreshing: dict[str, str] = {}  # new instance -> old instance
        self.rebalancing: dict[str, str] = {}
        self.below_target_since: int | None = None
        self.above_target_since: int | None = None
        self.last_scale_in = -100
        self.services = [Service(*spec) for spec in scenario.services]
        self.task_serial = 0
        self.one_off: list[Task] = []
        self.outbox: list[dict[str, Any]] = []
        """Events AWS emitted this minute, before EventBridge delivers them."""
        self.violations: list[Violation] = []
        self.stats: Counter[str] = Counter()
        needed = math.ceil(sum(s.desired * s.memory for s in self.services) / NODE_MEMORY)
        self.desired = max(self.min_size, needed)
        for k in range(self.desired):
            zone, market = ZONES[k % len(ZONES)], "on-demand" if k < s.on_demand_base else "spot"
            instance = self._new_instance(zone, market)
            instance.state, instance.in_service_at, instance.registers_at = "InService", 0, 0
            self._register(instance)
        self._schedule_tasks()
        # The handler's own record, for the invariants.
        self.handler_raised = False
        self.handler_drained: dict[str, int] = {}
        self.last_purchase_change: int | None = None
        self.spot_back_since: int | None = 0
        self.back_to_spot_reported = False
        self.back_timer: int | None = None
        self.back_to_spot: list[int] = []
        """Minutes each return to the configured share took, once spot was back everywhere."""
        self.writes: list[tuple[str, str]] = []
        self.during_reconcile: Callable[[], None] = lambda: None
        """Set by the simulation: invocations that run in the middle of a reconcile."""

    # --- small helpers ------------------------------------------------------------------

    @property
    def now(self) -> datetime:
        return T0 + timedelta(minutes=self.minute)

    def chance(self, p: float) -> bool:
        return self.rng.random() < p

    def violation(self, invariant: str, detail: str) -> None:
        self.violations.append(Violation(invariant, self.minute, detail))

    def _new_id(self) -> str:
        self.serial += 1
        return f"i-{self.serial:017x}"

    def _new_instance(self, zone: str, market: str) -> Instance:
        instance = Instance(self._new_id(), zone, market, self.minute, self.version)
        instance.in_service_at = self.minute + self.rng.choice((1, 1, 2))
        instance.registers_at = instance.in_service_at + self.rng.choice((0, 1, 1))
        self.instances[instance.id] = instance
        return instance

    def _register(self, instance: Instance) -> None:
        arn = f"arn:aws:ecs:{REGION}:{ACCOUNT}:container-instance/{CLUSTER}/{instance.id[2:]}"
        self.container_instances[instance.id] = ContainerInstance(arn, instance.id)

    def counted(self) -> list[Instance]:
        return [i for i in self.instances.values() if i.counted]

    def wanted_on_demand(self, desired: int | None = None) -> int:
        """AWS: base first, then the percentage of the rest, rounded up (``mixed``)."""
        d = self.desired if desired is None else desired
        base = int(self.distribution.get("OnDemandBaseCapacity", 0))
        percentage = int(self.distribution.get("OnDemandPercentageAboveBaseCapacity", 100))
        return min(d, base) + math.ceil(max(0, d - base) * percentage / 100)

    def short_of_spot(self, zone: str) -> bool:
        return self.shortage_until.get(zone, -1) > self.minute

    def active_nodes(self) -> list[ContainerInstance]:
        return [
            ci
            for ci in self.container_instances.values()
            if ci.status == "ACTIVE" and self.instances.get(ci.instance_id) is not None
            and self.instances[ci.instance_id].state == "InService"
        ]  # fmt: skip

    # --- one minute -----------------------------------------------------------------------

    def step(self) -> None:
        """AWS acts for one minute (the handler runs between steps)."""
        self.minute += 1
        # The group acts on the desired capacity it had when this minute began: a
        # change made during the minute (by ECS) takes effect in the next one.
        desired = self.desired
        self._spot_market()
        self._lifecycle()
        self._ecs_agent()
        self._workload()
        self._ecs_scheduler()
        self._termination_protection()
        self._managed_scaling()
        self._rebalance_and_refresh()
        self._asg_capacity(min(desired, self.desired))
        self._account()

    def _spot_market(self) -> None:
        """Shortages per zone and region-wide; reclaim notices on spot nodes in a short zone.

        AWS (``interruption``, ``rebalance``): a rebalance recommendation may come
        first; the interruption notice comes two minutes before the node is
        reclaimed; both are EventBridge events (``eventbridge-delivery``: best effort).
        """
        sc = self.scenario
        for zone in ZONES:
            if not self.short_of_spot(zone) and self.chance(sc.zone_shortages_per_hour / 60):
                length = max(1, round(self.rng.expovariate(1 / sc.zone_shortage_minutes)))
                self.shortage_until[zone] = self.minute + length
        if sc.region_shortages_per_hour and self.chance(sc.region_shortages_per_hour / 60):
            length = max(1, round(self.rng.expovariate(1 / sc.region_shortage_minutes)))
            for zone in ZONES:
                self.shortage_until[zone] = max(
                    self.shortage_until.get(zone, 0), self.minute + length
                )
        if any(self.short_of_spot(z) for z in ZONES):
            self.spot_back_since = None
            self.back_to_spot_reported = False
        elif self.spot_back_since is None:
            self.spot_back_since = self.minute
        for instance in list(self.instances.values()):
            if instance.market != "spot" or instance.state not in ("InService", "Pending"):
                continue
            doomed = instance.warned_at is None and self.short_of_spot(instance.zone)
            if doomed and self.chance(sc.interruptions_per_minute):
                if self.chance(sc.rebalance_before_interruption):
                    self.outbox.append(rebalance_event(instance.id, self.now))
                    self._capacity_rebalance(instance)
                instance.warned_at = self.minute
                instance.reclaim_at = self.minute + 2
                self.outbox.append(interruption_event(instance.id, self.now))
            if instance.reclaim_at is not None and instance.reclaim_at <= self.minute:
                self._gone(instance, "spot interruption")

    def _gone(self, instance: Instance, cause: str) -> None:
        """The instance is terminated: tasks still on it die with it."""
        ci = self.container_instances.pop(instance.id, None)
        if ci is not None and ci.tasks:
            self.stats[f"tasks killed by {cause}"] += len(ci.tasks)
        instance.state = "Terminated"
        self.instances.pop(instance.id, None)
        self.gone[instance.id] = instance
        self.handler_drained.pop(instance.id, None)
        for pairs in (self.refreshing, self.rebalancing):
            for new, old in list(pairs.items()):
                if old == instance.id or new == instance.id:
                    pairs.pop(new)
                    if new == instance.id and old in self.instances:
                        self.instances[old].being_replaced = False

    def _lifecycle(self) -> None:
        """Pending -> InService; terminations finish once ECS has drained the node.

        AWS (``managed-draining``): with managed draining, a node the group
        terminates waits in Terminating:Wait while ECS drains it, and goes once it
        runs no task (here: or after 30 minutes, the hook's limit in this model).
        """
        for instance in list(self.instances.values()):
            if instance.state == "Pending" and self.minute >= instance.in_service_at:
                instance.state = "InService"
            if instance.state == "Terminating:Wait":
                ci = self.container_instances.get(instance.id)
                if ci is not None and ci.status == "ACTIVE":
                    ci.status = "DRAINING"
                waited = self.minute - (instance.terminating_since or self.minute)
                if ci is None or not ci.tasks or waited >= 30:
                    self._gone(instance, instance.terminated_by or "aws")

    def _ecs_agent(self) -> None:
        """The agent registers a node once it runs; drains it on a reclaim notice (``spot-draining``)."""
        for instance in self.instances.values():
            if (
                instance.state == "InService"
                and instance.id not in self.container_instances
                and self.minute >= instance.registers_at
            ):
                self._register(instance)
            ci = self.container_instances.get(instance.id)
            warned = ci is not None and instance.warned_at is not None and ci.status == "ACTIVE"
            # The agent polls the instance metadata for the notice: usually in time.
            if ci is not None and warned and self.chance(0.8):
                ci.status = "DRAINING"

    def _workload(self) -> None:
        """Load changes, rolling deploys at maximum 200%, one-off tasks that never move."""
        sc = self.scenario
        for service in self.services:
            if self.chance(sc.load_changes_per_hour / 60 / len(self.services)):
                service.desired = max(1, min(5, service.desired + self.rng.choice((-1, 1))))
            if service.deploy_until is None and self.chance(
                sc.deploys_per_hour / 60 / len(self.services)
            ):
                service.deploy_until = self.minute + self.rng.randint(3, 6)
            if service.deploy_until is not None and self.minute >= service.deploy_until:
                service.deploy_until = None
        if self.chance(sc.desired_changes_per_hour / 60):
            value = min(self.max_size, max(self.min_size, self.desired + self.rng.choice((-1, 1))))
            if value != self.desired:
                self._set_desired_by_aws(value, "desired capacity set by someone else")
        if self.chance(sc.one_off_tasks_per_hour / 60):
            task = self._task(None, 256, 512, ends_at=self.minute + self.rng.randint(5, 40))
            target = self._place(task)
            if target is not None:
                target.tasks.append(task)
        for ci in self.container_instances.values():
            ci.tasks = [t for t in ci.tasks if t.ends_at is None or t.ends_at > self.minute]

    def _task(self, service: str | None, cpu: int, memory: int, ends_at: int | None = None) -> Task:
        self.task_serial += 1
        return Task(self.task_serial, service, cpu, memory, self.minute, ends_at)

    def _place(self, task: Task) -> ContainerInstance | None:
        """Binpack on memory among ACTIVE nodes that are in service."""
        fitting = [ci for ci in self.active_nodes() if ci.fits(task)]
        if not fitting:
            return None
        return min(fitting, key=lambda ci: (NODE_MEMORY - ci.memory_used, ci.instance_id))

    def _schedule_tasks(self) -> None:
        for service in self.services:
            for _ in range(service.desired):
                task = self._task(service.name, service.cpu, service.memory)
                target = self._place(task)
                if target is not None:
                    target.tasks.append(task)

    def _ecs_scheduler(self) -> None:
        """Each service at its count; tasks on DRAINING nodes replaced elsewhere first (``draining``).

        AWS: service tasks on a DRAINING container instance are replaced according
        to the deployment configuration; at minimum healthy 100% the new task
        starts before the old one stops, so a task with nowhere to go keeps
        running where it is, and counts as waiting for capacity (managed scaling).
        """
        for service in self.services:
            wanted = service.desired * (2 if service.deploy_until is not None else 1)
            running = [
                (ci, t)
                for ci in self.container_instances.values()
                for t in ci.tasks
                if t.service == service.name
            ]
            service.provisioning = 0
            for ci, task in [(ci, t) for ci, t in running if ci.status == "DRAINING"]:
                new = self._task(service.name, service.cpu, service.memory)
                target = self._place(new)
                if target is None:
                    service.provisioning += 1
                    continue
                target.tasks.append(new)
                ci.tasks.remove(task)
            count = len(running)
            while count < wanted:
                new = self._task(service.name, service.cpu, service.memory)
                target = self._place(new)
                if target is None:
                    service.provisioning += wanted - count
                    break
                target.tasks.append(new)
                count += 1
            if count > wanted:
                current = [
                    (ci, t)
                    for ci in self.container_instances.values()
                    for t in ci.tasks
                    if t.service == service.name
                ]
                current.sort(key=lambda p: (p[0].status != "DRAINING", p[1].started))
                for ci, task in current[: count - wanted]:
                    ci.tasks.remove(task)

    def _termination_protection(self) -> None:
        """ECS protects nodes that run tasks and lifts it from empty ones (``managed-termination-protection``).

        New instances start protected (NewInstancesProtectedFromScaleIn); ECS
        lifts the protection of a node once it has run no task for a minute (it
        notices on its next pass), and sets it again as soon as one is placed.
        """
        for instance in self.instances.values():
            if instance.state != "InService":
                continue
            ci = self.container_instances.get(instance.id)
            if ci is not None and ci.tasks:
                instance.empty_since = None
                instance.protected = True
            elif instance.empty_since is None:
                instance.empty_since = self.minute
            elif self.minute - instance.empty_since >= 1:
                instance.protected = False

    def _needed_nodes(self) -> int:
        """M of ECS managed scaling: nodes running tasks, plus what waiting tasks need (``managed-scaling``)."""
        busy = sum(
            1
            for ci in self.container_instances.values()
            if ci.tasks and self.instances.get(ci.instance_id) is not None
        )
        waiting_memory = sum(s.provisioning * s.memory for s in self.services if s.provisioning)
        extra = math.ceil(waiting_memory / NODE_MEMORY) if waiting_memory else 0
        return max(busy + extra, 1 if busy or extra else 0)

    def _managed_scaling(self) -> None:
        """ECS target tracking on CapacityProviderReservation = M / N at target 100.

        AWS (``managed-scaling``, ``target-tracking``): the policy sets the desired
        capacity to what keeps the metric at target; it scales out after the metric
        is above target for a couple of minutes, and in only after 15 minutes
        below; each scale-in is a new desired capacity (absolute), never below the
        group's minimum; scale-ins are at least 5 minutes apart.
        """
        n = sum(1 for i in self.instances.values() if i.state == "InService")
        m = self._needed_nodes()
        if m > n:
            self.above_target_since = self.above_target_since or self.minute
        else:
            self.above_target_since = None
        if m < n:
            self.below_target_since = (
                self.minute if self.below_target_since is None else self.below_target_since
            )
        else:
            self.below_target_since = None
        if self.above_target_since is not None and self.minute - self.above_target_since >= 1:
            wanted = min(self.max_size, m)
            if wanted > self.desired:
                self._set_desired_by_aws(wanted, "ECS managed scaling (out)")
        if (
            self.below_target_since is not None
            and self.minute - self.below_target_since >= 15
            and self.minute - self.last_scale_in >= 5
        ):
            wanted = max(self.min_size, m)
            if wanted < self.desired:
                self._set_desired_by_aws(wanted, "ECS managed scaling (in)")
                self.last_scale_in = self.minute

    def _set_desired_by_aws(self, value: int, why: str) -> None:
        self.desired = value
        self.handler_raised = False
        self.stats[why] += 1

    def _capacity_rebalance(self, old: Instance) -> None:
        """Launch a spot replacement before the node at risk goes (``capacity-rebalancing``)."""
        if len(self.instances) >= self.max_size:
            return
        zone = self._zone_for("spot", exclude={old.zone})
        if zone is None or self.short_of_spot(zone):
            return
        new = self._new_instance(zone, "spot")
        old.being_replaced = True
        self.rebalancing[new.id] = old.id
        self._activity("Successful", f"Launching a new EC2 instance: {new.id}", zone)

    def _rebalance_and_refresh(self) -> None:
        """Replacements launched first terminate their old node once in service.

        AWS (``capacity-rebalancing``, ``instance-refresh``): the new instance must
        pass its health checks before the old one is terminated; the instance
        refresh here replaces every node of an older launch template version, one
        at a time (minimum healthy 100%), protected nodes included, through
        managed draining.
        """
        for pairs in (self.rebalancing, self.refreshing):
            for new_id, old_id in list(pairs.items()):
                new, old = self.instances.get(new_id), self.instances.get(old_id)
                if new is None or old is None:
                    pairs.pop(new_id)
                    continue
                if new.state == "InService" and new.id in self.container_instances:
                    pairs.pop(new_id)
                    self._terminate_by_aws(
                        old,
                        "instance refresh" if pairs is self.refreshing else "capacity rebalancing",
                    )
        if self.refresh_at is not None and self.minute == self.refresh_at:
            self.version += 1
        if self.version > 1 and not self.refreshing:
            stale = sorted(
                (i for i in self.instances.values() if i.version < self.version and i.state == "InService"),
                key=lambda i: i.launched,
            )  # fmt: skip
            if stale and len(self.instances) < self.max_size:
                old = stale[0]
                if old.market == "spot" and self.short_of_spot(old.zone):
                    return
                new = self._new_instance(old.zone, old.market)
                old.being_replaced = True
                self.refreshing[new.id] = old.id

    def _terminate_by_aws(self, instance: Instance, cause: str) -> None:
        if instance.state in ("InService", "Pending"):
            instance.state = "Terminating:Wait"
            instance.terminating_since = self.minute
            instance.terminated_by = cause

    def _zone_for(self, market: str, exclude: set[str] | None = None) -> str | None:
        """The zone with fewest instances, skipping zones whose launch just failed.

        AWS (``az-distribution``, default balanced-best-effort): "If launches fail
        in an Availability Zone, Auto Scaling will attempt to launch in another
        healthy Availability Zone instead."
        """
        counts = Counter(i.zone for i in self.instances.values() if i.counted)
        recent = {z for z, at in self.failed_zone.items() if self.minute - at <= 5}
        candidates = [z for z in ZONES if z not in (exclude or set()) and z not in recent]
        if not candidates:
            candidates = [z for z in ZONES if z not in (exclude or set())] or list(ZONES)
        return min(candidates, key=lambda z: (counts[z], self.rng.random()))

    def _activity(self, status: str, message: str, zone: str) -> dict[str, Any]:
        activity_id = f"{self.minute:06d}-{len(self.activities):05d}-0000-0000-000000000000"
        activity = {
            "ActivityId": activity_id,
            "AutoScalingGroupName": GROUP,
            "Description": (
                "Launching a new EC2 instance"
                + ("" if status == "Successful" else f".  Status Reason: {message}")
            ),
            "Cause": f"At {self.now:%Y-%m-%dT%H:%M:%SZ} an instance was started in response to a "
            "difference between desired and actual capacity.",
            "StartTime": self.now,
            "EndTime": self.now,
            "StatusCode": status,
            "StatusMessage": message if status != "Successful" else "",
            "Progress": 100,
            "Details": json.dumps({"Subnet ID": f"subnet-{zone[-1]}", "Availability Zone": zone}),
        }
        self.activities.append(activity)
        # DescribeScalingActivities lags the event by up to a minute.
        self.activity_visible[activity_id] = self.minute + self.rng.choice((0, 1))
        return activity

    def _asg_capacity(self, desired: int) -> None:
        """Launch towards the desired capacity, or scale in; the market by the distribution.

        AWS: on-demand until base + percentage of the rest is met, spot above it
        (``mixed``); a failed spot launch is retried, never as on-demand; failed
        launches back off (here 1, 2, 4 then 5 minutes) and move to another zone
        (``az-distribution``); a scale-in picks among unprotected instances the
        zone with most, then the market the distribution has too many of, then the
        oldest (``termination-policy``, ``scale-in-protection``), and goes through
        managed draining.
        """
        counted = self.counted()
        if len(counted) > desired:
            for _ in range(len(counted) - desired):
                victim = self._scale_in_victim()
                if victim is None:
                    break
                self._terminate_by_aws(victim, "scale-in")
            return
        if len(counted) == desired or self.minute < self.next_launch:
            return
        for _ in range(desired - len(counted)):
            on_demand = sum(1 for i in self.counted() if i.market == "on-demand")
            market = "on-demand" if on_demand < self.wanted_on_demand(desired) else "spot"
            zone = self._zone_for(market) or ZONES[0]
            failed = (market == "spot" and self.short_of_spot(zone)) or (
                market == "on-demand" and self.chance(self.scenario.on_demand_launch_failure)
            )
            if failed:
                message = (
                    SPOT_SHORTAGE if market == "spot" else ON_DEMAND_SHORTAGE.format(zone=zone)
                )
                activity = self._activity("Failed", message, zone)
                self.outbox.append(launch_unsuccessful_event(activity))
                self.failed_zone[zone] = self.minute
                self.launch_failures += 1
                self.next_launch = self.minute + min(5, 2 ** (self.launch_failures - 1))
                self.stats[f"{market} launch failures"] += 1
                return
            self.launch_failures = 0
            instance = self._new_instance(zone, market)
            self._activity("Successful", f"Launching a new EC2 instance: {instance.id}", zone)

    def _scale_in_victim(self) -> Instance | None:
        # A refresh's or a rebalancing's new instance is launched beyond the desired
        # capacity, in place of the one it replaces: never a scale-in victim.
        replacing = set(self.refreshing) | set(self.rebalancing)
        eligible = [
            i
            for i in self.counted()
            if i.id not in replacing
            and ((i.state == "InService" and not i.protected) or i.state == "Pending")
        ]
        if not eligible:
            return None
        counts = Counter(i.zone for i in self.counted())
        on_demand = sum(1 for i in self.counted() if i.market == "on-demand")
        too_many_on_demand = on_demand > self.wanted_on_demand()
        return max(
            eligible,
            key=lambda i: (
                counts[i.zone],
                (i.market == "on-demand") == too_many_on_demand,
                -i.version,
                -i.launched,
                i.id,
            ),
        )

    def _account(self) -> None:
        """Node-minutes by market, tasks waiting for room, and the liveness checks."""
        for instance in self.instances.values():
            if instance.state == "InService":
                self.stats[f"{instance.market} node-minutes"] += 1
        self.stats["task-minutes waiting for room"] += sum(s.provisioning for s in self.services)
        s = self.settings
        on_demand = sum(1 for i in self.counted() if i.market == "on-demand")
        wanted = min(self.desired, s.on_demand_base) + math.ceil(
            max(0, self.desired - s.on_demand_base) * s.on_demand_percentage / 100
        )
        percentage = self.distribution["OnDemandPercentageAboveBaseCapacity"]
        configured = on_demand <= wanted and percentage == s.on_demand_percentage
        if self.spot_back_since is None:
            self.back_timer = None
        elif configured and self.back_timer is not None:
            taken = self.minute - self.back_timer
            self.back_to_spot.append(taken)
            self.back_timer = None
        elif not configured and self.back_timer is None and self.spot_back_since == self.minute:
            self.back_timer = self.minute  # spot is back, the group is not: time the return
        if (
            self.spot_back_since is not None
            and self.minute - self.spot_back_since > back_to_spot_minutes(s)
            and not self.back_to_spot_reported
            and not configured
        ):
            self.back_to_spot_reported = True
            self.violation(
                "back-to-spot",
                f"spot back for {self.minute - self.spot_back_since} min: {on_demand} "
                f"on-demand nodes of {self.desired}, {percentage}% above base",
            )
        for instance_id, since in list(self.handler_drained.items()):
            node = self.instances.get(instance_id)
            ci = self.container_instances.get(instance_id)
            if node is None or ci is None or ci.status != "DRAINING" or node.state != "InService":
                self.handler_drained.pop(instance_id)  # gone, active again, or being terminated
            elif self.minute - since > wedge_minutes(self.settings):
                self.violation(
                    "wedge", f"{instance_id} DRAINING for {self.minute - since} min, "
                    f"state {node.state}, {len(ci.tasks)} tasks",
                )  # fmt: skip
                self.handler_drained.pop(instance_id)

    # --- the handler's calls ----------------------------------------------------------------

    def handler_write(self, operation: str, params: Mapping[str, Any]) -> None:
        """Note a change the handler made, with what it is about (for the ``duplicate`` check)."""
        self.stats[f"call {operation}"] += 1
        if operation == "SetDesiredCapacity":
            about = "up" if params["DesiredCapacity"] > self.desired else "down"
        elif operation == "TerminateInstanceInAutoScalingGroup":
            about = params["InstanceId"]
        elif operation == "UpdateContainerInstancesState":
            about = f"{params['status']} {sorted(params['containerInstances'])}"
        elif operation == "UpdateAutoScalingGroup":
            distribution = params["MixedInstancesPolicy"]["InstancesDistribution"]
            about = str(distribution.get("OnDemandPercentageAboveBaseCapacity"))
        else:
            return  # the state tags: rewriting the same values is harmless
        self.writes.append((operation, about))


def back_to_spot_minutes(settings: Settings) -> int:
    """The stated bound: spot back in every zone -> the configured share back within this.

    The cool-down (the fallback's end) plus 105 minutes for the replacements: two hours
    with the defaults. (The bench's longest was 86 minutes: several on-demand nodes,
    one at a time, some attempts given up and retried a cool-down later.)
    """
    cooldown = int(settings.cooldown.total_seconds() // 60)
    return cooldown + 105


def wedge_minutes(settings: Settings) -> int:
    """The stated bound on how long a node the handler drained may stay DRAINING."""
    return int((settings.replacement_timeout + settings.drain_timeout).total_seconds() // 60) + 10


# =====================================================================================
# The fake boto3 clients
# =====================================================================================


class _Paginator:
    def __init__(self, fake: _FakeClient, operation: str) -> None:
        self.fake, self.operation = fake, operation

    def paginate(self, **params: Any) -> Iterator[dict[str, Any]]:
        yield self.fake._call(self.operation, params)


class _FakeClient:
    """Requests validated against botocore's model; faults injected; answers from the world."""

    service = ""
    WRITES: frozenset[str] = frozenset()

    def __init__(self, world: World, faults: bool = True) -> None:
        self.world = world
        self.faults = faults
        self.model = _BOTOCORE.get_service_model(self.service)

    def get_paginator(self, name: str) -> _Paginator:
        operation = "".join(part.capitalize() for part in name.split("_"))
        return _Paginator(self, operation)

    def _call(self, operation: str, params: dict[str, Any]) -> dict[str, Any]:
        validate_parameters(params, self.model.operation_model(operation).input_shape)
        world = self.world
        failing = self.faults and world.chance(world.scenario.api_failure)
        write = operation in self.WRITES
        if failing:
            world.stats["faults injected"] += 1
        if failing and not (write and world.chance(world.scenario.api_applied_then_failed)):
            raise _error(operation, world.rng.choice(("Throttling", "ServiceUnavailable")))
        if write:
            world.handler_write(operation, params)
        answer: dict[str, Any] = getattr(self, "_" + operation)(**params)
        if failing:
            raise _error(operation, "RequestTimeout")
        return answer


def _error(operation: str, code: str, message: str = "simulated") -> ClientError:
    return ClientError({"Error": {"Code": code, "Message": message}}, operation)


class FakeAutoScaling(_FakeClient):
    service = "autoscaling"
    WRITES = frozenset(
        {
            "UpdateAutoScalingGroup",
            "SetDesiredCapacity",
            "SetInstanceProtection",
            "TerminateInstanceInAutoScalingGroup",
            "CreateOrUpdateTags",
        }
    )

    def describe_auto_scaling_groups(self, **params: Any) -> dict[str, Any]:
        return self._call("DescribeAutoScalingGroups", params)

    def describe_scaling_activities(self, **params: Any) -> dict[str, Any]:
        return self._call("DescribeScalingActivities", params)

    def update_auto_scaling_group(self, **params: Any) -> dict[str, Any]:
        return self._call("UpdateAutoScalingGroup", params)

    def set_desired_capacity(self, **params: Any) -> dict[str, Any]:
        return self._call("SetDesiredCapacity", params)

    def set_instance_protection(self, **params: Any) -> dict[str, Any]:
        return self._call("SetInstanceProtection", params)

    def terminate_instance_in_auto_scaling_group(self, **params: Any) -> dict[str, Any]:
        return self._call("TerminateInstanceInAutoScalingGroup", params)

    def create_or_update_tags(self, **params: Any) -> dict[str, Any]:
        return self._call("CreateOrUpdateTags", params)

    # --- answers --------------------------------------------------------------------------

    def _DescribeAutoScalingGroups(
        self, AutoScalingGroupNames: list[str], **_: Any
    ) -> dict[str, Any]:
        w = self.world
        if GROUP not in AutoScalingGroupNames:
            return {"AutoScalingGroups": []}
        instances = [
            {
                "InstanceId": i.id,
                "InstanceType": "t3.medium",
                "AvailabilityZone": i.zone,
                "LifecycleState": i.state,
                "HealthStatus": "Healthy",
                "ProtectedFromScaleIn": i.protected,
                "LaunchTemplate": {"LaunchTemplateName": "rack-nodes", "Version": str(i.version)},
            }
            for i in w.instances.values()
        ]
        return {
            "AutoScalingGroups": [
                {
                    "AutoScalingGroupName": GROUP,
                    "MinSize": w.min_size,
                    "MaxSize": w.max_size,
                    "DesiredCapacity": w.desired,
                    "AvailabilityZones": list(ZONES),
                    "MixedInstancesPolicy": {
                        "LaunchTemplate": {
                            "LaunchTemplateSpecification": {
                                "LaunchTemplateName": "rack-nodes",
                                "Version": str(w.version),
                            },
                            "Overrides": [
                                {"InstanceType": "t3.medium"},
                                {"InstanceType": "t3a.medium"},
                            ],
                        },
                        "InstancesDistribution": dict(w.distribution),
                    },
                    "Instances": instances,
                    "NewInstancesProtectedFromScaleIn": True,
                    "CapacityRebalance": True,
                    "Tags": [
                        {
                            "ResourceId": GROUP,
                            "ResourceType": "auto-scaling-group",
                            "Key": k,
                            "Value": v,
                            "PropagateAtLaunch": False,
                        }
                        for k, v in sorted(w.tags.items())
                    ],
                }
            ]
        }

    def _DescribeScalingActivities(
        self, AutoScalingGroupName: str, MaxRecords: int = 100, **_: Any
    ) -> dict[str, Any]:
        w = self.world
        # A reconcile reads the group, then the activities, then acts: a direct
        # invocation running at the same time lands here, between its reads and acts.
        w.during_reconcile()
        visible = [a for a in w.activities if w.activity_visible[a["ActivityId"]] <= w.minute]
        return {"Activities": [dict(a) for a in reversed(visible[-MaxRecords:])]}

    def _UpdateAutoScalingGroup(
        self,
        AutoScalingGroupName: str,
        MixedInstancesPolicy: dict[str, Any] | None = None,
        **other: Any,
    ) -> dict[str, Any]:
        """AWS (``mixed``, ``update-group``): the InstancesDistribution given takes
        default values for what it leaves out (except SpotMaxPrice), the pessimistic
        reading of a partial update; the whole one is what AWS documents."""
        w = self.world
        if (
            other
            or MixedInstancesPolicy is None
            or set(MixedInstancesPolicy) != {"InstancesDistribution"}
        ):
            raise _error("UpdateAutoScalingGroup", "ValidationError", f"unexpected update {other}")
        sent = MixedInstancesPolicy["InstancesDistribution"]
        defaults = {
            "OnDemandAllocationStrategy": "lowest-price",
            "OnDemandBaseCapacity": 0,
            "OnDemandPercentageAboveBaseCapacity": 100,
            "SpotAllocationStrategy": "lowest-price",
        }
        missing = sorted(k for k in defaults if k not in sent)
        if missing:
            w.violation("whole-distribution", f"InstancesDistribution without {', '.join(missing)}")
        if sent.get("OnDemandBaseCapacity", 0) < w.settings.on_demand_base:
            w.violation(
                "on-demand-base", f"OnDemandBaseCapacity {sent.get('OnDemandBaseCapacity')}"
            )
        before = w.distribution["OnDemandPercentageAboveBaseCapacity"]
        w.distribution = {**defaults, **sent}
        after = w.distribution["OnDemandPercentageAboveBaseCapacity"]
        if after != before:
            w.stats["purchase option changes"] += 1
            if after > before:
                w.stats["fallbacks"] += 1
            interval = purchase_interval_minutes(w.settings)
            if w.last_purchase_change is not None:
                gap = w.minute - w.last_purchase_change
                w.stats["shortest purchase change gap"] = min(
                    gap, w.stats.get("shortest purchase change gap", gap)
                )
            if w.last_purchase_change is not None and w.minute - w.last_purchase_change < interval:
                w.violation(
                    "purchase-interval",
                    f"{before}% -> {after}% {w.minute - w.last_purchase_change} min after the last change",
                )
            w.last_purchase_change = w.minute
        return {}

    def _SetDesiredCapacity(
        self, AutoScalingGroupName: str, DesiredCapacity: int, HonorCooldown: bool = False
    ) -> dict[str, Any]:
        w = self.world
        if not w.min_size <= DesiredCapacity <= w.max_size:
            raise _error(
                "SetDesiredCapacity",
                "ValidationError",
                f"New SetDesiredCapacity value {DesiredCapacity} is outside {w.min_size}-{w.max_size}",
            )
        if DesiredCapacity < w.desired:
            self._lowering(DesiredCapacity, leaving=None)
        w.handler_raised = DesiredCapacity == w.desired + 1
        w.desired = DesiredCapacity
        return {}

    def _lowering(self, new: int, leaving: str | None) -> None:
        """A lower desired capacity must not scale in a node nobody asked to remove."""
        w = self.world
        kept = sum(1 for i in w.counted() if i.id != leaving)
        if not w.handler_raised and new < kept:
            w.violation(
                "scale-in",
                f"desired {w.desired} -> {new} with {kept} nodes kept: the group scales one in",
            )
        w.handler_raised = False

    def _SetInstanceProtection(
        self, InstanceIds: list[str], AutoScalingGroupName: str, ProtectedFromScaleIn: bool
    ) -> dict[str, Any]:
        for instance_id in InstanceIds:
            instance = self.world.instances.get(instance_id)
            if instance is None:
                raise _error(
                    "SetInstanceProtection", "ValidationError", f"{instance_id} not in group"
                )
            instance.protected = ProtectedFromScaleIn
        return {}

    def _TerminateInstanceInAutoScalingGroup(
        self, InstanceId: str, ShouldDecrementDesiredCapacity: bool
    ) -> dict[str, Any]:
        """AWS (``terminate-instance``): refused when a decrement would go below the
        minimum ("Currently, desiredSize equals minSize ..."); without a decrement
        the group launches a replacement; managed draining applies."""
        w = self.world
        instance = w.instances.get(InstanceId)
        if instance is None or instance.state not in ("InService", "Pending"):
            raise _error(
                "TerminateInstanceInAutoScalingGroup", "ValidationError", f"{InstanceId} not found"
            )
        if ShouldDecrementDesiredCapacity and w.desired - 1 < w.min_size:
            raise _error(
                "TerminateInstanceInAutoScalingGroup",
                "ValidationError",
                f"Currently, desiredSize equals minSize ({w.min_size}). Terminating instance "
                "without replacement will violate group's min size constraint.",
            )
        ci = w.container_instances.get(InstanceId)
        if ci is not None and ci.tasks:
            w.violation("running-tasks", f"terminate {InstanceId} running {len(ci.tasks)} tasks")
        on_demand_left = sum(
            1 for i in w.counted() if i.market == "on-demand" and i.id != InstanceId
        )
        if instance.market == "on-demand" and on_demand_left < w.settings.on_demand_base:
            w.violation(
                "on-demand-base", f"terminate {InstanceId}: {on_demand_left} on-demand left"
            )
        if ShouldDecrementDesiredCapacity:
            self._lowering(w.desired - 1, leaving=InstanceId)
            w.desired -= 1
        instance.state = "Terminating:Wait"
        instance.terminating_since = w.minute
        instance.terminated_by = "handler"
        w.stats["handler terminations"] += 1
        return {
            "Activity": {
                "ActivityId": f"t-{InstanceId}",
                "AutoScalingGroupName": GROUP,
                "Cause": "terminate",
                "StartTime": w.now,
                "StatusCode": "InProgress",
            }
        }

    def _CreateOrUpdateTags(self, Tags: list[dict[str, Any]]) -> dict[str, Any]:
        for tag in Tags:
            if tag["ResourceId"] != GROUP or tag.get("PropagateAtLaunch"):
                raise _error("CreateOrUpdateTags", "ValidationError", f"bad tag {tag}")
            self.world.tags[tag["Key"]] = tag.get("Value", "")
        return {}


class FakeEc2(_FakeClient):
    service = "ec2"

    def _DescribeInstances(
        self, Filters: list[dict[str, Any]] | None = None, **_: Any
    ) -> dict[str, Any]:
        w = self.world
        wanted: set[str] = set()
        for f in Filters or []:
            if f["Name"] == "instance-id":
                wanted.update(f["Values"])
        found = [w.instances.get(i) or w.gone.get(i) for i in sorted(wanted)]
        return {
            "Reservations": [
                {
                    "Instances": [
                        {
                            "InstanceId": i.id,
                            "LaunchTime": T0 + timedelta(minutes=i.launched),
                            "Placement": {"AvailabilityZone": i.zone},
                            "State": {
                                "Name": "terminated" if i.state == "Terminated" else "running"
                            },
                            **({"InstanceLifecycle": "spot"} if i.market == "spot" else {}),
                        }
                    ]
                }
                for i in found
                if i is not None
            ]
        }


class FakeEcs(_FakeClient):
    service = "ecs"
    WRITES = frozenset({"UpdateContainerInstancesState"})

    def describe_container_instances(self, **params: Any) -> dict[str, Any]:
        return self._call("DescribeContainerInstances", params)

    def update_container_instances_state(self, **params: Any) -> dict[str, Any]:
        return self._call("UpdateContainerInstancesState", params)

    def _ListContainerInstances(
        self, cluster: str, filter: str | None = None, **_: Any
    ) -> dict[str, Any]:
        cis = self._cluster(cluster)
        if filter:
            instance_id = filter.split("==")[1].strip()
            cis = [ci for ci in cis if ci.instance_id == instance_id]
        return {"containerInstanceArns": [ci.arn for ci in cis]}

    def _cluster(self, cluster: str) -> list[ContainerInstance]:
        return list(self.world.container_instances.values()) if cluster == CLUSTER else []

    def _DescribeContainerInstances(
        self, cluster: str, containerInstances: list[str], **_: Any
    ) -> dict[str, Any]:
        if len(containerInstances) > 100:
            raise _error("DescribeContainerInstances", "InvalidParameterException", "at most 100")
        by_arn = {ci.arn: ci for ci in self._cluster(cluster)}
        return {
            "containerInstances": [
                {
                    "containerInstanceArn": ci.arn,
                    "ec2InstanceId": ci.instance_id,
                    "status": ci.status,
                    "runningTasksCount": len(ci.tasks),
                    "pendingTasksCount": 0,
                    "agentConnected": True,
                    "registeredResources": [
                        {"name": "CPU", "type": "INTEGER", "integerValue": NODE_CPU},
                        {"name": "MEMORY", "type": "INTEGER", "integerValue": NODE_MEMORY},
                    ],
                    "remainingResources": [
                        {"name": "CPU", "type": "INTEGER", "integerValue": NODE_CPU - ci.cpu_used},
                        {
                            "name": "MEMORY",
                            "type": "INTEGER",
                            "integerValue": NODE_MEMORY - ci.memory_used,
                        },
                    ],
                }
                for arn in containerInstances
                if (ci := by_arn.get(arn)) is not None
            ],
            "failures": [
                {"arn": a, "reason": "MISSING"} for a in containerInstances if a not in by_arn
            ],
        }

    def _UpdateContainerInstancesState(
        self, cluster: str, containerInstances: list[str], status: str
    ) -> dict[str, Any]:
        w = self.world
        if len(containerInstances) > 10:
            raise _error("UpdateContainerInstancesState", "InvalidParameterException", "at most 10")
        by_arn = {ci.arn: ci for ci in self._cluster(cluster)}
        for arn in containerInstances:
            ci = by_arn.get(arn)
            if ci is None:
                continue
            instance = w.instances.get(ci.instance_id)
            if status == "DRAINING" and ci.status == "ACTIVE":
                doomed = instance is None or instance.warned_at is not None
                if not doomed:
                    others = [o for o in w.active_nodes() if o.arn != arn]
                    if not others:
                        w.violation(
                            "last-active-node", f"drained {ci.instance_id}, the last ACTIVE node"
                        )
                    w.handler_drained[ci.instance_id] = w.minute
            if status == "ACTIVE":
                w.handler_drained.pop(ci.instance_id, None)
            ci.status = status
        return {
            "containerInstances": [],
            "failures": [
                {"arn": a, "reason": "MISSING"} for a in containerInstances if a not in by_arn
            ],
        }


# =====================================================================================
# Events, as AWS emits them
# =====================================================================================


def _event_id(kind: str, at: datetime, key: str) -> str:
    digest = abs(hash((kind, at.isoformat(), key))) % 10**12
    return f"{digest:012d}-0000-4000-8000-{abs(hash(key)) % 10**12:012d}"


def _iso(at: datetime) -> str:
    return at.strftime("%Y-%m-%dT%H:%M:%SZ")


def interruption_event(instance_id: str, at: datetime) -> dict[str, Any]:
    return {
        "version": "0",
        "id": _event_id("interruption", at, instance_id),
        "detail-type": "EC2 Spot Instance Interruption Warning",
        "source": "aws.ec2",
        "account": ACCOUNT,
        "time": _iso(at),
        "region": REGION,
        "resources": [f"arn:aws:ec2:{REGION}:{ACCOUNT}:instance/{instance_id}"],
        "detail": {"instance-id": instance_id, "instance-action": "terminate"},
    }


def rebalance_event(instance_id: str, at: datetime) -> dict[str, Any]:
    return {
        "version": "0",
        "id": _event_id("rebalance", at, instance_id),
        "detail-type": "EC2 Instance Rebalance Recommendation",
        "source": "aws.ec2",
        "account": ACCOUNT,
        "time": _iso(at),
        "region": REGION,
        "resources": [f"arn:aws:ec2:{REGION}:{ACCOUNT}:instance/{instance_id}"],
        "detail": {"instance-id": instance_id},
    }


def launch_unsuccessful_event(activity: Mapping[str, Any]) -> dict[str, Any]:
    at: datetime = activity["StartTime"]
    return {
        "version": "0",
        "id": _event_id("launch", at, activity["ActivityId"]),
        "detail-type": "EC2 Instance Launch Unsuccessful",
        "source": "aws.autoscaling",
        "account": ACCOUNT,
        "time": _iso(at),
        "region": REGION,
        "resources": [
            f"arn:aws:autoscaling:{REGION}:{ACCOUNT}:autoScalingGroup:x:autoScalingGroupName/{GROUP}"
        ],
        "detail": {
            "StatusCode": "Failed",
            "AutoScalingGroupName": GROUP,
            "ActivityId": activity["ActivityId"],
            "Details": json.loads(activity["Details"]),
            "RequestId": activity["ActivityId"],
            "StatusMessage": activity["StatusMessage"],
            "EndTime": _iso(at),
            "EC2InstanceId": "",
            "StartTime": _iso(at),
            "Cause": activity["Cause"],
        },
    }


def scheduled_event(at: datetime) -> dict[str, Any]:
    return {
        "version": "0",
        "id": _event_id("schedule", at, "tick"),
        "detail-type": "Scheduled Event",
        "source": "aws.events",
        "account": ACCOUNT,
        "time": _iso(at),
        "region": REGION,
        "resources": [f"arn:aws:events:{REGION}:{ACCOUNT}:rule/rack-spot-schedule"],
        "detail": {},
    }


# =====================================================================================
# Running the handler in the world
# =====================================================================================


_ROLES = {
    "EC2 Spot Instance Interruption Warning": "interruption",
    "EC2 Instance Rebalance Recommendation": "rebalance",
    "EC2 Instance Launch Unsuccessful": "launch-unsuccessful",
    "Scheduled Event": "schedule",
}


def _role(event: Mapping[str, Any]) -> str:
    """The rule (``paaskit.spot.wiring``) an event comes through."""
    return _ROLES[event["detail-type"]]


def _kind(event: Mapping[str, Any]) -> str:
    if "Records" in event:
        return f"batch of {len(event['Records'])}"
    return str(event.get("detail-type"))


class _Clock(datetime):
    at: datetime = T0

    @classmethod
    def now(cls, tz: Any = None) -> Any:
        return cls.at


@contextlib.contextmanager
def simulated_clock(at: datetime) -> Iterator[None]:
    """``datetime.now`` in the handler module answers the simulated time."""
    _Clock.at = at
    modules = (spot_handler, spot_log)
    originals = [getattr(m, "datetime") for m in modules]  # noqa: B009 - mypy: not exported
    for module in modules:
        setattr(module, "datetime", _Clock)  # noqa: B010
    try:
        yield
    finally:
        for module, original in zip(modules, originals, strict=True):
            setattr(module, "datetime", original)  # noqa: B010


class _Tail(io.TextIOBase):
    """The handler's last log lines (stdout), for a failing run's report."""

    def __init__(self, keep: int = 200) -> None:
        self.lines: deque[str] = deque(maxlen=keep)

    def write(self, text: str) -> int:
        self.lines.extend(line for line in text.splitlines() if line)
        return len(text)


@dataclass
class RunResult:
    seed: int
    scenario: Scenario
    violations: list[Violation]
    stats: Counter[str]
    log: list[str]
    minutes: int
    back_to_spot: list[int] = field(default_factory=list)
    """Minutes each return to the configured share took once spot was back everywhere."""

    @property
    def on_demand_share(self) -> float:
        on_demand = self.stats["on-demand node-minutes"]
        total = on_demand + self.stats["spot node-minutes"]
        return on_demand / total if total else 0.0


class Simulation:
    """One seeded run: the world, EventBridge, Lambda and the handler."""

    def __init__(
        self,
        seed: int,
        scenario: Scenario,
        handle: Callable[..., Any] | None = None,
    ) -> None:
        self.seed = seed
        self.world = World(seed, scenario)
        self.rng = random.Random(seed * 7919 + 1)
        self.config = RuntimeConfig(cluster=CLUSTER, group=GROUP, settings=scenario.settings)
        self.clients = Clients(
            autoscaling=FakeAutoScaling(self.world),
            ec2=FakeEc2(self.world),
            ecs=FakeEcs(self.world),
        )
        self.handle = handle or spot_handler.handle
        self.pending: list[Delivery] = []
        self.tail = _Tail()
        self.wiring = spot_wiring
        self.queued: tuple[str, ...] | None = getattr(spot_wiring, "QUEUED_ROLES", None)
        self.queue: list[Message] = []
        self.dedup: dict[str, int] = {}
        self.serial = 0
        self.concurrent: list[Delivery] = []
        self.world.during_reconcile = self.during_reconcile

    def emit(self, event: dict[str, Any]) -> None:
        """EventBridge: at least once, sometimes late, duplicated, or lost (``eventbridge-delivery``)."""
        sc, now = self.world.scenario, self.world.minute
        if self.rng.random() < sc.event_lost:
            self.world.stats["events lost"] += 1
            return
        delay = self.rng.randint(1, 4) if self.rng.random() < sc.event_late else 0
        self.pending.append(Delivery(now + delay, event, emitted=now))
        if self.rng.random() < sc.event_duplicate:
            self.pending.append(Delivery(now + delay + self.rng.randint(0, 2), event, emitted=now))

    def invoke(self, event: dict[str, Any]) -> tuple[bool, list[tuple[str, str]], Any]:
        """One invocation of the real handler: (succeeded, changes it made, what it returned)."""
        world = self.world
        outer, world.writes = world.writes, []
        faults = world.stats["faults injected"]
        result: Any = None
        try:
            with simulated_clock(world.now), contextlib.redirect_stdout(self.tail):
                try:
                    result = self.handle(event, self.config, self.clients)
                except Exception as error:
                    world.stats["invocations failed"] += 1
                    self.tail.write(f"[sim] invocation failed: {type(error).__name__}: {error}\n")
                    if world.stats["faults injected"] == faults:
                        world.violation("survives", f"{_kind(event)}: {error!r}")
                    return False, list(world.writes), None
            failures = result.get("batchItemFailures") if isinstance(result, dict) else None
            if failures:
                world.stats["invocations failed"] += 1
                if world.stats["faults injected"] == faults:
                    world.violation("survives", f"{_kind(event)}: {len(failures)} messages failed")
                return False, list(world.writes), result
            world.stats["invocations"] += 1
            return True, list(world.writes), result
        finally:
            world.writes = outer + world.writes

    def deliver(self) -> None:
        """Deliver this minute's events the way the code under test is deployed.

        With ``paaskit.spot.wiring.QUEUED_ROLES``, the rules of those roles send to an
        SQS FIFO queue the function consumes, the others invoke it directly; without,
        every rule invokes it directly (and reserved concurrency 1 serialises).
        """
        now = self.world.minute
        due = [d for d in self.pending if d.at <= now]
        self.pending = [d for d in self.pending if d.at > now]
        self.rng.shuffle(due)
        if self.queued is None:
            for delivery in due:
                self._invoke_async(delivery)
            return
        direct = []
        for delivery in due:
            if _role(delivery.event) in self.queued:
                self._send(delivery.event)
            else:
                direct.append(delivery)
        # Direct invocations run beside the queue's: some before, some in the middle of a
        # reconcile (between its reads and its changes), some after.
        self.rng.shuffle(direct)
        split = self.rng.randint(0, len(direct))
        for delivery in direct[:split]:
            self._invoke_async(delivery)
        self.concurrent = direct[split:]
        self._poll()
        leftover, self.concurrent = self.concurrent, []
        for delivery in leftover:
            self._invoke_async(delivery)

    def _invoke_async(self, delivery: Delivery) -> None:
        """Lambda, invoked asynchronously by EventBridge (``lambda-async``).

        A failed invocation is retried twice, a minute then two later; then, or
        once the event is older than 15 minutes, it goes to the dead-letter queue.
        """
        now = self.world.minute
        if now - delivery.emitted > 15:
            self.world.stats["events to the dead-letter queue"] += 1
            return
        ok, writes, _ = self.invoke(delivery.event)
        if not ok:
            if delivery.attempt < 3:
                self.pending.append(
                    Delivery(
                        now + delivery.attempt,
                        delivery.event,
                        delivery.attempt + 1,
                        delivery.emitted,
                    )
                )
            else:
                self.world.stats["events to the dead-letter queue"] += 1
            return
        self._replay(delivery.event, writes)

    def during_reconcile(self) -> None:
        """Called by the fake DescribeScalingActivities: run the direct invocations due now."""
        pending, self.concurrent = self.concurrent, []
        for delivery in pending:
            self._invoke_async(delivery)

    def _send(self, event: dict[str, Any]) -> None:
        """SendMessage to the FIFO queue, deduplicated on the body for 5 minutes (``sqs-dedup``)."""
        now = self.world.minute
        body = json.dumps(event, sort_keys=True)
        digest = str(hash(body))
        if now - self.dedup.get(digest, -100) < 5:
            self.world.stats["duplicates dropped by the queue"] += 1
            return
        self.dedup[digest] = now
        self.serial += 1
        self.queue.append(Message(f"m-{self.serial}", body, digest, now, now))

    def _poll(self) -> None:
        """The event source mapping: one batch of the group at a time, in order (``lambda-sqs-fifo``).

        While a failed batch's messages wait out the visibility timeout, the group
        is held; a message received ``QUEUE_MAX_RECEIVES`` times goes to the
        queue's dead-letter queue (``sqs-fifo``).
        """
        now = self.world.minute
        visibility = math.ceil(self.wiring.QUEUE_VISIBILITY_TIMEOUT_SECONDS / 60)
        while self.queue and all(m.visible_at <= now for m in self.queue):
            batch = self.queue[: self.wiring.BATCH_SIZE]
            for m in batch:
                m.receives += 1
            event = {
                "Records": [
                    {
                        "messageId": m.id,
                        "receiptHandle": f"rh-{m.id}-{m.receives}",
                        "body": m.body,
                        "attributes": {
                            "ApproximateReceiveCount": str(m.receives),
                            "MessageGroupId": GROUP,
                            "MessageDeduplicationId": m.dedup,
                        },
                        "messageAttributes": {},
                        "md5OfBody": "",
                        "eventSource": "aws:sqs",
                        "eventSourceARN": f"arn:aws:sqs:{REGION}:{ACCOUNT}:rack-spot-events.fifo",
                        "awsRegion": REGION,
                    }
                    for m in batch
                ]
            }
            ok, writes, result = self.invoke(event)
            failed = (
                {f["itemIdentifier"] for f in (result or {}).get("batchItemFailures", [])}
                if result is not None
                else {m.id for m in batch}
            )
            for m in batch:
                self.queue.remove(m)
                if m.id not in failed:
                    continue
                if m.receives >= self.wiring.QUEUE_MAX_RECEIVES:
                    self.world.stats["messages to the queue's dead-letter queue"] += 1
                    continue
                m.visible_at = now + visibility
                self.queue.insert(0, m)
            if ok:
                self._replay(event, writes)

    def _replay(self, event: dict[str, Any], first: list[tuple[str, str]]) -> None:
        """The ``duplicate`` check: the same event again at once repeats none of the first's changes.

        (It may take the next step: a decision makes one change at a time, so a
        reconcile right after one that restored the distribution may start a
        replacement; it must not raise the capacity again, terminate or drain the
        same node again, or set the same purchase option again.)
        """
        if self.rng.random() >= self.world.scenario.duplicate_replay:
            return
        faults = [self.clients.autoscaling, self.clients.ec2, self.clients.ecs]
        for client in faults:
            client.faults = False
        concurrent, self.concurrent = self.concurrent, []
        try:
            ok, writes, _ = self.invoke(event)
        finally:
            self.concurrent = concurrent
            for client in faults:
                client.faults = True
        repeated = sorted(set(writes) & set(first))
        if ok and repeated:
            self.world.violation("duplicate", f"{_kind(event)} again: {repeated}")

    def run(self) -> RunResult:
        world = self.world
        minutes = int(world.scenario.hours * 60)
        for _ in range(minutes):
            world.step()
            for event in world.outbox:
                self.emit(event)
            world.outbox = []
            self.emit(scheduled_event(world.now))
            self.deliver()
        return RunResult(
            self.seed,
            world.scenario,
            list(world.violations),
            world.stats,
            list(self.tail.lines),
            minutes,
            list(world.back_to_spot),
        )


def purchase_interval_minutes(settings: Settings) -> int:
    """The stated interval: the handler changes the purchase option at most once per this."""
    grace = getattr(settings, "fallback_grace", None)
    return int(grace.total_seconds() // 60) if grace is not None else 1


def simulate(seed: int, scenario: Scenario, handle: Callable[..., Any] | None = None) -> RunResult:
    """One seeded run of ``scenario`` with the real handler (or ``handle`` in its place)."""
    return Simulation(seed, scenario, handle).run()
