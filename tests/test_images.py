"""Images: the tag names exactly what pulumi-docker builds, so redeploying unchanged code never fails.

The digest is checked against a statement of pulumi-docker's `hashContext`
(provider/provider.go) written out by hand below; the two cases of the issue
(the same code from another checkout; the same code after running it
locally) are planned for real; and moto's ECR shows why the repository must
be MUTABLE: pushing a tag again fails on an IMMUTABLE one. ECR's lifecycle
rules are evaluated as AWS documents them (moto does not run them).
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys
import textwrap
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError

from paaskit.app._app import image_lifecycle_policy
from paaskit.app._images import context_digest, go_file_mode, image_tag
from paaskit.plan import Plan
from tests.test_app import plan_app

# --- the digest ----------------------------------------------------------------------


def _entry(name: str, mode: str, content: bytes) -> bytes:
    """One entry of hashContext's accumulator: name, Go FileMode.String(), sha256, NUL."""
    return name.encode() + mode.encode() + hashlib.sha256(content).digest() + b"\0"


def _write(root: Path, files: dict[str, str], modes: dict[str, int] | None = None) -> Path:
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
        path.chmod((modes or {}).get(name, 0o644))
    return root


def test_the_digest_is_pulumi_dockers_hash_of_the_context(tmp_path):
    dockerfile = "FROM python:3.12-slim\nCOPY . /app\n"
    context = _write(
        tmp_path / "app",
        {"Dockerfile": dockerfile, "a.txt": "a", "a/x.sh": "echo x", "b": "b"},
        {"a/x.sh": 0o755},
    )
    expected = hashlib.sha256(
        # The Dockerfile first, under a fixed name and mode 0; then WalkDir's order:
        # each folder's names in byte order, depth first ("a" and what it holds, then "a.txt").
        _entry("Dockerfile", "----------", dockerfile.encode())
        + _entry("Dockerfile", "-rw-r--r--", dockerfile.encode())
        + _entry("a/x.sh", "-rwxr-xr-x", b"echo x")
        + _entry("a.txt", "-rw-r--r--", b"a")
        + _entry("b", "-rw-r--r--", b"b")
    ).hexdigest()
    assert context_digest(context, context / "Dockerfile") == expected


def test_go_file_modes():
    assert go_file_mode(0o100644) == "-rw-r--r--"
    assert go_file_mode(0o100755) == "-rwxr-xr-x"
    assert go_file_mode(0o104755) == "urwxr-xr-x"  # Go shows setuid as a type letter
    assert go_file_mode(0o120777) == "Lrwxrwxrwx"
    assert go_file_mode(0) == "----------"


@pytest.fixture
def base(tmp_path) -> Path:
    return _write(
        tmp_path / "base",
        {
            "Dockerfile": "FROM scratch\n",
            "app.py": "print(1)\n",
            ".dockerignore": "**/__pycache__\n*.md\n!README.md\nsecrets/\n",
            "README.md": "readme\n",
        },
    )


def _digest(context: Path) -> str:
    return context_digest(context, context / "Dockerfile")


def test_what_dockerignore_excludes_changes_nothing(base):
    before = _digest(base)
    _write(base, {"__pycache__/app.cpython-312.pyc": "x", "lib/__pycache__/m.pyc": "y"})
    _write(base, {"NOTES.md": "n", "secrets/key": "k"})
    assert _digest(base) == before


def test_what_it_keeps_changes_the_digest(base):
    before = _digest(base)
    (base / "README.md").write_text("changed\n")  # an exception (!README.md) is kept
    assert _digest(base) != before


def test_file_modes_and_names_change_the_digest(base):
    before = _digest(base)
    (base / "app.py").chmod(0o755)
    assert _digest(base) != before
    (base / "app.py").chmod(0o644)
    assert _digest(base) == before
    (base / "app.py").rename(base / "main.py")
    assert _digest(base) != before


