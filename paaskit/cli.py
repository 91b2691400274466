"""The `paaskit` command.

    paaskit plan DIR    [--stack NAME] [-c KEY=VALUE ...] [--ref STACK=FILE ...] [--json]
    paaskit policy DIR  [plan options] [--waivers FILE] [--json]      (or: paaskit policy --rules)
    paaskit cost DIR    [plan options] [--json]
    paaskit diagram DIR [plan options] [--out PATH] [--format svg|png|mermaid|dot]
    paaskit permissions DIR [plan options] [--out PREFIX] [--json]
    paaskit start [DIR] [SERVICE ...] [--port N] [--env FILE] [--grace SECONDS]

Every verb reads the project in DIR the way `pulumi` would (its Pulumi.yaml,
`main:`, and Pulumi.<stack>.yaml) and runs it offline, in-process: no Pulumi
CLI, no plugins, no AWS credentials. `plan` shows every resource, then the
policy findings, AWS limits and the monthly cost; the other verbs show one of
those in full. `start` runs an app's services on this machine, as `heroku local` does
(paaskit/local.py).

Exit status: 0 when all is well; 1 when the program or its settings are wrong
(the message names the key or file), a waiver is wrong, or, for `policy`, an
error-level finding has no waiver; 2 for a wrong command line.

The operations verbs (apps, ps, logs, run, exec, releases, rollback, status,
env) work on a deployed rack through AWS's APIs: see `paaskit.ops.commands`.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from . import cost, diagram, local, permissions
from .ops import commands as ops_commands
from .plan import (
    Plan,
    PlanError,
    counts,
    load_config,
    load_project,
    parse_ref_file,
    plan_directory,
    render_text,
)
from .policy import ALL_RULES, Finding, Report, WaiverError, evaluate_project, rule_table
from .policy.engine import count

__all__ = [
    "COMMANDS",
    "build_parser",
    "main",
    "render_report",
]

_LABELS = {"error": "ERROR", "warning": "WARNING", "info": "note"}

_LONG_WORD = re.compile(r"[^\s'\"]{301,}")


def _readable(message: object) -> str:
    """An error as a terminal should show it: a value of thousands of characters that the
    message repeats (a 5,000-digit number, a pasted file) by its start and its length."""
    return _LONG_WORD.sub(
        lambda m: f"{m.group()[:60]}...({len(m.group())} characters)", str(message)
    )


def _add_plan_arguments(parser: argparse.ArgumentParser, *, optional_dir: bool = False) -> None:
    parser.add_argument(
        "dir",
        metavar="DIR",
        nargs="?" if optional_dir else None,
        help="a directory holding a Pulumi.yaml",
    )
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
        "(a key without a namespace belongs to the project; KEY.name or KEY[0] sets a "
        "place inside a mapping or list, as with --path); repeatable",
    )
    parser.add_argument(
        "--ref",
        metavar="STACK=FILE",
        action="append",
        default=[],
        help="outputs of a stack the program references (JSON from `pulumi stack output --json` "
        "or `paaskit plan --json`); by default the referenced project is found nearby and planned too",
    )


def _add_waivers_argument(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--waivers",
        metavar="FILE",
        help="the waiver file (default: paaskit.waivers.yaml beside Pulumi.yaml, if there is one)",
    )


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="paaskit",
        description="Plan, check and picture a paaskit rack offline (no AWS account, no Pulumi CLI), "
        "and operate the apps deployed on it.",
    )
    verbs = parser.add_subparsers(dest="verb", metavar="VERB", required=True)

    plan = verbs.add_parser(
        "plan",
        help="run the Pulumi program in DIR offline and show every resource it would create",
        description="Run the Pulumi program in DIR in-process against a recording engine and print "
        "every resource it registers (a tree of components and children and a count by type), then "
        "the policy findings, AWS limits and the monthly cost estimate; or, with --json, the full record.",
    )
    _add_plan_arguments(plan)
    _add_waivers_argument(plan)
    plan.add_argument(
        "--json", action="store_true", help="print the plan as JSON (a stable, documented format)"
    )

    policy = verbs.add_parser(
        "policy",
        help="check the planned stack against paaskit's rules and AWS's limits; exit 1 on an error",
        description="Plan DIR offline and check every resource against paaskit's security and "
        "reliability rules (AWS Foundational Security Best Practices, checkov, Well-Architected) "
        "and AWS's own limits. Exits 1 if any error-level finding has no waiver. Waivers: "
        "paaskit.waivers.yaml beside Pulumi.yaml, or a paaskit:waive:<RULE> tag.",
    )
    _add_plan_arguments(policy, optional_dir=True)
    _add_waivers_argument(policy)
    policy.add_argument("--json", action="store_true", help="print the findings as JSON")
    policy.add_argument(
        "--rules", action="store_true", help="list every rule (id, severity, sources) and exit"
    )

    cost_ = verbs.add_parser(
        "cost",
        help="estimate the planned stack's monthly cost (us-east-1 list prices)",
        description="Plan DIR offline and price what it runs by the hour from the dated price "
        "table that ships with paaskit: nodes (spot at their typical discount, and all on-demand "
        "beside), NAT, IPv4 addresses, load balancer, endpoints, RDS, volumes. Data transfer and "
        "requests are not counted (the output lists what is not).",
    )
    _add_plan_arguments(cost_)
    cost_.add_argument("--json", action="store_true", help="print the estimate as JSON")

    picture = verbs.add_parser(
        "diagram",
        help="draw the planned topology (SVG/PNG with Graphviz, else Mermaid)",
        description="Plan DIR offline and draw viewers, CloudFront, the load balancer, services, "
        "the cluster's nodes per zone, databases and NAT. SVG and PNG need Graphviz's `dot` on "
        "PATH; without it the picture is written as Mermaid text, and the command says so.",
    )
    _add_plan_arguments(picture)
    picture.add_argument(
        "--format",
        choices=diagram.FORMATS,
        default="svg",
        help="svg (default) or png through Graphviz; mermaid or dot as text",
    )
    picture.add_argument(
        "--out",
        metavar="PATH",
        help="where to write it (default: <project>-<stack>.<format> here, or in the temporary "
        "directory when here is an app's folder, which a build copies; - for text on stdout)",
    )

    deployer = verbs.add_parser(
        "permissions",
        help="the IAM policy a deployer needs for the planned stack, from its resource types",
        description="Plan DIR offline and derive the IAM actions `pulumi up` needs from the types "
        "of the resources it registers: reads per AWS service, changes per resource type (from "
        "botocore's models of each service's operations), and a short explicit list for what "
        "cannot be derived. The statements are split into managed policies of at most 6,144 "
        "characters. Exits 1 if a resource type cannot be mapped.",
    )
    _add_plan_arguments(deployer)
    deployer.add_argument(
        "--out",
        metavar="PREFIX",
        help="write the policies to PREFIX-1.json, PREFIX-2.json... (default: print them)",
    )
    deployer.add_argument(
        "--json",
        action="store_true",
        help="print the policies, the actions by type, and what is uncovered",
    )
    ops_commands.add_parsers(verbs)
    start = verbs.add_parser(
        "start",
        help="run an app's services on this machine, as `heroku local` does",
        description="Run the services of the app in DIR (its paaskit.yml or convox.yml, else its "
        "Procfile) with the commands its image would run, the manifest's environment, .env and "
        "PORT; output prefixed by process name. Ctrl-C stops them all. Exit status: the first "
        "failing process's.",
    )
    local.add_arguments(start)
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


def _region(args: argparse.Namespace) -> str:
    project = load_project(args.dir)
    config = load_config(project, args.stack or "dev", args.config)
    return config.values.get("aws:region") or "us-east-1"


def _check(args: argparse.Namespace, plan: Plan) -> Report:
    return evaluate_project(plan, load_project(args.dir).dir, waiver_file=args.waivers)


def _print_json(data: Any) -> None:
    sys.stdout.write(json.dumps(data, indent=2, sort_keys=False) + "\n")


def _finding_line(finding: Finding) -> list[str]:
    label = "waived" if finding.waived else _LABELS[finding.severity]
    lines = [f"  {label:<8} {finding.rule:<15} {finding.resource}: {finding.message}"]
    if finding.waived:
        lines.append(f"  {'':<8} {'':<15} waived by {finding.waiver}: {finding.reason}")
    return lines


def _counts(findings: list[Finding]) -> str:
    n = count(findings)
    return f"{n['error']} error(s), {n['warning']} warning(s), {n['info']} note(s), {n['waived']} waived"


def render_report(report: Report, *, notes: bool = True) -> str:
    """Policy findings, then AWS limits, then the waivers that matched nothing."""
    out: list[str] = []
    sections = (("Policy", report.policy_findings()), ("AWS limits", report.limit_findings()))
    for title, findings in sections:
        shown = [f for f in findings if notes or f.severity != "info" or f.waived]
        out.append(f"{title}: {_counts(findings)}")
        for finding in shown:
            out += _finding_line(finding)
        hidden = len(findings) - len(shown)
        if hidden:
            out.append(f"  ({hidden} note(s) not shown: `paaskit policy DIR` lists them)")
    for use in report.waivers:
        if use.expired:
            out.append(
                f"Waiver {use.waiver.source} ({use.waiver.rule}) expired on {use.waiver.expires}"
            )
        elif use.findings == 0:
            out.append(
                f"Waiver {use.waiver.source} ({use.waiver.rule} on {use.waiver.resource}) matches nothing: remove it"
            )
    verdict = (
        "Passed: no error without a waiver."
        if report.passed
        else f"Failed: {len(report.blocking)} error(s) without a waiver."
    )
    out.append(verdict)
    return "\n".join(out)


def _cmd_plan(args: argparse.Namespace) -> int:
    plan = _make_plan(args)
    report = _check(args, plan)
    estimate = cost.estimate(plan, region=_region(args))
    if args.json:
        data = plan.to_json()
        data["findings"] = report.to_json()
        data["policy"] = report.summary_json()
        data["cost"] = estimate.to_json()
        _print_json(data)
        return 0
    print(render_text(plan))
    print()
    print(render_report(report, notes=False))
    print()
    unpriced = f", {len(estimate.unpriced)} item(s) without a price" if estimate.unpriced else ""
    print(
        f"Cost: about {cost.money(estimate.total)} a month "
        f"({cost.money(estimate.total_on_demand)} with every node on demand{unpriced}); "
        f"data transfer and requests not counted. `paaskit cost DIR` shows every line."
    )
    return 0


def _cmd_policy(args: argparse.Namespace) -> int:
    if args.rules:
        rows = rule_table(ALL_RULES)
        if args.json:
            _print_json(rows)
        else:
            for row in rows:
                print(
                    f"{row['id']:<15} {row['severity']:<8} {row['title']}  [{', '.join(row['sources'])}]"
                )
        return 0
    if args.dir is None:
        print("paaskit policy: error: DIR is required (or --rules)", file=sys.stderr)
        return 2
    plan = _make_plan(args)
    report = _check(args, plan)
    if args.json:
        _print_json(
            {
                "project": plan.project,
                "stack": plan.stack,
                "findings": report.to_json(),
                **report.summary_json(),
            }
        )
    else:
        print(f"Checked {plan.project} ({plan.stack}): {counts(plan)}, {report.rules} rules")
        print(render_report(report))
    return 0 if report.passed else 1


def _cmd_cost(args: argparse.Namespace) -> int:
    plan = _make_plan(args)
    estimate = cost.estimate(plan, region=_region(args))
    if args.json:
        _print_json(estimate.to_json())
    else:
        print(cost.render_text(estimate, title=f"{plan.project} ({plan.stack})"))
    return 0


def _writable(out: str) -> str | None:
    """Why a file cannot be written at `out`, or None: checked before minutes of planning."""
    folder = Path(out).parent
    if not folder.is_dir():
        return f"--out {out}: the folder {folder} does not exist"
    if not os.access(folder, os.W_OK):
        return f"--out {out}: the folder {folder} is not writable"
    if Path(out).is_dir():
        return f"--out {out}: is a folder; give a file name"
    return None


def _cmd_diagram(args: argparse.Namespace) -> int:
    if args.out not in (None, "-"):
        problem = _writable(args.out)
        if problem is not None:
            print(f"paaskit diagram: error: {problem}", file=sys.stderr)
            return 1
    plan = _make_plan(args)
    picture = diagram.build(plan)
    fmt = args.format
    if args.out == "-":
        if fmt not in ("mermaid", "dot"):
            print(
                "paaskit diagram: error: --out - writes text: use --format mermaid or dot",
                file=sys.stderr,
            )
            return 2
        sys.stdout.write(
            diagram.to_mermaid(picture) if fmt == "mermaid" else diagram.to_dot(picture)
        )
        return 0
    extension = {"mermaid": "mmd"}.get(fmt, fmt)
    # By default here, but never inside a folder an image is built from (an app's).
    out = (
        Path(args.out)
        if args.out
        else diagram.default_output(plan, extension, program_dir=load_project(args.dir).main)
    )
    try:
        rendered = diagram.render(picture, out, fmt)
    except OSError as exc:
        print(
            f"paaskit diagram: error: --out {out}: cannot write: {exc.strerror or exc}",
            file=sys.stderr,
        )
        return 1
    if rendered.note:
        print(rendered.note, file=sys.stderr)
    print(f"wrote {rendered.path} ({rendered.format})")
    return 0


def _cmd_permissions(args: argparse.Namespace) -> int:
    plan = _make_plan(args)
    found = permissions.permissions([plan])
    data = found.to_json()
    if args.json:
        _print_json({"project": plan.project, "stack": plan.stack, **data})
    elif args.out:
        for i, document in enumerate(data["policies"], start=1):
            path = Path(f"{args.out}-{i}.json")
            path.write_text(json.dumps(document, indent=2) + "\n")
            print(f"wrote {path} ({data['sizes'][i - 1]} of {data['limit']} characters)")
    elif len(data["policies"]) == 1:
        _print_json(data["policies"][0])
    else:
        # More than IAM's 6,144 characters: several managed policies, as one JSON list.
        _print_json(data["policies"])
        print(
            f"paaskit permissions: {len(data['policies'])} policies (IAM takes at most "
            f"{data['limit']} characters in one); --out PREFIX writes one file each",
            file=sys.stderr,
        )
    for type_ in data["uncovered"]:
        print(
            f"paaskit permissions: error: {type_}: no IAM actions known for this type",
            file=sys.stderr,
        )
    return 1 if data["uncovered"] else 0


def _cmd_start(args: argparse.Namespace) -> int:
    return local.main(args)


COMMANDS = {
    "plan": _cmd_plan,
    "policy": _cmd_policy,
    "cost": _cmd_cost,
    "diagram": _cmd_diagram,
    "permissions": _cmd_permissions,
    "start": _cmd_start,
}


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.verb in ops_commands.COMMANDS:
        try:
            return ops_commands.run_command(args)
        except KeyboardInterrupt:
            return 130
    try:
        return COMMANDS[args.verb](args)
    except (PlanError, WaiverError, diagram.DiagramError) as exc:
        print(f"paaskit {args.verb}: error: {_readable(exc)}", file=sys.stderr)
        if os.environ.get("PAASKIT_TRACEBACK"):
            raise
        return 1
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        # The reader went away (`paaskit policy --rules | head`): stop quietly.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
