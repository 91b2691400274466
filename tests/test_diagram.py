"""The picture of a rack: the graph read from the plan, its DOT and Mermaid text, and rendering.

Rendering is tested for real in both worlds. Without Graphviz (PATH emptied) the
picture must come out as Mermaid and say so. With a `dot` on PATH, the command
line and input paaskit gives it are checked through a stand-in `dot` that
records them; and `test_rendering_with_whatever_graphviz_this_machine_has`
renders with the machine's own Graphviz when it has one (real SVG and PNG
bytes), or checks the Mermaid fallback when it has none.
"""

from __future__ import annotations

import re
import stat
import sys
from pathlib import Path

import pytest

from paaskit import diagram
from paaskit.testing import plan
from tests.test_policy_rules import COMPLIANT

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def picture() -> diagram.Diagram:
    return diagram.build(plan(COMPLIANT, stack="dev"))


def labels(d: diagram.Diagram) -> set[tuple[str, str, str]]:
    """Edges by the first line of their end nodes' labels."""
    first = {n.id: n.label.split("\n")[0] + ":" + n.label.split("\n")[-1] for n in d.nodes}
    return {(first[e.source], first[e.target], e.label) for e in d.edges}


def test_what_the_compliant_stack_draws(picture):
    # The database twice: the primary and its Multi-AZ standby; the two caches (Valkey,
    # Memcached). No nodes: the compliant stack's autoscaling group backs no capacity
    # provider of the cluster.
    assert diagram.kinds(picture) == {
        "viewer": 1, "domain": 1, "cdn": 1, "bucket": 1, "lb": 1, "service": 1, "cluster": 1,
        "database": 4,
    }  # fmt: skip
    assert picture.zones == ["us-east-1a", "us-east-1b"]
    assert picture.vpc_label == "VPC 10.0.0.0/16"
    edges = labels(picture)
    # Viewers reach the distribution through its domain.
    assert ("Viewers:(internet)", "www.example.com:www.example.com", "HTTPS") in edges
    assert ("www.example.com:www.example.com", "CloudFront:www.example.com", "") in edges
    assert ("CloudFront:www.example.com", "S3 bucket:assets", "origin (OAC)") in edges
    assert ("CloudFront:www.example.com", "Application Load Balancer:alb", "origin") in edges
    assert ("Application Load Balancer:alb", "ECS service:2 task(s)", "web.example.com") in edges
    assert ("ECS service:2 task(s)", "ECS cluster:cluster", "runs on") in edges
    # The load balancer's group admits HTTPS from anywhere: viewers reach it directly too.
    assert ("Viewers:(internet)", "Application Load Balancer:alb", "443/80") in edges


def test_the_database_sits_in_its_zone_with_a_standby_in_the_next(picture):
    db = picture.node(
        next(n.id for n in picture.nodes if n.kind == "database" and "standby" not in n.label)
    )
    standby = next(n for n in picture.nodes if n.label.startswith("standby"))
    assert (db.place, db.zone, standby.zone) == ("private", "us-east-1a", "us-east-1b")


def _well_formed(text: str, ids: list[str], *, arrow: str) -> None:
    declared = set(ids)
    for source, target in re.findall(rf"(n\d+) {arrow}.*?(n\d+)", text):
        assert source in declared
        assert target in declared


def test_dot_text_is_balanced_and_every_edge_joins_declared_nodes(picture):
    text = diagram.to_dot(picture)
    assert text.startswith("digraph rack {")
    assert text.count("{") == text.count("}")
    declared = re.findall(r"^\s*(n\d+) \[label=", text, re.M)
    assert len(declared) == len(picture.nodes) == len(set(declared))
    _well_formed(text, declared, arrow="->")
    assert 'subgraph cluster_vpc { label="VPC 10.0.0.0/16"' in text
    assert text.count("subgraph cluster_zone") >= 2