def test_the_dockerfiles_own_ignore_file_wins_and_its_location_does_not_matter(base, tmp_path):
    outside = _write(tmp_path / "elsewhere", {"Dockerfile": "FROM scratch\n"})
    (outside / "Dockerfile.dockerignore").write_text("*\n!app.py\n")
    only_app = context_digest(base, outside / "Dockerfile")
    (base / "README.md").write_text("not in this build\n")
    assert context_digest(base, outside / "Dockerfile") == only_app
    moved = _write(tmp_path / "moved", {"Dockerfile": "FROM scratch\n"})
    (moved / "Dockerfile.dockerignore").write_text("*\n!app.py\n")
    assert context_digest(base, moved / "Dockerfile") == only_app


def test_the_tag_names_the_service_the_build_args_and_the_platform(base):
    dockerfile = base / "Dockerfile"
    tag = image_tag("web", base, dockerfile, {}, "linux/arm64")
    assert tag.startswith("web.")
    assert len(tag) == len("web.") + 16
    assert image_tag("web", base, dockerfile, {"A": "1"}, "linux/arm64") != tag
    assert image_tag("web", base, dockerfile, {}, "linux/amd64") != tag
    assert image_tag("worker", base, dockerfile, {}, "linux/arm64").startswith("worker.")


# --- the two cases of the issue, planned -----------------------------------------------

MANIFEST = """
services:
  web:
    build: web
    port: 8000
  worker:
    build: worker
    command: python worker.py
"""


def _checkout(root: Path, *, dockerignore: str | None = None) -> Path:
    """A repository: the app (one service with a Dockerfile, one generated) and its stack."""
    app = root / "repo" / "app"
    app.mkdir(parents=True)
    (app / "paaskit.yml").write_text(textwrap.dedent(MANIFEST))
    _write(
        app / "web",
        {
            "Dockerfile": 'FROM python:3.12-slim\nCOPY . /app\nCMD ["python", "/app/web.py"]\n',
            "web.py": "import helpers\n",
            "helpers.py": "X = 1\n",
        },
    )
    if dockerignore is not None:
        (app / "web" / ".dockerignore").write_text(dockerignore)
    _write(app / "worker", {"requirements.txt": "requests\n", "worker.py": "print(1)\n"})
    (root / "repo" / "stack").mkdir()
    return app


def _images(app: Path, monkeypatch) -> dict[str, dict[str, Any]]:
    """Plan the app from its stack's folder, as Pulumi runs a program; the images' inputs."""
    monkeypatch.chdir(app.parent / "stack")
    records: Plan = plan_app(app, environment={})
    return {
        r.name: {"imageName": r.inputs["imageName"], "build": r.inputs["build"]}
        for r in records.of_type("docker:index/image:Image")
    }


def test_another_checkout_of_the_same_code_plans_the_same_images(tmp_path, monkeypatch):
    first = _images(_checkout(tmp_path / "alice"), monkeypatch)
    second = _images(_checkout(tmp_path / "ci" / "builds" / "42"), monkeypatch)
    # pulumi-docker diffs these inputs: identical means no rebuild and no push.
    assert second == first
    assert not any(Path(i["build"]["context"]).is_absolute() for i in first.values())


def _run_locally(web: Path) -> None:
    """Run the service's code as a developer would: Python leaves its bytecode behind."""
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    subprocess.run([sys.executable, "-c", "import web"], cwd=web, env=env, check=True)
    assert (web / "__pycache__").is_dir()


def test_after_running_locally_what_pulumi_docker_rebuilds_gets_a_new_tag(tmp_path, monkeypatch):
    app = _checkout(tmp_path)
    before = _images(app, monkeypatch)
    context = app / "web"
    digest_before = context_digest(context, context / "Dockerfile")
    _run_locally(context)
    after = _images(app, monkeypatch)
    # __pycache__ is in the build context (no .dockerignore): pulumi-docker rebuilds...
    assert context_digest(context, context / "Dockerfile") != digest_before
    # ...and pushes a tag of its own, never one that names other content.
    assert after["shop-web-image"]["imageName"] != before["shop-web-image"]["imageName"]
    assert after["shop-worker-image"] == before["shop-worker-image"]


