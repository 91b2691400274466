"""`paaskit logs` against moto's CloudWatch Logs: every service's lines, interleaved by time.

moto's FilterLogEvents ignores `logStreamNamePrefix`; paaskit sends it (AWS
filters on it) and keeps only the matching streams itself, so the test of
`--service` holds on both.
"""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime

import pytest

from paaskit.ops import logs
from paaskit.ops.aws import Aws
from paaskit.ops.discovery import find_app
from paaskit.ops.errors import OpsError
from tests.ops_helpers import cli, deploy_app, ops_env, put_logs

__all__ = ["ops_env"]

pytestmark = pytest.mark.usefixtures("ops_env")


def _now_ms() -> int:
    return int(time.time() * 1000)


def _two_services():
    d = deploy_app(services=("web", "worker"))
    now = _now_ms()
    put_logs(d, "web", "aaaa1111bbbb", [(now - 3000, "GET / 200"), (now - 1000, "GET /x 500")])
    put_logs(d, "worker", "cccc2222dddd", [(now - 2000, "job 1 done"), (now - 500, "ERROR job 2")])
    put_logs(d, "web", "old0old0", [(now - 3_600_000, "an hour ago")])
    return d


def test_logs_interleave_services_by_time_each_line_labelled(aws, capsys):
    _two_services()
    ran = cli(capsys, "logs", "shop")
    assert ran.code == 0
    lines = ran.out.splitlines()
    assert [line.split(" ", 1)[1] for line in lines] == [
        "web/aaaa1111: GET / 200",
        "worker/cccc2222: job 1 done",
        "web/aaaa1111: GET /x 500",
        "worker/cccc2222: ERROR job 2",
    ]
    assert lines[0].split(" ", 1)[0].endswith("Z")


def test_since_service_and_filter_narrow_the_lines(aws, capsys):
    _two_services()
    web = cli(capsys, "logs", "shop", "--service", "web", "--since", "2h").out.splitlines()
    assert [line.split(" ", 1)[1] for line in web] == [
        "web/old0old0: an hour ago",
        "web/aaaa1111: GET / 200",
        "web/aaaa1111: GET /x 500",
    ]
    errors = cli(capsys, "logs", "shop", "--filter", "ERROR").out.splitlines()
    assert [line.split(" ", 1)[1] for line in errors] == ["worker/cccc2222: ERROR job 2"]


def test_json_is_one_object_a_line(aws, capsys):
    _two_services()
    lines = [
        json.loads(line)
        for line in cli(capsys, "logs", "shop", "--json", "-s", "worker").out.splitlines()
    ]
    assert [(e["service"], e["task"], e["message"]) for e in lines] == [
        ("worker", "cccc2222dddd", "job 1 done"),
        ("worker", "cccc2222dddd", "ERROR job 2"),
    ]
    assert lines[0]["stream"] == "worker/worker/cccc2222dddd"
    assert isinstance(lines[0]["timestamp"], int)
    assert lines[0]["time"].endswith("Z")


def test_follow_prints_new_lines_once_as_they_arrive(aws):
    d = deploy_app(services=("web",))
    now = _now_ms()
    put_logs(d, "web", "t1", [(now - 1000, "first")])
    aws_ = Aws()
    app = find_app(aws_, "shop")
    polls = []

    def keep_going() -> bool:
        polls.append(1)
        if len(polls) == 1:
            put_logs(d, "web", "t1", [(now - 500, "second")])
            put_logs(d, "web", "t2", [(now - 800, "late but new")])
        return len(polls) < 3

    seen = [
        e["message"]
        for e in logs.follow(
            aws_, app, since=logs.parse_since("5m"), poll_seconds=0, keep_going=keep_going
        )
    ]
    assert seen == ["first", "late but new", "second"]


def test_since_accepts_durations_and_times():
    now = datetime(2026, 5, 1, 12, 0, tzinfo=UTC)
    assert logs.parse_since("10m", now) == datetime(2026, 5, 1, 11, 50, tzinfo=UTC)
    assert logs.parse_since("2h", now) == datetime(2026, 5, 1, 10, 0, tzinfo=UTC)
    assert logs.parse_since("1d", now) == datetime(2026, 4, 30, 12, 0, tzinfo=UTC)
    assert logs.parse_since("2026-04-30T08:00:00Z", now) == datetime(2026, 4, 30, 8, 0, tzinfo=UTC)
    with pytest.raises(OpsError, match=r"--since 'yesterday': expected a duration such as 10m"):
        logs.parse_since("yesterday", now)


def test_an_unknown_service_or_a_bad_since_is_an_error(aws, capsys):
    deploy_app(services=("web",))
    ran = cli(capsys, "logs", "shop", "--service", "wbe")
    assert (ran.code, ran.err) == (
        1,
        "paaskit logs: error: app shop has no service 'wbe' (its services: web)\n",
    )
    ran = cli(capsys, "logs", "shop", "--since", "soon")
    assert ran.code == 1
    assert ran.err.startswith("paaskit logs: error: --since 'soon': expected a duration")


def test_a_missing_log_group_is_named(aws, capsys):
    d = deploy_app(services=("web",))
    from tests.ops_helpers import client

    client("logs").delete_log_group(logGroupName=d.log_group)
    ran = cli(capsys, "logs", "shop")
    assert (ran.code, ran.err) == (1, "paaskit logs: error: no log group /paaskit/dev/shop\n")
