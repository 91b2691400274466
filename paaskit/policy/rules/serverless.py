"""Lambda, SQS, CloudWatch Logs and KMS rules."""

from __future__ import annotations

import datetime
from collections.abc import Iterator

from paaskit.plan import PlanIndex, ResourceRecord
from paaskit.plan import types as t
from paaskit.plan.values import dig, flag, known, number
from paaskit.policy.model import RuleSet

__all__ = [
    "ASYNC_PRINCIPALS",
    "RUNTIME_DEPRECATIONS",
    "dead_letters",
    "deprecated_since",
    "invoked_asynchronously",
    "key_rotation",
    "log_retention",
    "queue_encryption",
    "rules",
    "scoped_permission",
    "supported_runtime",
]

rules = RuleSet()

RUNTIME_DEPRECATIONS: dict[str, datetime.date] = {
    runtime: datetime.date.fromisoformat(day)
    for runtime, day in {
        "nodejs": "2016-10-31", "nodejs4.3": "2020-03-06", "nodejs6.10": "2019-08-12",
        "nodejs8.10": "2019-12-31", "nodejs10.x": "2021-07-30", "nodejs12.x": "2023-03-31",
        "nodejs14.x": "2023-12-04", "nodejs16.x": "2024-06-12", "nodejs18.x": "2025-09-01",
        "nodejs20.x": "2026-04-30", "nodejs22.x": "2027-04-30", "nodejs24.x": "2028-04-30",
        "python2.7": "2021-07-15", "python3.6": "2022-07-18", "python3.7": "2023-12-04",
        "python3.8": "2024-10-14", "python3.9": "2025-12-15", "python3.10": "2026-10-31",
        "python3.11": "2027-06-30", "python3.12": "2028-10-31", "python3.13": "2029-06-30",
        "python3.14": "2029-06-30",
        "ruby2.5": "2021-07-30", "ruby2.7": "2023-12-07", "ruby3.2": "2026-03-31",
        "ruby3.3": "2027-03-31", "ruby3.4": "2028-03-31",
        "java8": "2024-01-08", "go1.x": "2024-01-08", "provided": "2024-01-08",
        "dotnetcore1.0": "2019-07-30", "dotnetcore2.0": "2019-05-30", "dotnetcore2.1": "2022-01-05",
        "dotnetcore3.1": "2023-04-03", "dotnet5.0": "2022-05-10", "dotnet6": "2024-12-20",
        "dotnet7": "2024-05-14", "dotnet8": "2026-11-10",
    }.items()
}  # fmt: skip
"""Deprecation dates from AWS's Lambda runtimes page (as of 2026-11). After its date a
runtime gets no security patches and AWS soon refuses to create functions with it.
Runtimes not listed (newer ones, and some Amazon Linux 2 based ones whose dates AWS
keeps moving) are not judged; dates change, so check the page when it matters."""


def deprecated_since(runtime: str, today: datetime.date | None = None) -> datetime.date | None:
    """The day `runtime` was deprecated, if that day has come."""
    day = RUNTIME_DEPRECATIONS.get(runtime)
    if day is not None and day <= (today or datetime.date.today()):
        return day
    return None


@rules.rule(
    "PK-LAMBDA-001",
    "Functions use a supported runtime",
    severity="error",
    sources=["Lambda.2", "CKV_AWS_363"],
    types=[t.LAMBDA_FUNCTION],
)
def supported_runtime(r: ResourceRecord, index: PlanIndex) -> Iterator[str]:
    """A deprecated runtime gets no security patches, and AWS blocks creating (then
    updating) functions that use it a few weeks after the deprecation date."""
    runtime = r.inputs.get("runtime")
    if not isinstance(runtime, str) or not known(runtime):
        return
    since = deprecated_since(runtime)
    if since is not None:
        yield f"runtime {runtime} was deprecated on {since.isoformat()}: no security patches; AWS blocks new functions with it"


def invoked_asynchronously(function: ResourceRecord, index: PlanIndex) -> bool:
    """Whether the plan shows an asynchronous caller: an EventBridge rule or schedule,
    or a permission for a service that invokes asynchronously (EventBridge, SNS, S3...).
    A function the program only calls itself (`aws.lambda_.Invocation`) waits for the answer."""
    if index.dependents(function, t.EVENT_TARGET, t.SCHEDULE):
        return True
    return any(
        p.inputs.get("principal") in ASYNC_PRINCIPALS
        for p in index.dependents(function, t.LAMBDA_PERMISSION)
    )


