"""Human-readable text for each verb's data (the `--json` output is the data itself)."""

from __future__ import annotations

import shlex
from collections.abc import Sequence
from typing import Any

__all__ = [
    "render_apps",
    "render_env",
    "render_log_line",
    "render_ps",
    "render_releases",
    "render_rollback",
    "render_status",
    "table",
]

_DIGEST_SHOWN = 19  # "sha256:" and 12 hex digits, as `docker images` shows an id


def table(headers: Sequence[str] | None, rows: Sequence[Sequence[Any]]) -> str:
    """Left-aligned columns, two spaces apart, under `headers` (if any); None shows as '-'."""
    cells = [[("-" if v is None else str(v)) for v in row] for row in rows]
    if headers is not None:
        cells.insert(0, list(headers))
    widths = [max(len(row[i]) for row in cells) for i in range(len(cells[0]))] if cells else []
    return "\n".join(
        "  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)).rstrip() for row in cells
    )


def _digest(digest: str | None) -> str | None:
    return digest[:_DIGEST_SHOWN] if digest else None


def _release(number: int | None) -> str | None:
    return f"v{number}" if number is not None else None


def render_apps(data: dict[str, Any]) -> str:
    if not data["apps"]:
        return f"No apps on {', '.join(data['racks'])} ({data['region']})."
    rows = []
    for app in data["apps"]:
        release = app["release"]
        live = _release(release["live"])
        label: str | None = live
        if release["latest"] is not None and release["latest"] != release["live"]:
            label = f"{live or 'none'} live, v{release['latest']} latest"
        for i, service in enumerate(app["services"]):
            rows.append(
                [
                    app["name"] if i == 0 else "",
                    app["rack"] if i == 0 else "",
                    label if i == 0 else "",
                    service["name"],
                    f"{service['running']}/{service['desired']}",
                    service["taskDefinition"],
                    service["rollout"],
                ]
            )
    return table(
        ["APP", "RACK", "RELEASE", "SERVICE", "RUNNING", "TASK DEFINITION", "ROLLOUT"], rows
    )


def render_ps(data: dict[str, Any]) -> str:
    if not data["tasks"]:
        return f"No running tasks for app {data['app']}."
    rows = [
        [
            t["service"],
            t["id"],
            t["kind"],
            t["status"],
            t["health"],
            t["startedAt"],
            _release(t["release"]),
            t["taskDefinition"],
            _digest(t["imageDigest"]),
            f"{t['node']} ({t['zone']})" if t["node"] and t["zone"] else t["node"],
        ]
        for t in data["tasks"]
    ]
    return table(
        [
            "SERVICE",
            "TASK",
            "KIND",
            "STATUS",
            "HEALTH",
            "STARTED",
            "RELEASE",
            "TASK DEFINITION",
            "IMAGE",
            "NODE",
        ],
        rows,
    )


def render_log_line(event: dict[str, Any]) -> str:
    """`<time> <service>/<task id, 8 characters>: <message>`, as Heroku prefixes `app[web.1]:`."""
    source = (
        f"{event['service']}/{event['task'][:8]}"
        if event["service"] and event["task"]
        else event["stream"]
    )
    return f"{event['time']} {source}: {event['message']}"


def _release_command(release: dict[str, Any] | None) -> str:
    if not release:
        return ""
    code = release["exitCode"]
    result = f"exited {code}" if code is not None else "did not run"
    return f"release `{shlex.join(release['command'])}` {result}"


def render_releases(data: dict[str, Any]) -> str:
    if not data["releases"]:
        return (
            f"No releases recorded for app {data['app']} yet (each deploy records one). "
            f"Running: {', '.join(f'{k} {v}' for k, v in data['running'].items())}."
        )
    out = []
    for release in data["releases"]:
        kind = release["kind"]
        if release["rollbackOf"] is not None:
            kind = f"rollback to v{release['rollbackOf']}"
        live = "  <- live" if release["live"] else ""
        out.append(f"v{release['id']}  {release['time']}  {kind}{live}")
        rows = [
            [
                "   ",
                name,
                entry["taskDefinition"],
                _digest(entry["imageDigest"]) or entry["image"],
                _release_command(entry["release"]),
            ]
            for name, entry in release["services"].items()
        ]
        out.append(table(None, rows))
    if data["live"] is None:
        running = ", ".join(f"{k} {v}" for k, v in data["running"].items())
        out.append(f"No recorded release is live: the services run {running}.")
    return "\n".join(out)


