"""The price table shipped with paaskit (`paaskit/data/prices-us-east-1.json`), read once.

`paaskit cost` prices a plan with it; a component that must quote a price in a message (the
Database, of RDS Extended Support) reads the same table, so no figure is written twice.
"""

from __future__ import annotations

import importlib.resources
import json
from functools import cache
from typing import Any

__all__ = ["load_prices"]


@cache
def load_prices() -> dict[str, Any]:
    """The shipped price table (`paaskit/data/prices-us-east-1.json`)."""
    text = (importlib.resources.files("paaskit") / "data" / "prices-us-east-1.json").read_text()
    data: dict[str, Any] = json.loads(text)
    return data
