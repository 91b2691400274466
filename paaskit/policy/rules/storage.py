"""S3 rules: public access, ACLs, encryption, TLS-only access, versioning where data lives.

An S3 bucket's settings are separate resources (`BucketPublicAccessBlock`,
`BucketPolicy`, `BucketVersioning`...) whose `bucket` input is the bucket's id,
so these rules find them through the plan: each such resource depends on the
bucket it configures. The deprecated inline arguments of `aws.s3.Bucket`
(`acl`, `policy`, `versioning`, ...) are read too.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from paaskit.plan import PlanIndex, ResourceRecord
from paaskit.plan import types as t
from paaskit.plan.values import dig, flag, items, known, principals, statements, strings
from paaskit.policy.model import RuleSet

__all__ = [
    "acls_disabled",
    "bucket_policies",
    "denies_plain_transport",
    "encryption",
    "is_log_bucket",
    "public_access_block",
    "public_acl",
    "rules",
    "tls_only",
    "versioning",
]

rules = RuleSet()

_BLOCK_FLAGS = ("blockPublicAcls", "blockPublicPolicy", "ignorePublicAcls", "restrictPublicBuckets")
_PUBLIC_ACLS = ("public-read", "public-read-write", "authenticated-read")
_EVERYONE = (
    "http://acs.amazonaws.com/groups/global/AllUsers",
    "http://acs.amazonaws.com/groups/global/AuthenticatedUsers",
)
_LOG_SERVICES = (
    "logging.s3.amazonaws.com",
    "delivery.logs.amazonaws.com",
    "logdelivery.elasticloadbalancing.amazonaws.com",
)
_SSE_ALGORITHMS = ("AES256", "aws:kms", "aws:kms:dsse")


def bucket_policies(bucket: ResourceRecord, index: PlanIndex) -> list[Any]:
    """The bucket's policy documents: its `BucketPolicy` resources and the inline `policy`."""
    docs = [p.inputs.get("policy") for p in index.attached(bucket, t.BUCKET_POLICY, "bucket")]
    if bucket.inputs.get("policy"):
        docs.append(bucket.inputs.get("policy"))
    return docs


def is_log_bucket(bucket: ResourceRecord, index: PlanIndex) -> bool:
    """A bucket that load balancers, CloudFront or S3 write logs into."""
    if index.dependents(bucket, *t.LOAD_BALANCERS):
        return True
    name = index.physical_name(bucket)
    for dist in index.dependents(bucket, t.DISTRIBUTION):
        target = dig(dist.inputs, "loggingConfig", "bucket")
        if isinstance(target, str) and target.startswith(name + "."):
            return True
    for doc in bucket_policies(bucket, index):
        for statement in statements(doc):
            if statement.get("Effect") != "Allow":
                continue
            # Regions older than the log-delivery service principal name ELB's own account.
            writes = strings(statement.get("Action")) == ["s3:PutObject"]
            if any(
                p in _LOG_SERVICES or (writes and p.endswith(":root"))
                for p in principals(statement)
            ):
                return True
    return False


@rules.rule(
    "PK-S3-001",
    "Buckets block public access",
    severity="error",
    sources=["S3.8", "CKV2_AWS_6", "CKV_AWS_53", "CKV_AWS_54", "CKV_AWS_55", "CKV_AWS_56"],
    types=list(t.BUCKETS),
    scope="stack",
)
def public_access_block(r: ResourceRecord, index: PlanIndex) -> Iterator[str]:
    """With all four switches of the public access block on, no ACL or policy written
    later can make the bucket public by mistake. CloudFront reads it through an
    origin access control, which the block does not affect."""
    account = index.of_type(t.ACCOUNT_PUBLIC_ACCESS_BLOCK)
    if any(all(flag(a.inputs.get(f)) for f in _BLOCK_FLAGS) for a in account):
        return
    blocks = index.attached(r, t.PUBLIC_ACCESS_BLOCK, "bucket")
    if not blocks:
        yield "no public access block: a policy or ACL written later can make the bucket public"
        return
    off = [f for f in _BLOCK_FLAGS if flag(blocks[0].inputs.get(f)) is not True]
    if off:
        yield f"the public access block leaves {', '.join(off)} off; turn on all four"


