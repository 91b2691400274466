"""The app's deploy runner: a Lambda function that runs its releases, writes its link secrets,
checks its deploys and records its releases.

Runs inside AWS Lambda (standard library and boto3 only, never pulumi). See
`handler` for what it does and why it is a Lambda function; `tasks` (one-off
tasks, shared with `paaskit run`), `links` (link secrets), `deployments` (the
deploy check), `recorder` and `records` (release records, shared with `paaskit
releases` and `paaskit rollback`) for the rest.
"""

__all__: list[str] = []