def render_rollback(data: dict[str, Any]) -> str:
    out = [
        f"App {data['app']} rolled back to v{data['to']}: release v{data['release']} "
        f"(a rollback of v{data['to']}) is what its services now run."
    ]
    for name, move in sorted(data["services"].items()):
        note = (
            " (registered again: its revision had been deregistered)"
            if move["reregistered"]
            else ""
        )
        out.append(f"  {name}: {move['from']} -> {move['to']}{note}")
    for name in data["skipped"]:
        out.append(f"  {name}: no longer exists, skipped")
    pin = data["pin"]
    if pin["stackFile"]:
        out.append(
            f"Pinned {pin['key']}={pin['value']} in {pin['stackFile']}: `pulumi up` keeps this release."
        )
    else:
        out.append(
            "So that the next `pulumi up` keeps it, pin it in the app stack's directory:\n"
            f"  {pin['command']}"
        )
    out.append(
        f"To deploy the manifest's version again later: `pulumi config rm {pin['key']}`, then `pulumi up`."
    )
    if data["states"]:
        out.append("Services: " + ", ".join(f"{k} {v}" for k, v in sorted(data["states"].items())))
    else:
        out.append(
            f"ECS is replacing the tasks now: `paaskit status {data['app']}` shows how it goes."
        )
    return "\n".join(out)


def render_status(data: dict[str, Any]) -> str:
    verdict = "healthy" if data["healthy"] else "needs attention"
    out = [f"App {data['app']} on rack {data['rack']}: {verdict}"]
    for service in data["services"]:
        out.append("")
        out.append(
            f"{service['name']}: {service['state']}, {service['running']}/{service['desired']} running, "
            f"{service['taskDefinition']}"
        )
        if service["rolledBack"]:
            event = service["rolledBack"]
            out.append(f"  rolled back: {event['time']} {event['message']}")
        if service["deployments"]:
            out.append("  deployments:")
            for d in service["deployments"]:
                reason = f"  {d['rolloutStateReason']}" if d["rolloutStateReason"] else ""
                failed = f"  failed tasks: {d['failedTasks']}" if d["failedTasks"] else ""
                out.append(
                    f"    {d['status']}  {d['taskDefinition']}  {d['rolloutState'] or '-'}  "
                    f"{d['running']}/{d['desired']} running{failed}{reason}"
                )
        if service["stoppedTasks"]:
            out.append("  stopped tasks:")
            for t in service["stoppedTasks"]:
                exits = ", ".join(
                    f"{c['name']} exit {c['exitCode'] if c['exitCode'] is not None else '-'}"
                    + (f" ({c['reason']})" if c["reason"] else "")
                    for c in t["containers"]
                )
                out.append(
                    f"    {t['id']}  {t['taskDefinition']}  {t['stoppedAt'] or '-'}  "
                    f"{t['stopCode'] or '-'}: {t['stoppedReason'] or '-'}; {exits}"
                )
        if service["unhealthyTargets"]:
            out.append("  unhealthy targets:")
            for target in service["unhealthyTargets"]:
                out.append(
                    f"    {target['target']}:{target['port']}  {target['state']}  "
                    f"{target['reason'] or '-'}  {target['description'] or ''}".rstrip()
                )
        if service["events"]:
            out.append("  events:")
            for event in service["events"]:
                out.append(f"    {event['time']}  {event['message']}")
    return "\n".join(out)


def _source(variable: dict[str, Any]) -> str:
    if variable["source"] == "task-definition":
        return "task definition"
    if variable["source"] == "ssm-parameter":
        return f"SSM {variable['from']}"
    key = f" key {variable['key']}" if variable["key"] else ""
    return f"Secrets Manager {variable['from']}{key}"


def render_env(data: dict[str, Any]) -> str:
    rows = []
    for variable in data["variables"]:
        hidden = variable["secret"] and not data["showSecrets"]
        value = "(secret)" if hidden else variable["value"]
        rows.append(
            [
                variable["name"],
                value,
                _source(variable),
                ", ".join(variable["services"]) or "(unused)",
            ]
        )
    text = table(["NAME", "VALUE", "SOURCE", "SERVICES"], rows)
    if not data["showSecrets"] and any(v["secret"] for v in data["variables"]):
        text += "\nSecret values are hidden: --show-secrets prints them."
    return text
