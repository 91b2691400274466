"""The scaling benchmark runs (its figures are printed, never asserted)."""

from __future__ import annotations

from bench import plan_scaling


def test_the_benchmark_prints_its_table(capsys):
    assert plan_scaling.main(["1", "2", "--repeat", "1"]) == 0
    out = capsys.readouterr().out
    header, first, second = out.splitlines()[:3]
    assert header.split() == ["apps", "resources", "seconds", "res/s", "direct", "s", "ratio"]
    assert first.split()[0] == "1"
    assert second.split()[0] == "2"
    assert int(second.split()[1]) > int(first.split()[1])


def test_the_baseline_registers_the_same_resources_through_pulumi_aws():
    rack, _ = plan_scaling.timed(plan_scaling.rack_with_apps(1), 1)
    direct, _ = plan_scaling.timed(plan_scaling.replay(rack.resources), 1)
    ours = sorted((r.type, r.name) for r in rack if r.custom)
    theirs = sorted((r.type, r.name) for r in direct if r.custom)
    assert ours == theirs


def test_the_benchmark_counts_services_of_one_app_when_asked(capsys):
    assert plan_scaling.main(["1", "3", "--repeat", "1", "--services"]) == 0
    header, first, second = capsys.readouterr().out.splitlines()[:3]
    assert header.split()[0] == "svcs"
    # Each service adds its role, volume grant, ECS Exec grant, access point, name, task,
    # service and deploy check.
    assert int(second.split()[1]) - int(first.split()[1]) == 2 * 8
