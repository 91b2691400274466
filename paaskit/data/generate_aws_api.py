"""Generate ``paaskit/data/aws_api.json`` from botocore's service models and partition data.

Run ``python -m paaskit.data.generate_aws_api`` after upgrading botocore; ``--check``
exits 1 when the shipped file differs from what the installed botocore would produce.

Settings are checked while a program runs (``pulumi up``, ``paaskit plan``), where
botocore is not installed: paaskit depends on Pulumi, not on the AWS SDK, and
botocore is only a development dependency. So what AWS's own API models state
about values users give is extracted here, once, into a small table that ships
with paaskit (read by ``paaskit.aws_api``); a test regenerates it with the
installed botocore and compares, so the table never drifts from the models and
is never edited by hand.

What is kept, and from where:

- ``regions``: every region of every partition (``botocore/data/partitions.json``),
  without the ``*-global`` pseudo-regions.
- ``tags``: the rules a rack's tags must meet on every resource they land on. Each
  tagging API paaskit's resources go through states a key's and a value's lengths
  and characters, and how many tags one resource may carry; the table keeps the
  strictest of them (the longest minimum, the shortest maximum), and the
  character class they all share (CloudFront's, ELB's, ECS's, IAM's, CloudWatch
  Logs' patterns are one class: letters, spaces, digits and ``_ . : / = + - @``).
- ``members``: the lengths, ranges and patterns botocore states for the request members
  whose values come straight from a manifest (``MEMBERS``), by ``service:Operation.Member``,
  such as the health check's path (ELB's ``HealthCheckPath``, 1-1024 characters).
"""

from __future__ import annotations

import argparse
import importlib.metadata
import json
import re
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

__all__ = [
    "MEMBERS",
    "OUTPUT",
    "TAG_COUNT_SHAPES",
    "TAG_SHAPES",
    "botocore_version",
    "build",
    "generate",
    "main",
    "render",
]

OUTPUT = Path(__file__).with_name("aws_api.json")
"""Where the table lives, beside this file."""

TAG_SHAPES: tuple[tuple[str, str, str], ...] = (
    ("cloudfront", "TagKey", "TagValue"),
    ("elbv2", "TagKey", "TagValue"),
    ("ecs", "TagKey", "TagValue"),
    ("iam", "tagKeyType", "tagValueType"),
    ("logs", "TagKey", "TagValue"),
)
"""(service, key shape, value shape) of the tagging APIs whose rules a rack's tags must meet."""

TAG_COUNT_SHAPES: tuple[tuple[str, str], ...] = (
    ("ecs", "Tags"),
    ("iam", "tagListType"),
    ("logs", "Tags"),
    ("resourcegroupstaggingapi", "TagMap"),
)
"""(service, shape) of the lists and maps of tags whose `max` is the tags one resource may carry."""


MEMBERS: tuple[tuple[str, str, str], ...] = (
    ("elbv2", "CreateTargetGroup", "HealthCheckPath"),
    ("elbv2", "CreateTargetGroup", "HealthCheckIntervalSeconds"),
    ("elbv2", "CreateTargetGroup", "HealthCheckTimeoutSeconds"),
)
"""(service, operation, input member) whose rules a manifest value must meet: the health
check's path, interval and timeout (`services.<name>.health`)."""

_RULES = ("min", "max", "pattern", "enum")


def botocore_version() -> str:
    return importlib.metadata.version("botocore")


def _loader() -> Any:
    import botocore.session  # a dev dependency: the table is generated, never built at run time

    return botocore.session.get_session()


def _regions(session: Any) -> dict[str, list[str]]:
    data = session.get_component("data_loader").load_data("partitions")
    return {
        partition["id"]: sorted(r for r in partition["regions"] if not r.endswith("-global"))
        for partition in data["partitions"]
    }


def _character_class(pattern: str) -> str:
    """The bracketed class of a tag pattern, without anchors, groups and repetition."""
    found = re.fullmatch(r"\^?\(?(\[[^\]]+\])[*+]\)?\$?", pattern)
    if found is None:
        raise ValueError(f"unexpected tag pattern {pattern!r}: update the generator")
    return found.group(1)


def _tags(session: Any) -> dict[str, Any]:
    keys: list[dict[str, Any]] = []
    values: list[dict[str, Any]] = []
    sources: list[str] = []
    for service, key_shape, value_shape in TAG_SHAPES:
        model = session.get_service_model(service)
        keys.append(model.shape_for(key_shape).metadata)
        values.append(model.shape_for(value_shape).metadata)
        sources.append(f"{service}:{key_shape},{value_shape}")
    classes = {_character_class(m["pattern"]) for m in [*keys, *values]}
    if len(classes) != 1:
        raise ValueError(f"the tagging APIs disagree on characters: {sorted(classes)}")
    counts = []
    for service, shape in TAG_COUNT_SHAPES:
        counts.append(int(session.get_service_model(service).shape_for(shape).metadata["max"]))
        sources.append(f"{service}:{shape}")
    return {
        "key_min": max(int(m.get("min", 0)) for m in keys),
        "key_max": min(int(m["max"]) for m in keys),
        "value_min": max(int(m.get("min", 0)) for m in values),
        "value_max": min(int(m["max"]) for m in values),
        "characters": classes.pop(),
        "per_resource": min(counts),
        "shapes": sources,
    }


def _members(session: Any) -> dict[str, dict[str, Any]]:
    out: dict[str, dict[str, Any]] = {}
    for service, operation, member in MEMBERS:
        shape = session.get_service_model(service).operation_model(operation).input_shape
        found = shape.members[member]
        rules = {k: found.metadata[k] for k in _RULES if k in found.metadata}
        if not rules:
            raise ValueError(f"{service}:{operation}.{member} states no rule: update MEMBERS")
        out[f"{service}:{operation}.{member}"] = {"shape": found.name, **rules}
    return out


def build(session: Any, version: str) -> dict[str, Any]:
    """The table as a JSON-ready mapping (pure for a given botocore)."""
    return {
        "source": "botocore's service models (data/<service>/*/service-2.json) and partitions.json",
        "botocore_version": version,
        "generator": "python -m paaskit.data.generate_aws_api",
        "regions": _regions(session),
        "tags": _tags(session),
        "members": _members(session),
    }


def render(table: Mapping[str, Any]) -> str:
    """Stable text: indented JSON in the order `build` gives, so a regeneration diffs cleanly."""
    return json.dumps(table, indent=1, ensure_ascii=True) + "\n"


def generate() -> str:
    """The table text for the installed botocore."""
    return render(build(_loader(), botocore_version()))


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument(
        "--check",
        action="store_true",
        help="do not write; exit 1 if the shipped table differs from a regeneration",
    )
    parser.add_argument("--output", type=Path, default=OUTPUT, help="where to write")
    args = parser.parse_args(argv)
    text = generate()
    if args.check:
        current = args.output.read_text(encoding="utf-8") if args.output.exists() else ""
        if current != text:
            print(f"{args.output} is out of date; run python -m paaskit.data.generate_aws_api")
            return 1
        print(f"{args.output} is up to date (botocore {botocore_version()})")
        return 0
    args.output.write_text(text, encoding="utf-8")
    print(f"wrote {args.output} from botocore {botocore_version()}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