def test_after_running_locally_an_ignored_cache_changes_nothing(tmp_path, monkeypatch):
    app = _checkout(tmp_path, dockerignore="__pycache__\n")
    before = _images(app, monkeypatch)
    _run_locally(app / "web")
    assert _images(app, monkeypatch) == before


# --- why the repository is MUTABLE, in moto's ECR ---------------------------------------


def _manifest(content: str) -> str:
    """A minimal image manifest; its digest differs with `content`."""
    return json.dumps(
        {
            "schemaVersion": 2,
            "mediaType": "application/vnd.docker.distribution.manifest.v2+json",
            "config": {
                "mediaType": "application/vnd.docker.container.image.v1+json",
                "size": 1,
                "digest": "sha256:" + hashlib.sha256(content.encode()).hexdigest(),
            },
            "layers": [
                {
                    "mediaType": "application/vnd.docker.image.rootfs.diff.tar.gzip",
                    "size": len(content),
                    "digest": "sha256:" + hashlib.sha256(b"layer " + content.encode()).hexdigest(),
                }
            ],
        }
    )


def test_pushing_a_tag_again_fails_on_an_immutable_repository_only(aws):
    ecr = boto3.client("ecr")
    for name, mutability in (("immutable", "IMMUTABLE"), ("mutable", "MUTABLE")):
        ecr.create_repository(repositoryName=name, imageTagMutability=mutability)
        ecr.put_image(repositoryName=name, imageTag="web.0123", imageManifest=_manifest("a"))
    # The same tag, rebuilt elsewhere: the same code, other bytes (timestamps, caches).
    with pytest.raises(ClientError) as refused:
        ecr.put_image(repositoryName="immutable", imageTag="web.0123", imageManifest=_manifest("b"))
    # moto's error code for it; AWS's is ImageTagAlreadyExistsException.
    assert refused.value.response["Error"]["Code"] in (
        "ImageAlreadyExistsException",
        "ImageTagAlreadyExistsException",
    )
    pushed = ecr.put_image(
        repositoryName="mutable", imageTag="web.0123", imageManifest=_manifest("b")
    )["image"]["imageId"]["imageDigest"]
    images = ecr.describe_images(repositoryName="mutable")["imageDetails"]
    assert {i["imageDigest"]: i["imageTags"] for i in images if i.get("imageTags")} == {
        pushed: ["web.0123"]
    }
    # On AWS the first push stays, untagged, for a task definition that runs it by digest,
    # which is why no lifecycle rule expires untagged images; moto deletes it instead.


def test_the_planned_repository_accepts_what_each_plan_pushes(aws, tmp_path, monkeypatch):
    """Replay the issue's case: deploy, run locally, deploy again, into the planned repository."""
    app = _checkout(tmp_path)
    monkeypatch.chdir(app.parent / "stack")
    first = plan_app(app, environment={})
    repository = first.one("aws:ecr/repository:Repository").inputs
    ecr = boto3.client("ecr")
    ecr.create_repository(
        repositoryName="shop", imageTagMutability=repository["imageTagMutability"]
    )

    def push(records: Plan, build: str) -> None:
        tag = records.named("shop-web-image").inputs["imageName"].rsplit(":", 1)[1]
        ecr.put_image(repositoryName="shop", imageTag=tag, imageManifest=_manifest(build))

    push(first, "first build")
    _run_locally(app / "web")
    second = plan_app(app, environment={})
    # pulumi-docker rebuilds (its context digest changed) and pushes the planned tag.
    push(second, "second build")


# --- ECR's lifecycle rules, as AWS documents their evaluation ---------------------------


