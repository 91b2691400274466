"""What AWS's API models state about values users give: region and zone names, tag rules, and
the lengths and ranges of request members a manifest fills (`member_rules`).

The rules come from botocore's service models and partition data, through a
table generated from them (`paaskit/data/aws_api.json`, by
`python -m paaskit.data.generate_aws_api`; a test keeps it equal to the installed
botocore). paaskit does not depend on botocore at run time, so settings are
checked against that table wherever a program runs.

A region is known when botocore's partitions list it; one newer than the
table is refused until paaskit's table is regenerated, as the AWS provider
itself refuses regions it does not know.

Standard library only; imports nothing else of paaskit.
"""

from __future__ import annotations

import functools
import importlib.resources
import json
import re
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from ._suggest import suggestions

__all__ = [
    "MemberRules",
    "TagRules",
    "member_rules",
    "region_problem",
    "regions",
    "tag_rules",
    "zone_problem",
]


@functools.cache
def _table() -> Mapping[str, Any]:
    text = importlib.resources.files("paaskit.data").joinpath("aws_api.json").read_text("utf-8")
    data: Mapping[str, Any] = json.loads(text)
    return data


def regions() -> frozenset[str]:
    """Every region of every partition (aws, aws-cn, aws-us-gov...) that botocore knows."""
    return frozenset(r for names in _table()["regions"].values() for r in names)


def region_problem(region: str) -> str | None:
    """Why `region` is not an AWS region, or None when it is one."""
    if region in regions():
        return None
    close = suggestions(region.strip().lower(), regions(), n=2)
    hint = f"did you mean {' or '.join(close)}? " if close else ""
    return (
        f"{region!r} is not an AWS region; {hint}regions are named like us-east-1 or "
        f"eu-west-1 (botocore {_table()['botocore_version']} knows {len(regions())})"
    )


_ZONE_ID = re.compile(r"[a-z]{2,4}\d+-az\d+")


def zone_problem(zone: str, region: str) -> str | None:
    """Why `zone` is not an availability zone of `region`, or None when it may be one.

    A zone's name is its region's and a letter (`us-east-1a`); Local and
    Wavelength Zones add a location after a hyphen (`us-east-1-bos-1a`).
    """
    if zone.startswith(region):
        rest = zone[len(region) :]
        if re.fullmatch(r"[a-z]|-[a-z0-9-]+[a-z0-9]", rest):
            return None
    if _ZONE_ID.fullmatch(zone):
        return f"{zone!r} is a zone ID; give the zone's name (like {region}a)"
    owner = max((r for r in regions() if zone.startswith(r)), key=len, default=None)
    if owner is not None and owner != region:
        return f"{zone!r} is a zone of {owner}, not of the stack's region {region}"
    return f"{zone!r} is not a zone of {region}; its zones are named {region}a, {region}b..."


def _characters(pattern: str) -> tuple[frozenset[str], frozenset[str]]:
    """A Java character class of `\\p{X}` categories and literals, as (categories, literals)."""
    body = pattern.removeprefix("[").removesuffix("]")
    categories = frozenset(re.findall(r"\\p\{(\w)\}", body))
    literals = re.sub(r"\\p\{\w\}", "", body).replace("\\", "")
    return categories, frozenset(literals)


@dataclass(frozen=True)
class TagRules:
    """The strictest rules of the tagging APIs a rack's resources go through."""

    key_min: int
    key_max: int
    value_min: int
    value_max: int
    characters: str
    """The allowed characters as botocore writes them (a Java character class)."""
    per_resource: int
    """Tags one resource may carry, AWS's own `aws:` tags not counted."""

    def _refused(self, text: str) -> list[str]:
        categories, literals = _characters(self.characters)
        return sorted(
            {c for c in text if c not in literals and unicodedata.category(c)[0] not in categories}
        )

    def problems(self, key: str, value: str) -> list[str]:
        """What is wrong with one tag, in words; empty when nothing is."""
        out = []
        if key.lower().startswith("aws:"):
            out.append(f"tag {key!r}: keys starting with 'aws:' are reserved by AWS")
        if not self.key_min <= len(key) <= self.key_max:
            out.append(
                f"tag {key[:40]!r}: keys are {self.key_min} to {self.key_max} characters "
                f"(got {len(key)})"
            )
        if not self.value_min <= len(value) <= self.value_max:
            out.append(
                f"tag {key[:40]!r}: values are at most {self.value_max} characters "
                f"(got {len(value)})"
            )
        refused = self._refused(key) + self._refused(value)
        if refused:
            shown = ", ".join(repr(c) for c in sorted(set(refused)))
            out.append(
                f"tag {key[:40]!r}: {shown} not allowed; tags take letters, digits, spaces "
                "and _ . : / = + - @"
            )
        return out


@functools.cache
def tag_rules() -> TagRules:
    """The tag rules of the table (botocore's, the strictest of the services paaskit tags)."""
    tags = _table()["tags"]
    return TagRules(
        key_min=int(tags["key_min"]),
        key_max=int(tags["key_max"]),
        value_min=int(tags["value_min"]),
        value_max=int(tags["value_max"]),
        characters=str(tags["characters"]),
        per_resource=int(tags["per_resource"]),
    )


@dataclass(frozen=True)
class MemberRules:
    """What botocore states of one request member (`elbv2:CreateTargetGroup.HealthCheckPath`):
    a length for strings, a range for numbers."""

    name: str
    shape: str
    min: int | None
    max: int | None
    pattern: str | None

    def __str__(self) -> str:
        return f"{self.name} in botocore {_table()['botocore_version']}"


def member_rules(name: str) -> MemberRules:
    """The rules of `service:Operation.Member`, from the table (`MEMBERS` of the generator
    lists the members it holds; a KeyError names the ones there are)."""
    members = _table()["members"]
    if name not in members:
        raise KeyError(f"{name!r} is not in paaskit's table (it has: {', '.join(members)})")
    found = members[name]
    return MemberRules(
        name=name,
        shape=str(found["shape"]),
        min=found.get("min"),
        max=found.get("max"),
        pattern=found.get("pattern"),
    )
