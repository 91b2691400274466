"""The rack's claims registry: which app owns an app name, a host, a listener-rule priority.

Runs in AWS Lambda, shipped without the rest of paaskit: standard library and
boto3 only. Apps in separate stacks cannot see each other's plans, yet share a
rack: one host each, one listener-rule priority each (AWS refuses a duplicate
priority at deploy time, and hashed priorities can collide across stacks).
Each app invokes this function while it deploys (`aws.lambda_.Invocation`
with `lifecycle_scope="CRUD"`, so destroying the app releases its claims);
the claims are SSM parameters created without overwrite, which makes the
first claimant win and the second fail with a message naming both apps.

- `claims.py`: the claims themselves (`Registry`, `ClaimError`);
- `handler.py`: the Lambda entry point and the event it takes.
"""

from __future__ import annotations

__all__: list[str] = []
