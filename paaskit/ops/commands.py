"""The operations verbs of the `paaskit` command: their arguments, and how each runs.

    paaskit apps      [--rack R] [--json]
    paaskit ps        APP [--rack R] [--json]
    paaskit logs      APP [--service S] [--since 10m] [--follow] [--filter P] [--rack R] [--json]
    paaskit run       APP SERVICE [--timeout SECONDS] [--rack R] [--json] -- CMD...
    paaskit exec      APP SERVICE [--task ID] [--rack R] [--json] [-- CMD...]
    paaskit releases  APP [--rack R] [--json]
    paaskit rollback  APP [RELEASE] [--stack-file PATH] [--wait] [--rack R] [--json]
    paaskit status    APP [--rack R] [--json]
    paaskit env       APP [--service S] [--show-secrets] [--rack R] [--json]

`add_parsers` is called by `paaskit.cli` and needs nothing beyond argparse;
boto3 is imported only when an operations verb runs, so the offline verbs
work without it. Results go to stdout (text, or one JSON document with
`--json`; `logs --json` writes one JSON object a line); progress goes to
stderr. Exit status: 0; `run` and `exec` the command's own; 1 for any error,
in one line that names the app, service, release or setting; 130 on Ctrl-C.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

__all__ = ["COMMANDS", "add_parsers", "run_command"]


def _common(parser: argparse.ArgumentParser, *, app: bool = True) -> None:
    if app:
        parser.add_argument("app", metavar="APP", help="the app's name (its paaskit:app tag)")
    parser.add_argument(
        "--rack",
        metavar="NAME",
        help="the rack (its paaskit:rack tag); needed only when the app's name is on several racks",
    )
    parser.add_argument(
        "--json", action="store_true", help="print JSON (a documented, stable format)"
    )


_WITH_COMMAND: dict[str, argparse.ArgumentParser] = {}
"""The verbs that take a command after `--`, and their parsers."""


def add_parsers(verbs: Any) -> None:
    """Add the operations verbs to `paaskit`'s sub-command parsers."""
    apps = verbs.add_parser(
        "apps",
        help="the apps on the region's racks: services, running/desired tasks, releases",
        description="List the apps deployed on the racks of the AWS region (AWS_REGION, AWS_PROFILE), "
        "found by their paaskit:* tags: each service's running and desired tasks, task definition "
        "and rollout, and the app's latest and live releases.",
    )
    _common(apps, app=False)

    ps = verbs.add_parser(
        "ps",
        help="an app's running tasks: id, status, health, release, image digest, node",
        description="List the app's running tasks per service (its service tasks and its one-off "
        "release, run and timer tasks), with status, health, start time, release, image digest "
        "and the node (EC2 instance and zone) each runs on.",
    )
    _common(ps)

    logs = verbs.add_parser(
        "logs",
        help="an app's logs, every service interleaved by time",
        description="Print the app's logs from CloudWatch, oldest first, each line prefixed with "
        "its service and task.",
    )
    _common(logs)
    logs.add_argument("--service", "-s", metavar="S", help="only this service's lines")
    logs.add_argument(
        "--since",
        metavar="WHEN",
        default="10m",
        help="from when: a duration (30s, 10m, 2h, 1d) or an ISO time (default: 10m)",
    )
    logs.add_argument(
        "--follow", "-f", action="store_true", help="keep printing new lines until Ctrl-C"
    )
    logs.add_argument(
        "--filter",
        metavar="PATTERN",
        help="a CloudWatch Logs filter pattern, e.g. ERROR or '\"GET /\"'",
    )

    run = verbs.add_parser(
        "run",
        help="run a one-off command in a new task of a service's current release",
        description="Start a one-off task of SERVICE's current task definition with CMD as its "
        "command (the image's ENTRYPOINT still runs), on the rack's capacity; print its logs; exit "
        "with its exit code. Ctrl-C stops the task.",
    )
    _common(run)
    run.add_argument("service", metavar="SERVICE", help="the service whose release to run")
    run.add_argument(
        "--timeout",
        type=float,
        metavar="SECONDS",
        help="stop the task after this long (default: no limit)",
    )
    run.add_argument(
        "command", nargs=argparse.REMAINDER, metavar="-- CMD", help="the command, after --"
    )
    _WITH_COMMAND["run"] = run

    exec_ = verbs.add_parser(
        "exec",
        help="a shell (or a command) in a running task, through ECS Exec",
        description="Open an interactive session in one of SERVICE's running tasks with ECS Exec "
        "(needs AWS's session-manager-plugin). Default command: /bin/sh.",
    )
    _common(exec_)
    exec_.add_argument("service", metavar="SERVICE", help="the service whose task to enter")
    exec_.add_argument("--task", metavar="ID", help="this task (default: the newest running one)")
    exec_.add_argument(
        "command", nargs=argparse.REMAINDER, metavar="-- CMD", help="the command, after --"
    )
    _WITH_COMMAND["exec"] = exec_

    releases = verbs.add_parser(
        "releases",
        help="an app's deploy history, and which release is live",
        description="List the app's releases, newest first: task definition revisions, image "
        "digests, times, release commands' results, and which release the services run now.",
    )
    _common(releases)

    rollback = verbs.add_parser(
        "rollback",
        help="put an earlier release back now, and pin it for `pulumi up`",
        description="Move the app's services to an earlier release's task definitions (default: the "
        "release before the live one), after checking its images are still in ECR; record the "
        "rollback as a new release; and pin it (paaskit-app:release) so that the next `pulumi up` "
        "keeps it. See docs/operations.md.",
    )
    _common(rollback)
    rollback.add_argument(
        "release", metavar="RELEASE", nargs="?", help="v12 or 12 (default: the previous)"
    )
    rollback.add_argument(
        "--stack-file",
        metavar="PATH",
        type=Path,
        help="the app stack's Pulumi.<stack>.yaml: write the pin there (else the command is printed)",
    )
    rollback.add_argument("--wait", action="store_true", help="wait until the services are stable")

    status = verbs.add_parser(
        "status",
        help="how an app's deploy went: rollouts, circuit breaker, stopped tasks, unhealthy targets",
        description="Show each service's deployments and rollout state, the circuit breaker's "
        "events, recently stopped tasks with their reasons and exit codes, and unhealthy targets.",
    )
    _common(status)

    env = verbs.add_parser(
        "env",
        help="an app's environment variables and where each comes from",
        description="List the variables the app's tasks get, from the task definitions they run: "
        "plain values, SSM parameters and Secrets Manager secrets. Secret values only with "
        "--show-secrets.",
    )
    _common(env)
    env.add_argument("--service", "-s", metavar="S", help="only this service's variables")
    env.add_argument("--show-secrets", action="store_true", help="print secret values too")


