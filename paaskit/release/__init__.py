"""The app's deploy runner: a Lambda function that runs its releases, writes its link secrets
and checks its deploys.

Runs inside AWS Lambda (standard library and boto3 only, never pulumi). See
`handler` for what it does and why it is a Lambda function; `links` (link
secrets) and `deployments` (the deploy check) for the other actions.
"""

__all__: list[str] = []
