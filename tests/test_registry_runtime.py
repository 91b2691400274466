"""The claims registry against moto's SSM on 127.0.0.1: first claimant wins, the second is told who.

Every call goes to the emulator through boto3, as in Lambda; what is asserted
is read back from SSM (or is the error the emulator's own
`ParameterAlreadyExists` led to), never what the handler merely returned.
"""

from __future__ import annotations

import json
import threading

import boto3
import pytest

from paaskit.registry.claims import MAX_PRIORITY, ClaimError, Registry, host_key
from paaskit.registry.handler import handler

SHOP = "organization/shop/prod"
BLOG = "organization/blog/prod"


def event(app, owner, hosts=None, routes=None, action="create", rack="rack"):
    return {
        "rack": rack,
        "app": app,
        "owner": owner,
        "hosts": hosts or {},
        "routes": routes or {},
        "lifecycle": {"action": action, "prev_input": None},
    }


def stored(prefix="/paaskit/rack/claims"):
    ssm = boto3.client("ssm")
    found = {}
    for page in ssm.get_paginator("get_parameters_by_path").paginate(Path=prefix, Recursive=True):
        for p in page["Parameters"]:
            found[p["Name"].removeprefix(prefix + "/")] = json.loads(p["Value"])
    return found


def test_an_app_claims_its_name_hosts_and_the_priority_it_hashes_to(aws):
    result = handler(event("shop", SHOP, {"shop.example.com": "web"}, {"web": 40000}))
    assert result["priorities"] == {"web": 40000}
    claims = stored()
    assert claims["apps/shop"]["owner"] == SHOP
    assert claims["hosts/shop.example.com"] == {
        "app": "shop",
        "service": "web",
        "owner": SHOP,
        "host": "shop.example.com",
    }
    assert claims["priorities/40000"] == {"app": "shop", "service": "web", "owner": SHOP}


def test_a_host_taken_by_another_app_fails_naming_both_and_claims_nothing(aws):
    handler(event("shop", SHOP, {"shop.example.com": "web"}, {"web": 40000}))
    before = stored()
    with pytest.raises(ClaimError) as info:
        handler(event("blog", BLOG, {"shop.example.com": "site"}, {"site": 41000}))
    message = str(info.value)
    assert "'shop.example.com'" in message
    assert "app 'shop'" in message
    assert SHOP in message
    assert "app 'blog'" in message
    assert "services.site.domain" in message
    # The refused deploy left nothing behind: not its name, not a priority.
    assert stored() == before


def test_an_app_name_taken_by_another_stack_fails_naming_both_stacks(aws):
    handler(event("shop", SHOP, routes={"web": 40000}))
    with pytest.raises(ClaimError, match=rf"app name 'shop'.*{SHOP}.*{BLOG}"):
        handler(event("shop", BLOG, routes={"web": 40000}))


def test_a_taken_priority_moves_the_newcomer_to_the_next_free_one(aws):
    handler(event("shop", SHOP, routes={"web": 40000}))
    handler(event("blog", BLOG, routes={"site": 40001}))
    # blog-api hashes to 40000 too: 40000 and 40001 are held, so it gets 40002.
    result = handler(event("blog", BLOG, routes={"site": 40001, "api": 40000}))
    assert result["priorities"] == {"site": 40001, "api": 40002}
    assert stored()["priorities/40002"]["app"] == "blog"
    # Redeploying changes nothing: each keeps what it holds.
    assert handler(event("shop", SHOP, routes={"web": 40000}))["priorities"] == {"web": 40000}
    again = handler(event("blog", BLOG, routes={"site": 40001, "api": 40000}))
    assert again["priorities"] == {"site": 40001, "api": 40002}


def test_a_route_past_the_racks_rule_quota_is_refused_before_aws_would(aws):
    handler({**event("shop", SHOP, routes={"web": 1, "api": 2}), "maxRules": 3})
    # A redeploy asks for nothing new: always fine.
    handler({**event("shop", SHOP, routes={"web": 1, "api": 2}), "maxRules": 2})
    with pytest.raises(ClaimError, match=r"holds 2 listener rules of the 3 .* needs 2 more"):
        handler({**event("blog", BLOG, routes={"site": 3, "admin": 4}), "maxRules": 3})
    assert "apps/blog" not in stored()
    # An app swapping one route for another fits in the same room.
    swapped = handler({**event("shop", SHOP, routes={"web": 1, "admin": 9}), "maxRules": 2})
    assert swapped["priorities"] == {"web": 1, "admin": 9}


def test_priorities_wrap_at_awss_maximum(aws):
    handler(event("shop", SHOP, routes={"web": MAX_PRIORITY}))
    result = handler(event("blog", BLOG, routes={"site": MAX_PRIORITY}))
    assert result["priorities"] == {"site": 1}


