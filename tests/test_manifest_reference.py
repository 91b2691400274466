"""Image references: Docker's grammar (distribution/reference) and what ECS adds."""

from __future__ import annotations

import os
import shutil
import subprocess

import pytest

from paaskit.manifest import ManifestError, parse_manifest
from paaskit.manifest._reference import docker_problem, image_problem

HEX64 = "0123456789abcdef" * 4

GOOD = [
    "nginx",
    "nginx:1.27",
    "nginx:Latest",  # a tag may have capitals; a repository may not
    "library/nginx:1.27-alpine",
    "public.ecr.aws/datadog/agent:7",
    "ghcr.io/example/beat:1.2",
    "123456789012.dkr.ecr.us-east-1.amazonaws.com/shop:web.3f9a",
    f"123456789012.dkr.ecr.us-east-1.amazonaws.com/shop@sha256:{HEX64}",
    f"nginx:1.27@sha256:{HEX64}",
    "localhost:5000/app",
    "localhost:5000/app:1",
    "[::1]:5000/app:x",
    "Registry.Example.com/team/app",  # a registry's host may have capitals
    "my_registry/app",  # no '.' or ':': a repository, and '_' joins its words
    "foo__bar",
    "foo--bar",
    "exa_mple.com/app",  # no host, but a path Docker reads: a Docker Hub repository
    "a" * 247,  # library/ and 247: the longest repository Docker takes
    "x/" + "a" * 253,
]

BAD = {
    "NGINX:Latest": "the repository name must be lowercase (Docker's rule): nginx:Latest",
    "nginx:1.27@@@": "what follows '@' must be a digest Docker reads",
    "ghcr.io/Example/Beat:1.2": "must be lowercase (Docker's rule): ghcr.io/example/beat:1.2",
    "a:b:c": "the repository 'a:b' is not a name Docker reads",
    "foo___bar": "is not a name Docker reads",
    "foo.-bar": "is not a name Docker reads",
    "nginx:-x": "the tag '-x' is not one Docker reads",
    "nginx:" + "x" * 129: "is not one Docker reads: 1-128 letters",
    ":tag": "it has no repository name",
    HEX64: "that is an image ID (64 hex digits)",
    "x/" + "a" * 254: "the repository is 256 characters as Docker reads it ('x/aaa",
    "a" * 248: "the repository is 256 characters as Docker reads it ('library/a",
    f"nginx@sha256:{HEX64.upper()}": "sha256: and 64 lowercase hex digits",
    f"nginx@md5:{HEX64}": "what follows '@' must be a digest Docker reads",
    "exa-.com/app": "the registry 'exa-.com' is not a host name",
}


@pytest.mark.parametrize("reference", GOOD)
def test_references_docker_and_ecs_take(reference: str) -> None:
    assert image_problem(reference) is None


@pytest.mark.parametrize(("reference", "problem"), BAD.items())
def test_references_docker_refuses_say_why(reference: str, problem: str) -> None:
    found = docker_problem(reference)
    assert found is not None
    assert problem in found
    assert image_problem(reference) == found


def test_ecs_takes_only_sha256_digests_and_255_characters_before_one() -> None:
    sha512 = "nginx@sha512:" + "ab" * 64
    assert docker_problem(sha512) is None
    assert image_problem(sha512) == (
        "the digest 'sha512:ababababababababababababababab...' is not one ECS takes: sha256: "
        "and exactly 64 hex digits"
    )
    long = "ghcr.io/" + "a" * 200 + "/" + "b" * 54  # a path of 255: Docker's longest
    assert docker_problem(long) is None
    assert image_problem(long) == "it is 263 characters before any digest; ECS takes at most 255"
    assert image_problem(f"{long[:255]}@sha256:{HEX64}") is None


def test_the_manifest_names_the_key_and_what_docker_takes() -> None:
    for reference in ("NGINX:Latest", "nginx:1.27@@@"):
        with pytest.raises(ManifestError) as caught:
            parse_manifest({"services": {"web": {"image": reference}}})
        ((path, message),) = caught.value.problems
        assert path == "services.web.image"
        assert message.startswith(f'"{reference}" is not an image reference Docker and ECS take: ')
    assert parse_manifest({"services": {"web": {"image": "nginx:Latest"}}})


@pytest.mark.skipif(shutil.which("docker") is None, reason="no docker client on this machine")
def test_the_docker_client_agrees() -> None:
    # `docker pull` parses the reference before it looks for a daemon: pointed at a socket
    # that does not exist, it either refuses the reference or fails to connect.
    env = {**os.environ, "DOCKER_HOST": "unix:///nonexistent/paaskit-test.sock"}
    for reference in [*GOOD, *BAD]:
        run = subprocess.run(
            ["docker", "pull", reference],
            capture_output=True,
            text=True,
            env=env,
            timeout=30,
            check=False,
        )
        refused = any(
            words in run.stderr
            for words in (
                "invalid reference",
                "invalid repository",
                "must not be more than",
                "digest",
                "invalid checksum",
            )
        )
        assert refused == (docker_problem(reference) is not None), (reference, run.stderr)
