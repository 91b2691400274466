"""The human-readable plan: a tree of components and children, and counts by type."""

from __future__ import annotations

import json
from typing import Any

from .engine import ROOT_TYPE
from .model import Plan, ResourceRecord

__all__ = [
    "counts",
    "render_text",
    "tree",
]

_FLAGS = (("protect", "protected"), ("retain_on_delete", "retained on delete"), ("read", "read"))


def _label(record: ResourceRecord) -> str:
    flags = [text for attr, text in _FLAGS if getattr(record, attr)]
    suffix = f"  [{', '.join(flags)}]" if flags else ""
    return f"{record.type}  {record.name}{suffix}"


def tree(plan: Plan) -> list[str]:
    """Each resource under its parent, children in plan order."""
    lines: list[str] = []
    children: dict[str | None, list[ResourceRecord]] = {}
    urns = {r.urn for r in plan.resources}
    for record in plan.resources:
        parent = record.parent if record.parent in urns else None
        children.setdefault(parent, []).append(record)

    def walk(record: ResourceRecord, prefix: str, last: bool, top: bool) -> None:
        branch = "" if top else ("└─ " if last else "├─ ")
        lines.append(f"{prefix}{branch}{_label(record)}")
        kids = children.get(record.urn, [])
        inner = prefix if top else prefix + ("   " if last else "│  ")
        for i, kid in enumerate(kids):
            walk(kid, inner, i == len(kids) - 1, False)

    for top in children.get(None, []):
        walk(top, "", True, True)
    return lines


def _short(value: Any) -> str:
    text = value if isinstance(value, str) else json.dumps(value, sort_keys=True)
    return text if len(text) <= 100 else text[:97] + "..."


def counts(plan: Plan) -> str:
    """What a plan holds, in the words every verb uses: "81 resources in 5 components".

    Resources are what the providers create (custom resources, AWS's); components
    (`paaskit:rack:Rack`, ...) group them and create nothing themselves; the stack
    (`pulumi:pulumi:Stack`) is neither. So `plan` and `policy` count the same thing.
    """
    resources = sum(1 for r in plan.resources if r.custom)
    components = sum(1 for r in plan.resources if not r.custom and r.type != ROOT_TYPE)
    return f"{resources} resources in {components} component{'s' if components != 1 else ''}"


def render_text(plan: Plan) -> str:
    lines = [f"Plan of {plan.project} (stack {plan.stack}): {counts(plan)}", ""]
    lines += tree(plan)
    lines += ["", "Resources by type:"]
    by_type = plan.count_by_type()
    width = max((len(str(n)) for n in by_type.values()), default=1)
    for type_, count in sorted(by_type.items(), key=lambda kv: (-kv[1], kv[0])):
        lines.append(f"  {count:>{width}}  {type_}")
    if plan.outputs:
        lines += ["", "Outputs:"]
        for key in sorted(plan.outputs):
            lines.append(f"  {key}: {_short(plan.outputs[key])}")
    if plan.warnings:
        lines += ["", "Warnings:"]
        lines += [f"  {w['message']}" for w in plan.warnings]
    return "\n".join(lines)
