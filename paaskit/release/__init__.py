"""The release runner: a Lambda function that runs an app's release command.

Runs inside AWS Lambda (standard library and boto3 only, never pulumi). See
`handler` for what it does and why it is a Lambda function.
"""

__all__: list[str] = []
