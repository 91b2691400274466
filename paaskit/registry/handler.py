"""The claims registry's Lambda entry point: claim on create and update, release on delete.

The App component invokes it through `aws.lambda_.Invocation` with
`lifecycle_scope="CRUD"` and `terraform_key="lifecycle"`, so pulumi-aws adds
what happened to the invocation resource:

    {
      "rack": "rack",
      "app": "shop",
      "owner": "organization/paaskit-app/prod",
      "hosts": {"shop.example.com": "web"},
      "routes": {"web": 43210},
      "maxRules": 100,
      "lifecycle": {"action": "create" | "update" | "delete", "prev_input": {...} | null}
    }

`routes` holds each web service's wanted listener-rule priority (hashed
from its name); the answer holds the granted ones, which the app's rules
use. `maxRules` (the rack's load balancer's quota) refuses a route that would
exceed it, before AWS would. On delete (the app destroyed, or renamed: a new invocation replaces
the old) everything the app held is released. Raising fails the
invocation, and `pulumi up` shows the message: the app and stack that hold
what was asked for. A retried invocation finds its own claims and keeps
them.
"""

from __future__ import annotations

import json
from typing import Any

from .claims import ClaimError, Registry

__all__ = [
    "LIFECYCLE_KEY",
    "handler",
]

LIFECYCLE_KEY = "lifecycle"
"""The key pulumi-aws adds to the event (`terraform_key` of the invocation)."""


def handler(event: dict[str, Any], context: Any = None, *, ssm: Any = None) -> dict[str, Any]:
    """Claim or release, as the invocation's lifecycle says; return what the app holds."""
    for key in ("rack", "app", "owner"):
        if not isinstance(event.get(key), str) or not event[key]:
            raise ClaimError(f"the event has no {key!r}: {json.dumps(event, default=str)[:300]}")
    registry = Registry(event["rack"], ssm=ssm)
    action = (event.get(LIFECYCLE_KEY) or {}).get("action", "create")
    if action == "delete":
        result = registry.release(event["app"], event["owner"])
    else:
        max_rules = event.get("maxRules")
        result = registry.claim(
            event["app"],
            event["owner"],
            {str(h): str(s) for h, s in (event.get("hosts") or {}).items()},
            {str(s): int(p) for s, p in (event.get("routes") or {}).items()},
            max_rules=int(max_rules) if max_rules else None,
        )
    print(json.dumps({"message": f"claims {action}", **result}, default=str))
    return result
