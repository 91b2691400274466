"""`paaskit logs APP`: the app's logs from CloudWatch, interleaved by time.

All of an app's containers write to one log group, `/paaskit/<rack>/<app>`,
in streams `<service>/<service>/<task id>` (the awslogs driver's
`<prefix>/<container>/<task id>`, with prefix and container both the service
name). So one FilterLogEvents call over the group gives every service's lines
in time order, `--service` narrows it with the stream prefix `<service>/`, and
each line is labelled with the service and task read back from its stream.

`--follow` polls every two seconds from a little before the newest line seen
(CloudWatch can make a line visible a few seconds after later ones), skipping
the lines already printed by their event id, as `aws logs tail --follow` does.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

from .aws import Aws
from .discovery import App
from .errors import OpsError
from .fields import iso

__all__ = ["event_json", "fetch", "follow", "parse_since"]

_DURATION = re.compile(r"^(\d+)([smhdw])$")
_UNITS = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days", "w": "weeks"}
_LOOKBACK_MS = 10_000


def parse_since(text: str, now: datetime | None = None) -> datetime:
    """`10m`, `2h`, `1d`, `30s`, `1w` before now, or an ISO 8601 time (UTC unless it says)."""
    now = now or datetime.now(UTC)
    match = _DURATION.match(text.strip())
    if match:
        return now - timedelta(**{_UNITS[match.group(2)]: int(match.group(1))})
    try:
        when = datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    except ValueError:
        raise OpsError(
            f"--since {text!r}: expected a duration such as 10m, 2h, 1d, or a time such as "
            "2026-05-01T12:00:00Z"
        ) from None
    return when if when.tzinfo else when.replace(tzinfo=UTC)


def event_json(event: dict[str, Any]) -> dict[str, Any]:
    """One log line as `paaskit logs --json` prints it."""
    stream = event.get("logStreamName", "")
    parts = stream.split("/")
    return {
        "time": iso(event.get("timestamp")),
        "timestamp": event.get("timestamp"),
        "service": parts[0] if len(parts) >= 3 else None,
        "task": parts[-1] if len(parts) >= 3 else None,
        "stream": stream,
        "message": event.get("message", "").rstrip("\n"),
        "id": event.get("eventId"),
    }


def _request(app: App, service: str | None, pattern: str | None) -> dict[str, Any]:
    if service is not None:
        app.service_arn(service)  # an unknown service is an error, not an empty log
    request: dict[str, Any] = {"logGroupName": app.log_group}
    if service is not None:
        request["logStreamNamePrefix"] = f"{service}/"
    if pattern:
        request["filterPattern"] = pattern
    return request


def _pages(aws: Aws, request: dict[str, Any]) -> Iterator[dict[str, Any]]:
    logs = aws.client("logs")
    prefix = request.get("logStreamNamePrefix")
    token: str | None = None
    while True:
        call = dict(request, **({"nextToken": token} if token else {}))
        try:
            page = logs.filter_log_events(**call)
        except logs.exceptions.ResourceNotFoundException:
            raise OpsError(f"no log group {request['logGroupName']}") from None
        for event in sorted(page.get("events", []), key=lambda e: e.get("timestamp", 0)):
            if prefix is None or event.get("logStreamName", "").startswith(prefix):
                yield event
        token = page.get("nextToken")
        if not token:
            return


def fetch(
    aws: Aws,
    app: App,
    *,
    since: datetime,
    service: str | None = None,
    pattern: str | None = None,
) -> list[dict[str, Any]]:
    """The app's log lines since `since`, oldest first, as `event_json` objects."""
    request = _request(app, service, pattern)
    request["startTime"] = int(since.timestamp() * 1000)
    events = sorted(
        _pages(aws, request), key=lambda e: (e.get("timestamp", 0), e.get("eventId", ""))
    )
    return [event_json(e) for e in events]


def follow(
    aws: Aws,
    app: App,
    *,
    since: datetime,
    service: str | None = None,
    pattern: str | None = None,
    poll_seconds: float = 2.0,
    keep_going: Callable[[], bool] = lambda: True,
) -> Iterator[dict[str, Any]]:
    """The app's log lines since `since`, then each new one as it arrives, until `keep_going()` is false."""
    request = _request(app, service, pattern)
    start = int(since.timestamp() * 1000)
    seen: dict[str, int] = {}
    while True:
        request["startTime"] = start
        fresh = [e for e in _pages(aws, request) if e.get("eventId") not in seen]
        fresh.sort(key=lambda e: (e.get("timestamp", 0), e.get("eventId", "")))
        for event in fresh:
            seen[event.get("eventId", "")] = event.get("timestamp", 0)
            yield event_json(event)
        if seen:
            newest = max(seen.values())
            start = max(start, newest - _LOOKBACK_MS)
            seen = {key: stamp for key, stamp in seen.items() if stamp >= start}
        if not keep_going():
            return
        time.sleep(poll_seconds)