@rules.rule(
    "PK-S3-002",
    "No public ACLs",
    severity="error",
    sources=["S3.2", "S3.3", "CKV_AWS_20", "CKV_AWS_57"],
    types=list(t.BUCKETS),
    scope="stack",
)
def public_acl(r: ResourceRecord, index: PlanIndex) -> Iterator[str]:
    """A public-read ACL hands every object to the internet, around CloudFront."""
    acls = [r.inputs] + [a.inputs for a in index.attached(r, t.BUCKET_ACLS[0], "bucket")]
    acls += [a.inputs for a in index.attached(r, t.BUCKET_ACLS[1], "bucket")]
    for acl in acls:
        if acl.get("acl") in _PUBLIC_ACLS:
            yield f"acl {acl.get('acl')} opens the bucket to the internet"
        grants = items(dig(acl, "accessControlPolicy", "grants")) + items(acl.get("grants"))
        for grant in grants:
            uri = dig(grant, "grantee", "uri") or dig(grant, "uri")
            if uri in _EVERYONE:
                yield f"an ACL grant to {uri.rsplit('/', 1)[-1]} opens the bucket to the internet"


@rules.rule(
    "PK-S3-003",
    "ACLs are disabled (bucket owner enforced)",
    severity="warning",
    sources=["S3.12", "CKV2_AWS_65"],
    types=list(t.BUCKETS),
    scope="stack",
)
def acls_disabled(r: ResourceRecord, index: PlanIndex) -> Iterator[str]:
    """With ACLs disabled only policies decide access, and every object belongs to the
    bucket's account. New buckets start that way; a `BucketOwnershipControls` that
    says otherwise turns ACLs back on."""
    for controls in index.attached(r, t.OWNERSHIP_CONTROLS, "bucket"):
        ownership = dig(controls.inputs, "rule", "objectOwnership")
        if known(ownership) and ownership != "BucketOwnerEnforced":
            yield f"objectOwnership is {ownership}: ACLs are enabled; use BucketOwnerEnforced"


@rules.rule(
    "PK-S3-004",
    "Bucket encryption is declared",
    severity="info",
    sources=["S3.4", "CKV_AWS_19"],
    types=list(t.BUCKETS),
    scope="stack",
)
def encryption(r: ResourceRecord, index: PlanIndex) -> Iterator[str]:
    """S3 encrypts every new object with SSE-S3 since January 2023 whatever the bucket
    says; declaring the configuration makes the choice (or a KMS key) visible in review."""
    configs = [
        rule
        for typ in t.BUCKET_ENCRYPTION
        for c in index.attached(r, typ, "bucket")
        for rule in items(c.inputs.get("rules"))
    ] + items(dig(r.inputs, "serverSideEncryptionConfiguration", "rule"))
    if not configs:
        yield "no encryption configuration: objects get S3's default SSE-S3; declare it to show the choice"
    for rule in configs:
        algorithm = dig(rule, "applyServerSideEncryptionByDefault", "sseAlgorithm")
        if known(algorithm) and algorithm not in _SSE_ALGORITHMS:
            yield f"sseAlgorithm {algorithm!r} is not one of {', '.join(_SSE_ALGORITHMS)}"


def denies_plain_transport(statement: Mapping[str, Any]) -> bool:
    """A policy statement that denies requests without TLS (`aws:SecureTransport = false`):
    a bucket's, or a file system's."""
    if statement.get("Effect") != "Deny":
        return False
    condition = statement.get("Condition")
    if not isinstance(condition, Mapping):
        return False
    secure = dig(condition, "Bool", "aws:SecureTransport")
    return str(secure).lower() == "false" or strings(secure) == ["false"]


@rules.rule(
    "PK-S3-005",
    "Buckets refuse plain-HTTP requests",
    severity="warning",
    sources=["S3.5"],
    types=list(t.BUCKETS),
    scope="stack",
)
def tls_only(r: ResourceRecord, index: PlanIndex) -> Iterator[str]:
    """A bucket policy statement that denies `aws:SecureTransport = false` keeps every
    client, including misconfigured SDKs, on TLS."""
    if not any(
        denies_plain_transport(s) for doc in bucket_policies(r, index) for s in statements(doc)
    ):
        yield "no policy statement denies requests without TLS (aws:SecureTransport = false)"


@rules.rule(
    "PK-S3-006",
    "Buckets that hold data keep object versions",
    severity="warning",
    sources=["S3.14", "CKV_AWS_21", "REL09-BP01"],
    types=list(t.BUCKETS),
    scope="stack",
)
def versioning(r: ResourceRecord, index: PlanIndex) -> Iterator[str]:
    """Versioning turns an overwrite or delete into a recoverable one. It applies to
    buckets that hold data, which paaskit protects or retains on delete; log buckets
    are written once and expire by lifecycle, and are left out."""
    if not (r.protect or r.retain_on_delete) or is_log_bucket(r, index):
        return
    if flag(dig(r.inputs, "versioning", "enabled")):
        return
    for typ in t.BUCKET_VERSIONING:
        for v in index.attached(r, typ, "bucket"):
            if dig(v.inputs, "versioningConfiguration", "status") == "Enabled":
                return
    yield "the bucket holds data (protected or retained) but keeps no versions: an overwrite is final"
