"""Shared fixtures: a local AWS API emulator for the run-time code.

The run-time code (paaskit/spot, the release runner) is plain boto3. Its tests
run it unchanged against moto's AWS API server on 127.0.0.1, started here once
per session and reset between tests; boto3 finds it through AWS_ENDPOINT_URL,
so the code under test needs no test hooks.
"""

from __future__ import annotations

import os
import socket
import urllib.request
from collections.abc import Iterator

import pytest


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="session")
def moto_server() -> Iterator[str]:
    """The URL of a moto server on loopback, running for the whole session."""
    from moto.server import ThreadedMotoServer

    port = _free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.stop()


@pytest.fixture
def aws(moto_server: str, monkeypatch: pytest.MonkeyPatch) -> str:
    """Point boto3 at the emulator with fake credentials; a clean AWS for each test."""
    monkeypatch.setenv("AWS_ENDPOINT_URL", moto_server)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_SESSION_TOKEN", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    monkeypatch.setenv("AWS_REGION", "us-east-1")
    for var in ("AWS_PROFILE", "AWS_CONFIG_FILE", "AWS_SHARED_CREDENTIALS_FILE"):
        monkeypatch.delenv(var, raising=False)
    # The URL is the loopback emulator started above, never user input.
    request = urllib.request.Request(f"{moto_server}/moto-api/reset", method="POST")  # noqa: S310
    with urllib.request.urlopen(request, timeout=10):  # noqa: S310
        pass
    return moto_server


def _real_aws_reason() -> str | None:
    """Why tests marked `real_aws` cannot run here, or None when they can."""
    if os.environ.get("PAASKIT_REAL_AWS") != "1":
        return "a real AWS account is needed: set PAASKIT_REAL_AWS=1 with credentials"
    if os.environ.get("AWS_ENDPOINT_URL"):
        return "AWS_ENDPOINT_URL points elsewhere than AWS"
    import boto3

    if boto3.Session().get_credentials() is None:
        return "no AWS credentials found"
    return None


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Skip what only a real account can show unless one is given explicitly: never fake it."""
    marked = [item for item in items if "real_aws" in item.keywords]
    if not marked:
        return
    reason = _real_aws_reason()
    if reason is not None:
        for item in marked:
            item.add_marker(pytest.mark.skip(reason=reason))