# --- running a verb -------------------------------------------------------------------


def _print_json(data: Any) -> None:
    sys.stdout.write(json.dumps(data, indent=2) + "\n")


def _show(args: argparse.Namespace, data: Any, render: Callable[[Any], str]) -> int:
    """Print `data` as JSON with --json, else as `render` writes it."""
    if args.json:
        _print_json(data)
    else:
        print(render(data))
    return 0


def _progress(message: str) -> None:
    print(f"paaskit: {message}", file=sys.stderr, flush=True)


def _split_command(args: argparse.Namespace) -> None:
    """Options given after SERVICE (argparse leaves them in the command) are parsed as options.

    Everything before `--` is options; without `--`, the options this verb knows
    that lead the words are, and the command starts at the first other word.
    """
    parser = _WITH_COMMAND[args.verb]
    words = list(args.command)
    if "--" in words:
        cut = words.index("--")
        options, command = words[:cut], words[cut + 1 :]
    else:
        known = parser._option_string_actions  # argparse's own table of this verb's options
        cut = 0
        while cut < len(words) and words[cut].split("=", 1)[0] in known:
            action = known[words[cut].split("=", 1)[0]]
            takes_value = action.nargs is None and "=" not in words[cut]
            cut += 2 if takes_value else 1
        options, command = words[:cut], words[cut:]
    if options:
        parser.parse_args([*options, args.app, args.service], namespace=args)
    args.command = command


def _cmd_apps(args: argparse.Namespace, aws: Any) -> int:
    from .apps import apps
    from .render import render_apps

    data = apps(aws, args.rack)
    return _show(args, data, render_apps)


def _app(args: argparse.Namespace, aws: Any) -> Any:
    from .discovery import find_app

    return find_app(aws, args.app, args.rack)


def _cmd_ps(args: argparse.Namespace, aws: Any) -> int:
    from .ps import ps
    from .render import render_ps

    data = ps(aws, _app(args, aws))
    return _show(args, data, render_ps)