ASYNC_PRINCIPALS = (
    "events.amazonaws.com",
    "scheduler.amazonaws.com",
    "sns.amazonaws.com",
    "s3.amazonaws.com",
    "logs.amazonaws.com",
    "ses.amazonaws.com",
    "iot.amazonaws.com",
    "cloudwatch.amazonaws.com",
    "codecommit.amazonaws.com",
)
"""Services that invoke Lambda asynchronously (AWS Lambda developer guide)."""


@rules.rule(
    "PK-LAMBDA-002",
    "Failed asynchronous invocations are kept",
    severity="warning",
    sources=["CKV_AWS_116", "REL05-BP01"],
    types=[t.LAMBDA_FUNCTION],
    scope="stack",
)
def dead_letters(r: ResourceRecord, index: PlanIndex) -> Iterator[str]:
    """An event (a spot interruption, a schedule tick) whose invocation fails twice is
    dropped unless it goes to a dead-letter queue or an on-failure destination. Judged
    for functions the plan shows being invoked asynchronously."""
    if not invoked_asynchronously(r, index):
        return
    if dig(r.inputs, "deadLetterConfig", "targetArn"):
        return
    for config in index.dependents(r, t.LAMBDA_INVOKE_CONFIG):
        if dig(config.inputs, "destinationConfig", "onFailure", "destination"):
            return
    yield "invoked asynchronously but no dead-letter queue or on-failure destination: failed events are dropped"


@rules.rule(
    "PK-LAMBDA-003",
    "Invoke permissions name their caller",
    severity="error",
    sources=["CKV_AWS_364", "CKV_AWS_301"],
    types=[t.LAMBDA_PERMISSION],
)
def scoped_permission(r: ResourceRecord, index: PlanIndex) -> Iterator[str]:
    """A permission for `events.amazonaws.com` without `source_arn` lets any rule of any
    account invoke the function (the confused deputy); `*` lets anyone."""
    principal = r.inputs.get("principal")
    if not isinstance(principal, str) or not known(principal):
        return
    if principal == "*":
        if r.inputs.get("functionUrlAuthType") != "AWS_IAM" and not r.inputs.get("principalOrgId"):
            yield 'principal is "*": anyone may invoke the function'
        return
    # S3 notifications may name the bucket's account instead of the bucket.
    scoped = r.inputs.get("sourceArn") or (
        principal == "s3.amazonaws.com" and r.inputs.get("sourceAccount")
    )
    if principal.endswith(".amazonaws.com") and not scoped:
        yield f"{principal} may invoke the function without a sourceArn: any account's {principal.split('.')[0]} could"


@rules.rule(
    "PK-SQS-001",
    "Queues are encrypted at rest",
    severity="warning",
    sources=["SQS.1", "CKV_AWS_27"],
    types=[t.QUEUE],
)
def queue_encryption(r: ResourceRecord, index: PlanIndex) -> Iterator[str]:
    """SQS-managed encryption is free and on by default; a program that turns it off
    without giving a KMS key leaves messages in the clear."""
    if flag(r.inputs.get("sqsManagedSseEnabled")) is False and not r.inputs.get("kmsMasterKeyId"):
        yield "sqsManagedSseEnabled is off and no KMS key is given: messages are stored in the clear"


@rules.rule(
    "PK-LOGS-001",
    "Log groups expire their logs",
    severity="warning",
    sources=["CKV_AWS_66"],
    types=[t.LOG_GROUP],
)
def log_retention(r: ResourceRecord, index: PlanIndex) -> Iterator[str]:
    """Logs kept forever are billed forever ($0.03 per GB-month). Security Hub's
    CloudWatch.16 asks for a year; paaskit's defaults keep 30 days and leave the
    choice to each component's settings."""
    days = number(r.inputs.get("retentionInDays"))
    if not days:
        yield "retentionInDays is not set: logs are kept (and billed) forever"


@rules.rule(
    "PK-KMS-001",
    "Customer-managed keys rotate",
    severity="warning",
    sources=["KMS.4", "CKV_AWS_7"],
    types=[t.KMS_KEY],
)
def key_rotation(r: ResourceRecord, index: PlanIndex) -> Iterator[str]:
    """Yearly rotation is free and invisible to callers; it limits what one leaked key
    version can decrypt."""
    spec = r.inputs.get("customerMasterKeySpec", "SYMMETRIC_DEFAULT")
    usage = r.inputs.get("keyUsage", "ENCRYPT_DECRYPT")
    symmetric = spec == "SYMMETRIC_DEFAULT" and usage == "ENCRYPT_DECRYPT"
    if symmetric and flag(r.inputs.get("enableKeyRotation")) is not True:
        yield "enableKeyRotation is off"