def test_mermaid_text_nests_zones_in_the_vpc(picture):
    text = diagram.to_mermaid(picture)
    assert text.startswith("flowchart LR\n")
    assert text.count("subgraph") == text.count("\n  end") + text.count("\n    end") + text.count(
        "\n      end"
    )
    assert 'subgraph zone0["us-east-1a"]' in text
    declared = re.findall(r"^\s*(n\d+)[\[(]", text, re.M)
    assert len(declared) == len(picture.nodes)
    _well_formed(text, declared, arrow="-")


def test_without_graphviz_the_picture_is_mermaid_and_says_so(picture, tmp_path, monkeypatch):
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))
    assert diagram.graphviz() is None
    rendered = diagram.render(picture, tmp_path / "rack.svg", "svg")
    assert rendered.path == tmp_path / "rack.mmd"
    assert rendered.format == "mermaid"
    assert "Graphviz (dot) is not installed" in rendered.note
    assert rendered.path.read_text() == diagram.to_mermaid(picture)
    assert not (tmp_path / "rack.svg").exists()


def _fake_dot(directory: Path, *, fail: bool = False) -> Path:
    """A `dot` that records its arguments and input, and writes a file where asked."""
    script = directory / "dot"
    script.write_text(
        f"#!{sys.executable}\n"
        "import sys, pathlib\n"
        "here = pathlib.Path(__file__).parent\n"
        "(here / 'args').write_text(' '.join(sys.argv[1:]))\n"
        "(here / 'stdin').write_text(sys.stdin.read())\n"
        + ("sys.stderr.write('syntax error in line 3'); sys.exit(3)\n" if fail else "")
        + "out = sys.argv[sys.argv.index('-o') + 1]\n"
        "pathlib.Path(out).write_text('drawn')\n"
    )
    script.chmod(script.stat().st_mode | stat.S_IEXEC)
    return script


def test_with_graphviz_dot_gets_the_dot_text_and_the_format(picture, tmp_path, monkeypatch):
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    _fake_dot(bin_dir)
    monkeypatch.setenv("PATH", str(bin_dir))
    out = tmp_path / "rack.png"
    rendered = diagram.render(picture, out, "png")
    assert (rendered.path, rendered.format, rendered.note) == (out, "png", "")
    assert (bin_dir / "args").read_text() == f"-Tpng -o {out}"
    assert (bin_dir / "stdin").read_text() == diagram.to_dot(picture)
    assert out.read_text() == "drawn"


def test_a_graphviz_failure_is_an_error_with_its_message(picture, tmp_path, monkeypatch):
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    _fake_dot(bin_dir, fail=True)
    monkeypatch.setenv("PATH", str(bin_dir))
    with pytest.raises(diagram.DiagramError, match="failed \\(exit 3\\): syntax error in line 3"):
        diagram.render(picture, tmp_path / "rack.svg", "svg")


def test_rendering_with_whatever_graphviz_this_machine_has(picture, tmp_path):
    svg = diagram.render(picture, tmp_path / "rack.svg", "svg")
    png = diagram.render(picture, tmp_path / "rack.png", "png")
    if diagram.graphviz() is not None:
        assert (svg.format, png.format) == ("svg", "png")
        assert "<svg" in svg.path.read_text()
        assert "www.example.com" in svg.path.read_text()
        assert png.path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    else:
        assert (svg.format, png.format) == ("mermaid", "mermaid")
        assert svg.path.read_text().startswith("flowchart LR")


def test_text_formats_need_no_graphviz(picture, tmp_path, monkeypatch):
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))
    assert diagram.render(picture, tmp_path / "rack.dot", "dot").path.read_text() == diagram.to_dot(
        picture
    )
    assert diagram.render(
        picture, tmp_path / "rack.mmd", "mermaid"
    ).path.read_text() == diagram.to_mermaid(picture)


def test_the_reference_rack_draws_its_zones_nodes_and_egress():
    d = diagram.build(plan(ROOT, stack="dev"))
    kinds = diagram.kinds(d)
    assert kinds["nat"] == 1
    assert kinds["nodes"] == 2  # the cluster's group, in each of its two zones
    assert kinds["internet"] == 1
    assert [n.zone for n in d.nodes if n.kind == "nodes"] == ["us-east-1a", "us-east-1b"]


