"""Release records in SSM, against moto on 127.0.0.1: written as a deploy writes them, read back."""

from __future__ import annotations

from datetime import UTC, datetime

import boto3
import pytest

from paaskit.release import records
from paaskit.release.records import (
    MAX_BYTES,
    RecordError,
    RecordTooLarge,
    Release,
    ReleaseCommand,
    ServiceRelease,
)

DIGEST = "sha256:" + "ab" * 32
IMAGE = f"123456789012.dkr.ecr.us-east-1.amazonaws.com/dev-shop-images@{DIGEST}"
WHEN = datetime(2026, 5, 1, 12, 0, tzinfo=UTC)


def _release(**services: ServiceRelease) -> Release:
    return Release(services=services or {"web": ServiceRelease("dev-shop-web:1", IMAGE)}, time=WHEN)


def test_each_write_is_a_new_numbered_release_read_back_newest_first(aws):
    ssm = boto3.client("ssm")
    first = records.write(ssm, rack="dev", app="shop", release=_release())
    second = records.write(
        ssm,
        rack="dev",
        app="shop",
        release=_release(
            web=ServiceRelease(
                "dev-shop-web:2",
                IMAGE,
                ReleaseCommand(("python", "manage.py", "migrate"), 0, "0f1e2d3c"),
            )
        ),
    )
    assert (first, second) == (1, 2)
    past = records.history(ssm, rack="dev", app="shop")
    assert [r.number for r in past] == [2, 1]
    assert past[0].services["web"].task_definition == "dev-shop-web:2"
    assert past[0].services["web"].release == ReleaseCommand(
        ("python", "manage.py", "migrate"), 0, "0f1e2d3c"
    )
    assert past[0].time == WHEN
    assert past[1].services["web"].image_digest == DIGEST
    assert records.read(ssm, rack="dev", app="shop", number=1).services == past[1].services


def test_the_parameter_is_a_tagged_string_beside_but_apart_from_the_settings(aws):
    ssm = boto3.client("ssm")
    records.write(ssm, rack="dev", app="shop", release=_release())
    name = "/paaskit/dev/shop/release-record"
    assert records.parameter_name("dev", "shop") == name
    (parameter,) = ssm.describe_parameters()["Parameters"]
    assert (parameter["Name"], parameter["Type"]) == (name, "String")
    tags = ssm.list_tags_for_resource(ResourceType="Parameter", ResourceId=name)["TagList"]
    assert {t["Key"]: t["Value"] for t in tags} == {"paaskit:rack": "dev", "paaskit:app": "shop"}
    # A setting's name is a variable name: it can never have a dash.
    assert not records.PARAMETER_SUFFIX.isidentifier()


def test_history_pages_through_more_than_one_page_of_versions(aws):
    ssm = boto3.client("ssm")
    for revision in range(1, 53):
        records.write(
            ssm,
            rack="dev",
            app="shop",
            release=_release(web=ServiceRelease(f"dev-shop-web:{revision}", IMAGE)),
        )
    past = records.history(ssm, rack="dev", app="shop")
    assert [r.number for r in past] == list(range(52, 0, -1))
    assert past[0].services["web"].task_definition == "dev-shop-web:52"


def test_no_records_is_an_empty_history_and_a_missing_release_names_it(aws):
    ssm = boto3.client("ssm")
    assert records.history(ssm, rack="dev", app="shop") == []
    records.write(ssm, rack="dev", app="shop", release=_release())
    with pytest.raises(RecordError, match="app shop has no release v7"):
        records.read(ssm, rack="dev", app="shop", number=7)


def test_a_version_written_by_hand_is_skipped(aws):
    ssm = boto3.client("ssm")
    records.write(ssm, rack="dev", app="shop", release=_release())
    ssm.put_parameter(
        Name="/paaskit/dev/shop/release-record", Value="oops", Type="String", Overwrite=True
    )
    assert [r.number for r in records.history(ssm, rack="dev", app="shop")] == [1]


def test_a_rollback_record_says_what_it_restored():
    text = records.encode(
        Release(
            services={"web": ServiceRelease("f:3", IMAGE)},
            time=WHEN,
            kind="rollback",
            rollback_of=3,
        )
    )
    decoded = records.decode(text, number=5)
    assert (decoded.kind, decoded.rollback_of, decoded.number) == ("rollback", 3, 5)


def test_task_definition_arns_are_kept_short():
    arn = "arn:aws:ecs:us-east-1:123456789012:task-definition/dev-shop-web:12"
    assert records.short_task_definition(arn) == "dev-shop-web:12"
    assert records.short_task_definition("dev-shop-web:12") == "dev-shop-web:12"


def test_the_size_limit_and_what_fits_under_it():
    """Standard tier (4 KB) holds 12 services that all have a release command; advanced (8 KB) 24."""

    def app(count: int) -> Release:
        return Release(
            services={
                f"service-{i:02d}": ServiceRelease(
                    f"production-storefront-service-{i:02d}:123",
                    IMAGE,
                    ReleaseCommand(
                        ("python", "manage.py", "migrate"), 0, "0123456789abcdef0123456789abcdef"
                    ),
                )
                for i in range(count)
            },
            time=WHEN,
        )

    assert len(records.encode(app(12)).encode()) <= 4096
    assert len(records.encode(app(24)).encode()) <= MAX_BYTES
    with pytest.raises(RecordTooLarge, match="of 60 services is"):
        records.encode(app(60))


def test_a_value_that_is_not_a_record_is_refused():
    with pytest.raises(RecordError, match="not a release record"):
        records.decode('{"services": {"web": {}}}')
