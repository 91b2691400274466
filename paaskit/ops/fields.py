"""Small conversions shared by the verbs: times, ids and names as the JSON output writes them."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from paaskit.release.records import short_task_definition
from paaskit.release.tasks import task_id

__all__ = ["family", "iso", "short_task_definition", "task_id"]


def iso(value: Any) -> str | None:
    """An AWS timestamp (datetime, or epoch milliseconds) as ISO 8601 UTC, `...Z`; None stays None."""
    if value is None:
        return None
    if isinstance(value, int | float):
        value = datetime.fromtimestamp(value / 1000.0, UTC)
    if isinstance(value, datetime):
        when: datetime = value if value.tzinfo else value.replace(tzinfo=UTC)
        return when.astimezone(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")
    return str(value)


def family(task_definition: str) -> str:
    """The family of a task definition ARN or `family:revision`."""
    return short_task_definition(task_definition).rsplit(":", 1)[0]