def _cmd_logs(args: argparse.Namespace, aws: Any) -> int:
    from .logs import fetch, follow, parse_since
    from .render import render_log_line

    since = parse_since(args.since)
    app = _app(args, aws)
    lines: Any
    if args.follow:
        lines = follow(aws, app, since=since, service=args.service, pattern=args.filter)
    else:
        lines = fetch(aws, app, since=since, service=args.service, pattern=args.filter)
    try:
        for event in lines:
            print(json.dumps(event) if args.json else render_log_line(event), flush=args.follow)
    except KeyboardInterrupt:
        if not args.follow:
            raise
    return 0  # Ctrl-C is how --follow ends


def _cmd_run(args: argparse.Namespace, aws: Any) -> int:
    from .run import run

    def log(event: dict[str, Any]) -> None:
        stream = sys.stderr if args.json else sys.stdout
        print(event.get("message", "").rstrip("\n"), file=stream, flush=True)

    data = run(
        aws,
        _app(args, aws),
        args.service,
        args.command,
        on_status=_progress,
        on_log=log,
        timeout=args.timeout,
    )
    if args.json:
        _print_json(data)
    code = data["exitCode"]
    if code is None:
        _progress(
            f"task {data['task']} did not run the command: {data['reason'] or 'no reason given'}"
        )
        return 1
    if code != 0:
        _progress(
            f"task {data['task']} exited {code}" + (f": {data['reason']}" if data["reason"] else "")
        )
    return int(code)


def _cmd_exec(args: argparse.Namespace, aws: Any) -> int:
    from .shell import exec_command

    data = exec_command(aws, _app(args, aws), args.service, args.command, task=args.task)
    if args.json:
        _print_json(data)
    return int(data["exitCode"])


def _cmd_releases(args: argparse.Namespace, aws: Any) -> int:
    from .releases import releases
    from .render import render_releases

    data = releases(aws, _app(args, aws))
    return _show(args, data, render_releases)


def _cmd_rollback(args: argparse.Namespace, aws: Any) -> int:
    from .releases import parse_release
    from .render import render_rollback
    from .rollback import rollback

    wanted = parse_release(args.release) if args.release else None
    data = rollback(
        aws,
        _app(args, aws),
        wanted,
        stack_file=args.stack_file,
        wait=args.wait,
        on_status=_progress,
    )
    return _show(args, data, render_rollback)


def _cmd_status(args: argparse.Namespace, aws: Any) -> int:
    from .render import render_status
    from .status import status

    data = status(aws, _app(args, aws))
    return _show(args, data, render_status)


def _cmd_env(args: argparse.Namespace, aws: Any) -> int:
    from .env import env
    from .render import render_env

    data = env(aws, _app(args, aws), service=args.service, show_secrets=args.show_secrets)
    return _show(args, data, render_env)


COMMANDS: dict[str, Callable[[argparse.Namespace, Any], int]] = {
    "apps": _cmd_apps,
    "ps": _cmd_ps,
    "logs": _cmd_logs,
    "run": _cmd_run,
    "exec": _cmd_exec,
    "releases": _cmd_releases,
    "rollback": _cmd_rollback,
    "status": _cmd_status,
    "env": _cmd_env,
}


def run_command(args: argparse.Namespace) -> int:
    """Run the operations verb `args.verb`; print any error in one line and return 1."""
    verb = args.verb
    try:
        from paaskit.release.records import RecordError

        from .aws import Aws
        from .errors import AWS_ERRORS, OpsError, describe
    except ImportError as exc:  # boto3 is not a dependency of the offline verbs
        print(
            f"paaskit {verb}: error: the operations verbs need boto3 ({exc.name} is missing): "
            "pip install 'paaskit[ops]' (boto3)",
            file=sys.stderr,
        )
        return 1
    subject = f"app {args.app}: " if getattr(args, "app", None) else ""
    if verb in _WITH_COMMAND:
        _split_command(args)
    try:
        return COMMANDS[verb](args, Aws())
    except (OpsError, RecordError, *AWS_ERRORS) as exc:
        message = str(exc) if isinstance(exc, OpsError | RecordError) else subject + describe(exc)
        print(f"paaskit {verb}: error: {message}", file=sys.stderr)
        if os.environ.get("PAASKIT_TRACEBACK"):
            raise
        return 1