def test_an_update_releases_what_the_app_no_longer_asks_for(aws):
    handler(
        event(
            "shop",
            SHOP,
            {"a.example.com": "web", "b.example.com": "web"},
            {"web": 40000, "api": 100},
        )
    )
    handler(event("shop", SHOP, {"a.example.com": "web"}, {"web": 40000}, action="update"))
    claims = stored()
    assert "hosts/b.example.com" not in claims
    assert "priorities/100" not in claims
    assert claims["apps/shop"]["hosts"] == {"a.example.com": "web"}
    # Another app may now take what was released.
    handler(event("blog", BLOG, {"b.example.com": "site"}, {"site": 100}))
    assert stored()["hosts/b.example.com"]["app"] == "blog"


def test_deleting_the_app_releases_its_claims_and_no_one_elses(aws):
    handler(event("shop", SHOP, {"shop.example.com": "web"}, {"web": 40000}))
    handler(event("blog", BLOG, {"blog.example.com": "site"}, {"site": 40001}))
    released = handler(event("shop", SHOP, {"shop.example.com": "web"}, {"web": 40000}, "delete"))
    assert "host shop.example.com" in released["released"]
    assert set(stored()) == {"apps/blog", "hosts/blog.example.com", "priorities/40001"}
    # Another stack's delete of an app of the same name releases nothing of it.
    handler(event("blog", SHOP, action="delete"))
    assert "apps/blog" in stored()


def test_wildcard_hosts_are_stored_under_a_name_ssm_accepts(aws):
    assert host_key("*.Shop.example.com") == "_.shop.example.com"
    handler(event("shop", SHOP, {"*.shop.example.com": "web"}, {"web": 7}))
    assert stored()["hosts/_.shop.example.com"]["host"] == "*.shop.example.com"


def test_racks_keep_their_claims_apart(aws):
    handler(event("shop", SHOP, {"shop.example.com": "web"}, {"web": 7}, rack="prod"))
    handler(event("shop", BLOG, {"shop.example.com": "web"}, {"web": 7}, rack="staging"))
    assert stored("/paaskit/prod/claims")["apps/shop"]["owner"] == SHOP
    assert stored("/paaskit/staging/claims")["apps/shop"]["owner"] == BLOG


def test_two_apps_racing_for_one_host_one_wins_and_the_other_is_told(aws):
    outcomes: dict[str, object] = {}

    def deploy(app: str, owner: str) -> None:
        try:
            outcomes[app] = Registry("rack").claim(app, owner, {"x.example.com": "web"}, {})
        except ClaimError as error:
            outcomes[app] = error

    threads = [threading.Thread(target=deploy, args=a) for a in (("shop", SHOP), ("blog", BLOG))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    errors = [o for o in outcomes.values() if isinstance(o, ClaimError)]
    assert len(errors) == 1
    assert stored()["hosts/x.example.com"]["app"] in ("shop", "blog")


def test_an_event_without_its_app_is_refused(aws):
    with pytest.raises(ClaimError, match="no 'app'"):
        handler({"rack": "rack", "owner": SHOP})


def test_the_registrys_lambda_archive_imports_alone_without_pulumi(tmp_path):
    """The zip the rack ships holds the registry and an empty paaskit: it imports alone."""
    import subprocess
    import sys
    import zipfile
    from pathlib import Path

    from tests.test_rack import default_rack

    # The archive the rack registers, read from its plan.
    archive = default_rack().named("rk-edge-registry").inputs["code"]["@archive"]
    root = tmp_path / "lambda"
    with zipfile.ZipFile(tmp_path / "code.zip", "w") as zf:
        for name, asset in archive.items():
            path = asset["@asset"].get("path")
            zf.writestr(name, Path(path).read_text() if path else "")
    with zipfile.ZipFile(tmp_path / "code.zip") as zf:
        zf.extractall(root)
    assert sorted(archive) == [
        "paaskit/__init__.py",
        "paaskit/registry/__init__.py",
        "paaskit/registry/claims.py",
        "paaskit/registry/handler.py",
    ]
    probe = (
        "import sys; sys.modules['pulumi'] = None; sys.path.insert(0, sys.argv[1]);"
        "import paaskit.registry.handler as h;"
        "assert h.__file__.startswith(sys.argv[1]), h.__file__; print(h.handler.__name__)"
    )
    done = subprocess.run(
        [sys.executable, "-c", probe, str(root)], capture_output=True, text=True, check=False
    )
    assert (done.returncode, done.stdout.strip()) == (0, "handler"), done.stderr
