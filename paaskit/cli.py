"""The `paaskit` command.

    paaskit plan DIR [--stack NAME] [-c KEY=VALUE ...] [--ref STACK=FILE ...] [--json]

Every verb reads the project in DIR the way `pulumi` would (its Pulumi.yaml,
`main:`, and Pulumi.<stack>.yaml) and runs it offline, in-process: no Pulumi
CLI, no plugins, no AWS credentials. Exit status: 0 when all is well, 1 when
the program or its settings are wrong (the message names the key or file),
2 for a wrong command line.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Sequence
from typing import Any

from .plan import Plan, PlanError, parse_ref_file, plan_directory, render_text


def _add_plan_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("dir", metavar="DIR", help="a directory holding a Pulumi.yaml")
    parser.add_argument(
        "-s",
        "--stack",
        metavar="NAME",
        help="the stack whose config to use: reads Pulumi.NAME.yaml beside Pulumi.yaml (default: dev)",
    )
    parser.add_argument(
        "-c",
        "--config",
        metavar="KEY=VALUE",
        action="append",
        default=[],
        help="set one config value, as `pulumi config set KEY VALUE` would "
        "(a key without a namespace belongs to the project); repeatable",
    )
    parser.add_argument(
        "--ref",
        metavar="STACK=FILE",
        action="append",
        default=[],
        help="outputs of a stack the program references (JSON from `pulumi stack output --json` "
        "or `paaskit plan --json`); by default the referenced project is found nearby and planned too",
    )


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="paaskit",
        description="Plan, check and picture a paaskit rack offline: no AWS account, no Pulumi CLI.",
    )
    verbs = parser.add_subparsers(dest="verb", metavar="VERB", required=True)

    plan = verbs.add_parser(
        "plan",
        help="run the Pulumi program in DIR offline and show every resource it would create",
        description="Run the Pulumi program in DIR in-process against a recording engine and print "
        "every resource it registers: a tree of components and children and a count by type, "
        "or, with --json, the full record.",
    )
    _add_plan_arguments(plan)
    plan.add_argument(
        "--json", action="store_true", help="print the plan as JSON (a stable, documented format)"
    )
    return parser


def _make_plan(args: argparse.Namespace) -> Plan:
    refs: dict[str, dict[str, Any]] = {}
    for spec in args.ref:
        name, outputs = parse_ref_file(spec)
        refs[name] = outputs
    return plan_directory(
        args.dir,
        stack=args.stack or "dev",
        overrides=args.config,
        refs=refs,
        stack_required=args.stack is not None,
    )


def _print_json(data: dict[str, Any]) -> None:
    sys.stdout.write(json.dumps(data, indent=2, sort_keys=False) + "\n")


def _cmd_plan(args: argparse.Namespace) -> int:
    plan = _make_plan(args)
    if args.json:
        _print_json(plan.to_json())
    else:
        print(render_text(plan))
    return 0


COMMANDS = {"plan": _cmd_plan}


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return COMMANDS[args.verb](args)
    except PlanError as exc:
        print(f"paaskit {args.verb}: error: {exc}", file=sys.stderr)
        if os.environ.get("PAASKIT_TRACEBACK"):
            raise
        return 1
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
