"""What a plan is: the resources a program registered, and its stack outputs.

`Plan.to_json()` is a public contract (`paaskit plan --json`): reviewers'
tooling and CI read it. Fields may be added; none is ever renamed or dropped.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from paaskit.errors import PaaskitError

__all__ = [
    "Plan",
    "PlanLookupError",
    "ResourceRecord",
]


@dataclass(frozen=True)
class ResourceRecord:
    """One resource as the program registered it.

    `inputs` are the resource's inputs as Pulumi sends them to the engine, with
    wire-format names (`cidrBlock`, not `cidr_block`); secret values are
    replaced by `SECRET_MARKER`.
    """

    urn: str
    type: str
    name: str
    parent: str | None
    custom: bool
    protect: bool
    retain_on_delete: bool
    dependencies: tuple[str, ...]
    provider: str | None
    inputs: dict[str, Any]
    # Additions to the contract (never drop or rename the fields above).
    delete_before_replace: bool = False
    ignore_changes: tuple[str, ...] = ()
    read: bool = False
    """True for a resource the program reads (`Resource.get`, a stack reference) rather than manages."""
    outputs: dict[str, Any] = field(default_factory=dict)
    """What a stack reference read: the other stack's outputs, as the plan was given them
    (secrets masked). Empty for every other resource."""

    def to_json(self) -> dict[str, Any]:
        return {
            "urn": self.urn,
            "type": self.type,
            "name": self.name,
            "parent": self.parent,
            "custom": self.custom,
            "protect": self.protect,
            "retain_on_delete": self.retain_on_delete,
            "dependencies": list(self.dependencies),
            "provider": self.provider,
            "inputs": self.inputs,
            "delete_before_replace": self.delete_before_replace,
            "ignore_changes": list(self.ignore_changes),
            "read": self.read,
            "outputs": self.outputs,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> ResourceRecord:
        return cls(
            urn=data["urn"],
            type=data["type"],
            name=data["name"],
            parent=data.get("parent"),
            custom=bool(data.get("custom")),
            protect=bool(data.get("protect")),
            retain_on_delete=bool(data.get("retain_on_delete")),
            dependencies=tuple(data.get("dependencies", ())),
            provider=data.get("provider"),
            inputs=dict(data.get("inputs", {})),
            delete_before_replace=bool(data.get("delete_before_replace")),
            ignore_changes=tuple(data.get("ignore_changes", ())),
            read=bool(data.get("read")),
            outputs=dict(data.get("outputs", {})),
        )


class PlanLookupError(PaaskitError, LookupError):
    """A test or tool asked a plan for a resource it does not hold."""


@dataclass
class Plan:
    """Every resource a Pulumi program registered, in registration order."""

    project: str
    stack: str
    resources: list[ResourceRecord]
    outputs: dict[str, Any] = field(default_factory=dict)
    warnings: list[dict[str, str]] = field(default_factory=list)
    """What the program warned about (`pulumi.log.warn`), in order: `message`, and the `urn`
    of the resource it concerns (empty for none)."""

    # --- reading ---------------------------------------------------------------

    def __iter__(self) -> Iterator[ResourceRecord]:
        return iter(self.resources)

    def __len__(self) -> int:
        return len(self.resources)

    def get(self, urn: str) -> ResourceRecord:
        for r in self.resources:
            if r.urn == urn:
                return r
        raise PlanLookupError(f"no resource with urn {urn}")

    def of_type(self, type_: str) -> list[ResourceRecord]:
        """All resources of one Pulumi type token, e.g. `aws:ec2/subnet:Subnet`."""
        return [r for r in self.resources if r.type == type_]

    def one(self, type_: str, name: str | None = None) -> ResourceRecord:
        """The single resource of a type (and name, when given); an error if not exactly one."""
        found = [r for r in self.of_type(type_) if name is None or r.name == name]
        if len(found) != 1:
            names = ", ".join(r.name for r in self.of_type(type_)) or "none"
            wanted = f"{type_} named {name}" if name else type_
            raise PlanLookupError(
                f"expected one {wanted}, found {len(found)} (of that type: {names})"
            )
        return found[0]

    def named(self, name: str) -> ResourceRecord:
        """The resource with this logical name (names are unique per type, usually overall)."""
        found = [r for r in self.resources if r.name == name]
        if len(found) != 1:
            raise PlanLookupError(f"expected one resource named {name}, found {len(found)}")
        return found[0]

    def children(self, urn: str) -> list[ResourceRecord]:
        return [r for r in self.resources if r.parent == urn]

    def descendants(self, urn: str) -> list[ResourceRecord]:
        out: list[ResourceRecord] = []
        for child in self.children(urn):
            out.append(child)
            out.extend(self.descendants(child.urn))
        return out

    def ancestors(self, record: ResourceRecord) -> list[ResourceRecord]:
        out: list[ResourceRecord] = []
        parent = record.parent
        while parent:
            rec = self.get(parent)
            out.append(rec)
            parent = rec.parent
        return out

    @property
    def root(self) -> ResourceRecord | None:
        return next((r for r in self.resources if r.type == "pulumi:pulumi:Stack"), None)

    def count_by_type(self) -> Counter[str]:
        return Counter(r.type for r in self.resources if r.type != "pulumi:pulumi:Stack")

    # --- the contract ----------------------------------------------------------

    def to_json(self) -> dict[str, Any]:
        return {
            "project": self.project,
            "stack": self.stack,
            "resources": [r.to_json() for r in self.resources],
            "outputs": self.outputs,
            "warnings": [dict(w) for w in self.warnings],
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Plan:
        return cls(
            project=data["project"],
            stack=data["stack"],
            resources=[ResourceRecord.from_json(r) for r in data.get("resources", [])],
            outputs=dict(data.get("outputs", {})),
            warnings=[dict(w) for w in data.get("warnings", [])],
        )
