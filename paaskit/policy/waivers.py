"""Waivers: accepting one rule's finding on one resource, for a reason everyone can read.

A waiver never hides a finding. The finding is still reported, marked waived
with the waiver's reason and where the waiver is written; it just no longer
fails `paaskit policy` (or, in the policy pack, no longer blocks `pulumi up`).

Two ways to write one:

1. `paaskit.waivers.yaml` beside `Pulumi.yaml`, reviewed like code::

       waivers:
         - rule: PK-ELB-001                 # the rule's id
           resource: rack-lb                # logical name or URN; globs allowed (rack-*-lb)
           reason: dev stack, torn down every night
           expires: 2027-03-31              # optional: from this day on it no longer applies

   Every key but `expires` is required; a waiver without a reason, for a rule
   that does not exist, or for a hard AWS limit (which no waiver can make AWS
   accept) is an error that stops the check. A waiver that matches nothing is
   reported, so stale ones get cleaned up.

2. A tag on the resource, for resources that take tags:
   `paaskit:waive:PK-ELB-001 = "dev stack, torn down every night"`. The tag's
   value is the reason; an empty value waives nothing. AWS tag values allow
   letters, digits, spaces and `_ . : / = + - @`, so keep such reasons plain.
"""

from __future__ import annotations

import datetime
import os
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import yaml

from paaskit._suggest import suggestions
from paaskit.errors import PaaskitError
from paaskit.plan import ResourceRecord
from paaskit.plan.values import tag_map
from paaskit.tags import WAIVE_TAG_PREFIX

from .model import Finding, Rule, matches

__all__ = [
    "TAG_PREFIX",
    "WAIVER_FILE",
    "Waiver",
    "WaiverError",
    "WaiverUse",
    "apply_waivers",
    "find_waiver_file",
    "load_waivers",
    "tag_waivers",
]

WAIVER_FILE = "paaskit.waivers.yaml"
TAG_PREFIX = WAIVE_TAG_PREFIX
_KEYS = {"rule", "resource", "reason", "expires"}


class WaiverError(PaaskitError, ValueError):
    """A waiver is wrong; the message names the file, the entry and the key."""


@dataclass(frozen=True)
class Waiver:
    rule: str
    resource: str
    reason: str
    source: str
    """Where it is written: `paaskit.waivers.yaml:4`."""
    expires: datetime.date | None = None

    def expired(self, today: datetime.date) -> bool:
        return self.expires is not None and today >= self.expires


@dataclass(frozen=True)
class WaiverUse:
    """How a waiver of the file was used in one check."""

    waiver: Waiver
    findings: int
    expired: bool

    def to_json(self) -> dict[str, Any]:
        return {
            "rule": self.waiver.rule,
            "resource": self.waiver.resource,
            "reason": self.waiver.reason,
            "source": self.waiver.source,
            "expires": self.waiver.expires.isoformat() if self.waiver.expires else None,
            "expired": self.expired,
            "findings": self.findings,
        }


def find_waiver_file(directory: str | os.PathLike[str]) -> Path | None:
    """`paaskit.waivers.yaml` in a project directory, if there is one."""
    path = Path(directory) / WAIVER_FILE
    return path if path.is_file() else None


def _entry_lines(text: str) -> list[int]:
    """The line (1-based) of each entry of the `waivers` list, for messages."""
    try:
        root = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.YAMLError:
        return []
    if not isinstance(root, yaml.MappingNode):
        return []
    for key, value in root.value:
        if getattr(key, "value", None) == "waivers" and isinstance(value, yaml.SequenceNode):
            return [item.start_mark.line + 1 for item in value.value]
    return []


def _date(value: Any, where: str) -> datetime.date | None:
    if value is None:
        return None
    if isinstance(value, datetime.date):
        return value
    try:
        return datetime.date.fromisoformat(str(value))
    except ValueError:
        raise WaiverError(f"{where}: expires: {value!r} is not a date (YYYY-MM-DD)") from None


