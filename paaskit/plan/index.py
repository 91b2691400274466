"""`PlanIndex`: a plan's resources indexed by URN and by who refers to whom.

What rules, the cost estimate and the diagram use to look across resources:
a bucket's public access block, a security group's rules, a load balancer's
listeners. Built from records alone, so it reads the offline plan and the
resources Pulumi's engine hands a policy pack alike.
"""

from __future__ import annotations

from collections.abc import Iterable

from . import fakes
from .model import Plan, ResourceRecord

__all__ = ["PlanIndex"]


class PlanIndex:
    """A plan's resources indexed for rules that look across resources.

    Sub-resources are found through `dependencies`: a bucket's public access
    block depends on the bucket's URN because its `bucket` input is the
    bucket's id. Matching by value would not work offline, where ids are fakes.
    """

    def __init__(self, records: Iterable[ResourceRecord]) -> None:
        self.records = list(records)
        self._by_urn = {r.urn: r for r in self.records}
        self._dependents: dict[str, list[ResourceRecord]] = {}
        for record in self.records:
            for dep in record.dependencies:
                self._dependents.setdefault(dep, []).append(record)

    @classmethod
    def of(cls, plan: Plan) -> PlanIndex:
        return cls(plan.resources)

    def get(self, urn: str) -> ResourceRecord | None:
        return self._by_urn.get(urn)

    def of_type(self, *types: str) -> list[ResourceRecord]:
        return [r for r in self.records if r.type in types]

    def dependents(self, record: ResourceRecord, *types: str) -> list[ResourceRecord]:
        """Resources (of these types) whose inputs refer to `record`."""
        return [r for r in self._dependents.get(record.urn, []) if not types or r.type in types]

    def dependencies(self, record: ResourceRecord, *types: str) -> list[ResourceRecord]:
        """Resources (of these types) that `record`'s inputs refer to."""
        found = (self._by_urn.get(u) for u in record.dependencies)
        return [r for r in found if r is not None and (not types or r.type in types)]

    def attached(self, owner: ResourceRecord, type_: str, key: str) -> list[ResourceRecord]:
        """Sub-resources of `type_` that belong to `owner` through their `key` input.

        A bucket's policy (`bucket`), a security group's rules (`securityGroupId`),
        a repository's lifecycle policy (`repository`). See `owns`.
        """
        return [c for c in self.dependents(owner, type_) if self.owns(owner, c, key)]

    def owns(self, owner: ResourceRecord, candidate: ResourceRecord, key: str) -> bool:
        """Whether `candidate`'s `key` input refers to `owner`.

        It must depend on `owner`. If it depends on no other resource of
        `owner`'s type, that settles it; otherwise (a rule that references a
        second security group, a policy naming two buckets) its `key` value must
        be one of `owner`'s identities: its name, id or ARN.
        """
        if owner.urn not in candidate.dependencies:
            return False
        others = [d for d in self.dependencies(candidate, owner.type) if d.urn != owner.urn]
        if not others:
            return True
        value = candidate.inputs.get(key)
        if not isinstance(value, str) or value == "[unknown]":
            return True
        return value in self.identities(owner)

    def identities(self, record: ResourceRecord) -> set[str]:
        """The name, id and ARN a resource is referred to by.

        From its inputs when they hold them (a policy pack sees a resource's
        state), else as the offline plan's fakes answered the program.
        """
        found = {self.physical_name(record)}
        found.update(
            str(record.inputs[k]) for k in ("id", "arn") if isinstance(record.inputs.get(k), str)
        )
        try:
            _, state = fakes.resource_state(
                record.type, record.name, record.urn, dict(record.inputs), fakes.Context()
            )
        except (KeyError, TypeError, ValueError):  # inputs the fakes cannot read: no fake ids
            return found
        found.update(str(state[k]) for k in ("id", "arn") if isinstance(state.get(k), str))
        return found

    def physical_name(self, record: ResourceRecord) -> str:
        """The name AWS will know the resource by: the program's, or the one Pulumi generates."""
        return fakes.physical_name(record.type, record.name, record.urn, record.inputs)
