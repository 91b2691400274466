"""Day-2 operations on a deployed rack: apps, ps, logs, run, exec, releases, rollback, status, env.

Runs on the user's machine with boto3 and AWS's standard settings, and knows
resources only by their `paaskit:*` tags (`discovery`); it never imports
components, Pulumi or pydantic. One module per concern: `aws` (session),
`errors`, `discovery`, one module per verb returning plain data (its `--json`
output, a public contract documented in docs/operations.md), `render` (text)
and `commands` (the CLI verbs). Nothing is imported here, so that
`paaskit.cli` can register the verbs without boto3 installed.
"""

__all__: list[str] = []
