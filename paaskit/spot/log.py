"""Structured logs: one JSON object per line on stdout.

Lambda sends stdout to CloudWatch Logs line by line, where Logs Insights can
filter on the fields (``fields message, group | filter level = "error"``).
A plain function rather than ``logging``: the Lambda runtime installs its own
text handler on the root logger, and this keeps the output identical locally,
in tests and in AWS.
"""

from __future__ import annotations

import json
import sys
from datetime import UTC, datetime
from typing import Literal

__all__ = ["Level", "log"]

Level = Literal["debug", "info", "warning", "error"]


def log(level: Level, message: str, **fields: object) -> None:
    """Write ``{"time", "level", "message", **fields}`` as one line."""
    record: dict[str, object] = {
        "time": datetime.now(UTC).isoformat(timespec="milliseconds"),
        "level": level,
        "logger": "paaskit.spot",
        "message": message,
    }
    record.update(fields)
    sys.stdout.write(json.dumps(record, default=str, sort_keys=False) + "\n")
    sys.stdout.flush()
