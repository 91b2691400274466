"""Physical AWS names that AWS accepts: one helper for every service's limits.

Most paaskit resources let Pulumi generate their physical name (the logical
name plus a random suffix), which keeps two stacks in one account apart and
lets a resource be replaced before the old one is deleted. Where a component
must choose a name itself (an RDS identifier, a final snapshot, a name another
system reads), it goes through `aws_name`, which fits the name to the
service's length and character rules and keeps it unique by ending a cut name
with a hash of the whole.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass

__all__ = [
    "RULES",
    "NameRule",
    "aws_name",
]


@dataclass(frozen=True)
class NameRule:
    """What one kind of AWS name allows."""

    max_len: int
    allowed: str = "a-zA-Z0-9-"
    """Characters allowed, as the inside of a regex character class."""
    lowercase: bool = False
    must_start_with_letter: bool = False


RULES: dict[str, NameRule] = {
    "alb": NameRule(32),
    "target_group": NameRule(32),
    "rds_instance": NameRule(63, lowercase=True, must_start_with_letter=True),
    "rds_snapshot": NameRule(255, lowercase=True, must_start_with_letter=True),
    "rds_parameter_group": NameRule(255, lowercase=True, must_start_with_letter=True),
    "s3_bucket": NameRule(63, allowed="a-z0-9.-", lowercase=True),
    "iam_role": NameRule(64, allowed="a-zA-Z0-9+=,.@_-"),
    "iam_policy": NameRule(128, allowed="a-zA-Z0-9+=,.@_-"),
    "lambda": NameRule(64, allowed="a-zA-Z0-9_-"),
    "sqs": NameRule(80, allowed="a-zA-Z0-9_-"),
    "event_rule": NameRule(64, allowed="a-zA-Z0-9._-"),
    "schedule": NameRule(64, allowed="a-zA-Z0-9._-"),
    "ecs_cluster": NameRule(255, allowed="a-zA-Z0-9_-"),
    "ecs_service": NameRule(255, allowed="a-zA-Z0-9_-"),
    "ecs_family": NameRule(255, allowed="a-zA-Z0-9_-"),
    "ecr_repository": NameRule(256, allowed="a-z0-9._/-", lowercase=True),
    "log_group": NameRule(512, allowed="a-zA-Z0-9_./#-"),
    "secret": NameRule(512, allowed="a-zA-Z0-9/_+=.@-"),
}
"""Name rules by kind, from each service's API reference."""


def aws_name(kind: str, *parts: str, separator: str = "-") -> str:
    """`parts` joined and fitted to the rules of `kind` (a key of `RULES`).

    Characters AWS refuses become the separator, runs of separators collapse,
    and a name too long is cut and ends with 7 hex characters of a hash of the
    full name, so two long names that share a beginning stay distinct.
    """
    rule = RULES[kind]
    raw = separator.join(p for p in parts if p)
    name = raw.lower() if rule.lowercase else raw
    name = re.sub(f"[^{rule.allowed}]", separator, name)
    name = re.sub(f"{re.escape(separator)}+", separator, name).strip(separator + ".")
    if rule.must_start_with_letter and not name[:1].isalpha():
        name = "p" + separator + name
    if not name:
        raise ValueError(f"{kind} name: nothing usable in {raw!r}")
    if len(name) > rule.max_len:
        digest = hashlib.sha256(raw.encode()).hexdigest()[:7]
        name = name[: rule.max_len - len(digest) - 1].rstrip(separator + ".") + separator + digest
    return name
