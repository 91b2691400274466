"""`paaskit releases` against moto: the deploy history and which release is live."""

from __future__ import annotations

import pytest

from paaskit.ops.errors import OpsError
from paaskit.ops.releases import parse_release
from tests.ops_helpers import cli, client, deploy_app, ops_env, record, redeploy

__all__ = ["ops_env"]

pytestmark = pytest.mark.usefixtures("ops_env")


def test_releases_are_listed_newest_first_with_the_live_one_marked(aws, capsys):
    d = deploy_app(
        services=("web", "worker"), release_command={"web": ["python", "manage.py", "migrate"]}
    )
    redeploy(d, "web", "web-2")
    data = cli(capsys, "releases", "shop", "--json").json()
    assert (data["app"], data["rack"], data["live"]) == ("shop", "dev", 2)
    assert data["running"] == {"web": "dev-shop-web:2", "worker": "dev-shop-worker:1"}
    assert [(r["id"], r["kind"], r["live"]) for r in data["releases"]] == [
        (2, "deploy", True),
        (1, "deploy", False),
    ]
    first = data["releases"][1]
    assert first["services"]["web"] == {
        "taskDefinition": "dev-shop-web:1",
        "image": d.images["web"][0],
        "imageDigest": d.images["web"][0].partition("@")[2],
        "release": {
            "command": ["python", "manage.py", "migrate"],
            "exitCode": 0,
            "task": "0123456789abcdef",
        },
    }
    assert first["time"].endswith("Z")
    text = cli(capsys, "releases", "shop").out
    assert text.splitlines()[0].endswith("deploy  <- live")
    assert text.splitlines()[0].startswith("v2  ")
    assert "release `python manage.py migrate` exited 0" in text


def test_when_the_services_run_no_recorded_release_none_is_live(aws, capsys):
    d = deploy_app(services=("web",))
    # Changed by hand (or by a deploy that recorded nothing): revision 2 is in no record.
    redeploy(d, "web", "web-2", write_record=False)
    data = cli(capsys, "releases", "shop", "--json").json()
    assert data["live"] is None
    assert [r["live"] for r in data["releases"]] == [False]
    assert (
        "No recorded release is live: the services run web dev-shop-web:2."
        in cli(capsys, "releases", "shop").out
    )


def test_an_app_without_records_says_so(aws, capsys):
    d = deploy_app(services=("web",))
    client("ssm").delete_parameter(Name=f"/paaskit/{d.rack}/{d.app}/release-record")
    ran = cli(capsys, "releases", "shop")
    assert ran.code == 0
    assert ran.out.startswith("No releases recorded for app shop yet")
    assert record(d) == 1


def test_a_release_is_written_v12_or_12():
    assert parse_release("v12") == 12
    assert parse_release("12") == 12
    with pytest.raises(
        OpsError, match="release 'latest': expected a release number such as v12 or 12"
    ):
        parse_release("latest")