# --- an app's picture, and where pictures go ----------------------------------------------


@pytest.fixture(scope="module")
def apps() -> dict[str, diagram.Diagram]:
    import json

    rack = plan(ROOT, stack="dev")
    pictures = {}
    for name in ("django", "worker", "shop"):
        config = {"manifest": f"examples/{name}/paaskit.yml"}
        if name == "django":
            config["environment"] = json.dumps({"SECRET_KEY": "plan-only"})
        app = plan(
            ROOT / "stacks" / "app",
            stack="dev",
            config=config,
            refs={"organization/paaskit-rack/dev": rack.outputs},
        )
        pictures[name] = diagram.build(app)
    return pictures


def test_an_apps_picture_follows_a_request_from_viewer_to_database(apps):
    # viewers -> its domain -> its distribution -> the rack's load balancer -> the service
    # -> its database; static files from its own bucket.
    edges = labels(apps["django"])
    assert ("Viewers:(internet)", "its own:*.cloudfront.net name", "HTTPS") in edges
    assert ("its own:*.cloudfront.net name", "CloudFront:django-web-cdn", "") in edges
    assert ("CloudFront:django-web-cdn", "S3 bucket:django-static", "origin (OAC)") in edges
    assert (
        "CloudFront:django-web-cdn",
        "internal Application Load Balancer:(on rack rack)",
        "VPC origin (HTTP)",
    ) in edges
    assert (
        "internal Application Load Balancer:(on rack rack)",
        "ECS service:2 task(s)",
        "route django.web",
    ) in edges
    assert ("ECS service:2 task(s)", "RDS postgres:db.t4g.micro", "5432") in edges


def test_a_domain_awaiting_its_certificate_is_drawn_dashed(apps):
    picture = apps["shop"]
    domain = next(n for n in picture.nodes if n.label.startswith("shop.example.com"))
    assert "once its certificate is issued" in domain.label
    assert all(e.dashed for e in picture.edges if domain.id in (e.source, e.target))


def test_a_timer_runs_tasks_of_its_service_and_a_worker_has_no_public_entry(apps):
    picture = apps["worker"]
    edges = labels(picture)
    assert (
        "timer worker-timer-nightly-report:cron(30 2 * * ? *)",
        "ECS service:1 task(s)",
        "runs a task",
    ) in edges
    assert "viewer" not in diagram.kinds(picture)


def test_the_rack_shows_the_vpc_origin_before_its_internal_load_balancer():
    edges = labels(diagram.build(plan(ROOT, stack="dev")))
    assert (
        "CloudFront VPC origin:rack-edge-origin",
        "internal Application Load Balancer:rack-ilb-alb",
        "HTTP, inside AWS",
    ) in edges
    assert (
        "CloudFront:(one per web service)",
        "CloudFront VPC origin:rack-edge-origin",
        "route header + secret",
    ) in edges


def test_a_picture_never_lands_in_the_folder_an_image_is_built_from(tmp_path):
    from paaskit.plan import Plan, ResourceRecord

    app = tmp_path / "shop"
    app.mkdir()
    image = ResourceRecord(
        urn="urn:image", type="docker:index/image:Image", name="shop-web-image", parent=None,
        custom=True, protect=False, retain_on_delete=False, dependencies=(), provider=None,
        inputs={"build": {"context": str(app)}},
    )  # fmt: skip
    p = Plan("paaskit-app", "dev", [image])
    assert diagram.default_output(p, "svg", cwd=tmp_path) == tmp_path / "paaskit-app-dev.svg"
    inside = diagram.default_output(p, "svg", cwd=app / "static")
    assert app not in inside.parents
    assert inside.name == "paaskit-app-dev.svg"
    # A context given relative to the program is resolved from the program's folder.
    relative = Plan("paaskit-app", "dev", [replace_context(image, "../shop")])
    assert (
        app
        not in diagram.default_output(
            relative, "svg", cwd=app, program_dir=tmp_path / "prog"
        ).parents
    )


def replace_context(record, context):
    from dataclasses import replace

    return replace(record, inputs={"build": {"context": context}})