def _expired(policy: str, images: list[dict[str, Any]]) -> set[str]:
    """Which images a lifecycle policy expires (AWS's "Lifecycle policy evaluation rules"):
    rules in rulePriority order; each selects the images its tagStatus and tagPrefixList
    match that no earlier rule selected; imageCountMoreThan keeps its newest `countNumber`
    by push time and expires the rest."""
    claimed: set[str] = set()
    expired: set[str] = set()
    for rule in sorted(json.loads(policy)["rules"], key=lambda r: r["rulePriority"]):
        selection = rule["selection"]

        def selects(image: dict[str, Any], selection: dict[str, Any] = selection) -> bool:
            status, tags = selection["tagStatus"], image["tags"]
            if status == "untagged":
                return not tags
            if status == "tagged":
                return any(all(t.startswith(p) for p in selection["tagPrefixList"]) for t in tags)
            return True

        chosen = [i for i in images if i["digest"] not in claimed and selects(i)]
        claimed |= {i["digest"] for i in chosen}
        chosen.sort(key=lambda i: i["pushed"], reverse=True)
        if selection["countType"] == "imageCountMoreThan":
            expired |= {i["digest"] for i in chosen[selection["countNumber"] :]}
        else:  # sinceImagePushed, in days
            limit = datetime(2026, 1, 31) - timedelta(days=selection["countNumber"])
            expired |= {i["digest"] for i in chosen if i["pushed"] < limit}
    return expired


def _history() -> list[dict[str, Any]]:
    """A month of deploys: the worker's image built once, the web's 30 times, and one web
    tag pushed again (its former image untagged, still run by a task definition)."""
    start = datetime(2026, 1, 1)
    images = [{"digest": "worker-1", "tags": ["worker.aaaa"], "pushed": start}]
    images += [
        {"digest": f"web-{i}", "tags": [f"web.{i:04d}"], "pushed": start + timedelta(days=i)}
        for i in range(1, 31)
    ]
    images += [{"digest": "web-20-before", "tags": [], "pushed": start + timedelta(days=20)}]
    return images


def test_a_service_deployed_often_never_expires_another_services_image():
    policy = image_lifecycle_policy(["web", "worker"], 20)
    expired = _expired(policy, _history())
    assert "worker-1" not in expired
    assert expired == {f"web-{i}" for i in range(1, 11)}  # the web's 20 newest are kept
    assert "web-20-before" not in expired  # no rule expires an untagged image


def test_the_old_single_rule_would_have_expired_the_workers_only_image():
    old = json.dumps(
        {
            "rules": [
                {
                    "rulePriority": 1,
                    "selection": {
                        "tagStatus": "untagged",
                        "countType": "sinceImagePushed",
                        "countUnit": "days",
                        "countNumber": 1,
                    },
                },
                {
                    "rulePriority": 2,
                    "selection": {
                        "tagStatus": "any",
                        "countType": "imageCountMoreThan",
                        "countNumber": 30,
                    },
                },
            ]
        }
    )
    expired = _expired(old, _history())
    assert {"worker-1", "web-20-before"} <= expired  # the evaluator tells the two apart


def test_a_prefix_of_one_service_never_selects_anothers_tags():
    policy = json.loads(image_lifecycle_policy(["web", "web-api"], 5))
    prefixes = [rule["selection"]["tagPrefixList"] for rule in policy["rules"]]
    assert prefixes == [["web."], ["web-api."]]
    assert not "web-api.0123".startswith("web.")


def test_the_digest_does_not_depend_on_where_the_code_is(tmp_path):
    # The same files elsewhere (shutil keeps modes, as git does): the same digest.
    app = _checkout(tmp_path / "a")
    copy = tmp_path / "b"
    shutil.copytree(app, copy)
    assert context_digest(copy / "web", copy / "web" / "Dockerfile") == context_digest(
        app / "web", app / "web" / "Dockerfile"
    )