def load_waivers(path: str | os.PathLike[str], rules: Mapping[str, Rule]) -> list[Waiver]:
    """Read and check a waiver file against the rules that exist."""
    file = Path(path)
    try:
        text = file.read_text(encoding="utf-8")
        data = yaml.safe_load(text) or {}
    except OSError as exc:
        raise WaiverError(f"{file}: cannot read it: {exc}") from exc
    except UnicodeDecodeError as exc:
        raise WaiverError(
            f"{file}: not UTF-8 text (byte 0x{exc.object[exc.start]:02x} at offset {exc.start}); "
            "a waiver file is YAML"
        ) from None
    except yaml.YAMLError as exc:
        raise WaiverError(f"{file}: not valid YAML: {exc}") from exc
    except ValueError as exc:
        # PyYAML's own conversions (a number too long for Python, a bad date) raise this.
        raise WaiverError(f"{file}: not valid YAML: {exc}") from None
    if not isinstance(data, dict) or set(data) - {"waivers"}:
        raise WaiverError(
            f"{file}: expected one key, waivers: a list of {{rule, resource, reason}}"
        )
    entries = data.get("waivers") or []
    if not isinstance(entries, list):
        raise WaiverError(f"{file}: waivers: expected a list of {{rule, resource, reason}}")
    lines = _entry_lines(text)
    out = []
    for i, entry in enumerate(entries):
        where = f"{file.name}:{lines[i]}" if i < len(lines) else f"{file.name}: waivers[{i}]"
        if not isinstance(entry, dict):
            raise WaiverError(f"{where}: expected a mapping with rule, resource and reason")
        unknown = sorted(set(map(str, entry)) - _KEYS)
        if unknown:
            raise WaiverError(
                f"{where}: unknown key(s) {', '.join(unknown)}; use {', '.join(sorted(_KEYS))}"
            )
        for key in ("rule", "resource", "reason"):
            value = entry.get(key)
            if not isinstance(value, str) or not value.strip():
                what = "why the finding is acceptable" if key == "reason" else "required"
                raise WaiverError(f"{where}: {key}: missing ({what}); a waiver is never silent")
        rule = rules.get(entry["rule"])
        if rule is None:
            close = suggestions(entry["rule"], rules)
            hint = f" (did you mean {close[0]}?)" if close else ""
            raise WaiverError(f"{where}: rule: no rule {entry['rule']}{hint}")
        if not rule.waivable:
            raise WaiverError(
                f"{where}: rule: {rule.id} is a hard AWS limit; AWS refuses the request whatever the waiver says"
            )
        out.append(
            Waiver(
                rule=rule.id,
                resource=entry["resource"].strip(),
                reason=" ".join(entry["reason"].split()),
                source=where,
                expires=_date(entry.get("expires"), where),
            )
        )
    return out


def tag_waivers(record: ResourceRecord) -> dict[str, str]:
    """`{rule: reason}` from the record's `paaskit:waive:<RULE>` tags (empty reasons dropped)."""
    found = {}
    for key, value in tag_map(record.inputs.get("tags")).items():
        if key.startswith(TAG_PREFIX) and value.strip():
            found[key[len(TAG_PREFIX) :]] = " ".join(value.split())
    return found


def apply_waivers(
    findings: Iterable[Finding],
    records: Mapping[str, ResourceRecord],
    waivers: Iterable[Waiver],
    rules: Mapping[str, Rule],
    *,
    today: datetime.date | None = None,
) -> tuple[list[Finding], list[WaiverUse]]:
    """Mark each finding a waiver covers; report how each file waiver was used."""
    today = today or datetime.date.today()
    waivers = list(waivers)
    used = dict.fromkeys(range(len(waivers)), 0)
    out = []
    for finding in findings:
        rule = rules.get(finding.rule)
        record = records.get(finding.urn)
        if rule is None or not rule.waivable or record is None:
            out.append(finding)
            continue
        reason = tag_waivers(record).get(finding.rule)
        if reason is not None:
            out.append(
                replace(
                    finding, waived=True, reason=reason, waiver=f"tag {TAG_PREFIX}{finding.rule}"
                )
            )
            continue
        applied = None
        for i, waiver in enumerate(waivers):
            if waiver.rule == finding.rule and matches(waiver.resource, record):
                used[i] += 1
                if waiver.expired(today):
                    note = f" (waiver {waiver.source} expired on {waiver.expires})"
                    applied = replace(finding, message=finding.message + note)
                    continue
                applied = replace(finding, waived=True, reason=waiver.reason, waiver=waiver.source)
                break
        out.append(applied or finding)
    uses = [
        WaiverUse(waiver=w, findings=used[i], expired=w.expired(today))
        for i, w in enumerate(waivers)
    ]
    return out, uses
