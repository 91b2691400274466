"""Generate ``paaskit/data/aws_operations.json`` from botocore's service models.

Run ``python -m paaskit.data.generate_operations`` after upgrading botocore;
``--check`` exits 1 when the shipped file differs from what the installed
botocore would produce (for CI).

`paaskit permissions` derives the IAM actions a deployer needs from the
resource types in a plan (see ``paaskit.permissions``): for each type, the
changing operations of the AWS service behind it. botocore's service models
are AWS's own list of each service's operations, but botocore is not a
dependency of paaskit's offline verbs, so the slice needed is shipped here:

- only the services ``paaskit.permissions.SERVICES`` maps Pulumi modules to;
- per service, its IAM action prefix (the model's signing name, or its
  endpoint prefix, corrected where IAM differs: CloudWatch signs as
  ``monitoring`` but its actions are ``cloudwatch:``);
- only the operations that change something (their names start with one of
  ``paaskit.permissions.CHANGING_VERBS``): reads are granted per service with
  ``Describe*``, ``Get*`` and ``List*``.

The output is deterministic (sorted, one service a line, the botocore version
it came from), so a regeneration with the same botocore is byte-identical.
"""

from __future__ import annotations

import argparse
import importlib.metadata
import json
import sys
from pathlib import Path
from typing import Any

__all__ = [
    "OUTPUT",
    "PREFIX_OVERRIDES",
    "build",
    "main",
    "render",
]

OUTPUT = Path(__file__).resolve().parent / "aws_operations.json"

PREFIX_OVERRIDES = {"cloudwatch": "cloudwatch"}
"""Services whose IAM action prefix is neither their signing name nor their endpoint prefix."""


def build() -> dict[str, Any]:
    """The table, from the installed botocore."""
    import botocore.session

    from paaskit.permissions import CHANGING_VERBS, SERVICES

    session = botocore.session.get_session()
    services: dict[str, Any] = {}
    for name in sorted(set(SERVICES.values())):
        model = session.get_service_model(name)
        metadata = model.metadata
        prefix = (
            PREFIX_OVERRIDES.get(name) or metadata.get("signingName") or metadata["endpointPrefix"]
        )
        operations = sorted(op for op in model.operation_names if op.startswith(CHANGING_VERBS))
        services[name] = {"prefix": prefix, "operations": operations}
    return {"botocore": importlib.metadata.version("botocore"), "services": services}


def render(data: dict[str, Any]) -> str:
    lines = ["{", f'  "botocore": {json.dumps(data["botocore"])},', '  "services": {']
    names = sorted(data["services"])
    for i, name in enumerate(names):
        comma = "," if i < len(names) - 1 else ""
        lines.append(
            f"    {json.dumps(name)}: {json.dumps(data['services'][name], sort_keys=True)}{comma}"
        )
    lines += ["  }", "}", ""]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="exit 1 if the shipped file is stale")
    args = parser.parse_args(argv)
    text = render(build())
    if args.check:
        if OUTPUT.read_text(encoding="utf-8") != text:
            print(
                f"{OUTPUT} is stale: run python -m paaskit.data.generate_operations",
                file=sys.stderr,
            )
            return 1
        return 0
    OUTPUT.write_text(text, encoding="utf-8")
    print(f"wrote {OUTPUT}")
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
