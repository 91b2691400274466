"""Bad input never gets through, and never crashes (issue 13), as a property.

Valid manifests, rack settings and stack files are mutated (keys dropped,
renamed with typos or added; values replaced by wrong types, null, huge or
negative numbers, long or odd text; lines duplicated; bytes that are not
UTF-8) and planned the way a user plans them, through `paaskit plan`'s entry
point, in-process. Every outcome must be a plan (exit 0, nothing on stderr) or
a refusal (exit 1) whose one message names a key (`services.web.scale.cpu`,
`paaskit-rack:zones`, the stack file and line) and is paaskit's own: never a
traceback, a Python exception's name, pydantic's internals or a warning.

The examples are capped (500 in all, about 35 s with the few run as a real
process) and fixed (`derandomize`), so the suite stays fast and deterministic;
`PAASKIT_FUZZ_SCALE=20` runs twenty times as many, and `PAASKIT_FUZZ_SEED=<n>`
other ones, to hunt for more (docs/README.md).
"""

from __future__ import annotations

import builtins
import copy
import gc
import io
import json
import os
import re
import subprocess
import sys
import tempfile
import traceback
import warnings
from collections.abc import Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import redirect_stderr, redirect_stdout
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, given, seed, settings
from hypothesis import strategies as st

from paaskit.cli import main

ROOT = Path(__file__).resolve().parent.parent
APP = ROOT / "stacks" / "app"
RACK = ROOT / "stacks" / "rack"
RACK_STACK = "organization/paaskit-rack/dev"

_SCALE = int(os.environ.get("PAASKIT_FUZZ_SCALE", "1"))
_SEED = os.environ.get("PAASKIT_FUZZ_SEED")


def _examples(n: int) -> Any:
    """Hypothesis settings for a family of `n` examples: deterministic unless a seed is given."""
    chosen = settings(
        max_examples=n * _SCALE,
        deadline=None,
        derandomize=_SEED is None,
        database=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    )

    def apply(test: Any) -> Any:
        test = chosen(test)
        return seed(int(_SEED))(test) if _SEED is not None else test

    return apply


# --- running `paaskit plan` as a user does -------------------------------------------------------


@dataclass
class Outcome:
    argv: list[str]
    status: object
    stdout: str
    stderr: str
    caught: list[str] = field(default_factory=list)
    """Python warnings raised while planning (whatever filters the suite has)."""


def plan(argv: Sequence[str]) -> Outcome:
    """`paaskit plan ARGV...` through the CLI's entry point, in this process."""
    out, err = io.StringIO(), io.StringIO()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        with redirect_stdout(out), redirect_stderr(err):
            try:
                status: object = main(["plan", *argv])
            except SystemExit as exc:  # argparse
                status = exc.code
            except BaseException:
                status = "raised"
                err.write(traceback.format_exc())
            # An unawaited coroutine says so when it is collected: now, not in the next example.
            gc.collect()
    return Outcome(
        list(argv),
        status,
        out.getvalue(),
        err.getvalue(),
        [f"{w.category.__name__}: {w.message} ({w.filename}:{w.lineno})" for w in caught],
    )


_EXCEPTIONS = sorted(
    name
    for name in dir(builtins)
    if name.endswith(("Error", "Exception", "Warning")) and name != "Warning"
)
_NOT_OURS = re.compile(
    r"Traceback \(most recent call last\)"
    rf"|\b(?:{'|'.join(_EXCEPTIONS)})\b: "  # a Python exception's or warning's own name
    r"|\b\w+Warning\b"
    r"|\(at [^()]*\.py:\d+\)"  # describe()'s mark of an error nobody meant to raise
    r"|pydantic|pydantic_core|pulumi\.output|errors\.pydantic\.dev"
    r"|<[a-zA-Z_.]+ object at 0x"
    r"|<unicode string>|<byte string>"  # PyYAML's name for text it was not told the file of
)


def check(outcome: Outcome, keys: Sequence[str], *, anything: str = r"$^") -> None:
    """A plan, or a refusal that names one of `keys` (or matches `anything`), and nothing else."""
    shown = f"argv={outcome.argv}\nstatus={outcome.status}\nstderr:\n{outcome.stderr}"
    assert outcome.caught == [], f"{shown}\nwarnings: {outcome.caught}"
    assert outcome.status in (0, 1), shown
    if outcome.status == 0:
        assert outcome.stderr == "", shown
        return
    assert outcome.stderr.startswith("paaskit plan: error: "), shown
    assert outcome.stderr.count("paaskit plan: error: ") == 1, shown
    assert not _NOT_OURS.search(outcome.stderr), shown
    assert not re.search(r"[^\s'\"]{301,}", outcome.stderr), "a value repeated in full\n" + shown
    named = [key for key in keys if key in outcome.stderr]
    assert named or re.search(anything, outcome.stderr), f"{shown}\nnames none of {keys}"


@pytest.fixture(scope="module", autouse=True)
def _quick_collections() -> Iterator[None]:
    """Each example collects garbage (so a coroutine left unawaited warns inside it), and a
    full collection walks every object of pulumi, pydantic and botocore: 0.2 s. Frozen,
    they are skipped, and a collection takes a millisecond."""
    gc.collect()
    gc.freeze()
    yield
    gc.unfreeze()


@pytest.fixture(scope="module")
def rack_outputs() -> Iterator[Path]:
    """The reference rack's outputs, planned once: app plans read them (`--ref`), not replan it."""
    from paaskit.plan import plan_directory

    outputs = plan_directory(ROOT).outputs
    with tempfile.TemporaryDirectory(prefix="paaskit-fuzz-") as folder:
        path = Path(folder) / "rack.json"
        path.write_text(json.dumps(outputs, default=str))
        yield path


@pytest.fixture(scope="module")
def scratch() -> Iterator[Path]:
    with tempfile.TemporaryDirectory(prefix="paaskit-fuzz-") as folder:
        yield Path(folder)


# --- mutations ------------------------------------------------------------------------------------


class Digits(str):
    """A number too long for Python to turn into text (or back): written as YAML's int."""


class _Dumper(yaml.SafeDumper):
    pass


_Dumper.add_representer(
    Digits, lambda dumper, data: dumper.represent_scalar("tag:yaml.org,2002:int", str(data))
)


Path_ = tuple[str | int, ...]

JUNK: st.SearchStrategy[Any] = st.one_of(
    st.sampled_from(
        [
            None,
            True,
            False,
            0,
            -1,
            1,
            2**31,
            2**63,
            -(2**63) - 1,
            10**30,
            Digits("9" * 5000),
            1.5,
            -0.5,
            float("inf"),
            float("nan"),
            "",
            " ",
            "null",
            "~",
            "yes",
            "no",
            "0x1F",
            "1e9",
            "-1",
            "99999999999999999999",
            "2-1",
            "0-0",
            "1-",
            "*",
            "/",
            "..",
            "../../etc",
            "a b",
            "80:80",
            "x" * 2000,
            "é☃𝄞 ünïcödé",
            "\u202eevil",
            "NGINX:Latest",
            "nginx:1.27@@@",
            "${UNSET}",
            "$${X}",
            "Apps.Example.COM.",
            [],
            {},
            [None],
            [[1]],
            {"a": 1},
            {"a": None},
            {None: 1},
        ]
    ),
    st.integers(),
    st.text(max_size=12),
    st.lists(st.one_of(st.integers(-5, 5), st.text(max_size=5)), max_size=3),
)
"""Values no key expects, and a few that some key does."""


def _typo(key: str) -> st.SearchStrategy[str]:
    """A misspelling of `key`: a letter dropped, doubled, swapped or changed, or its case."""
    options: list[str] = [key.upper(), key.capitalize(), key + "s", key.replace("_", "-") + "_"]
    for i in range(len(key)):
        options.append(key[:i] + key[i + 1 :])
        options.append(key[:i] + key[i] + key[i:])
        if i + 1 < len(key):
            options.append(key[:i] + key[i + 1] + key[i] + key[i + 2 :])
    return st.sampled_from([o for o in options if o and o != key])


def _paths(doc: Any, at: Path_ = ()) -> list[Path_]:
    """Every place in a document: mapping keys and list items, depth first."""
    found: list[Path_] = []
    if isinstance(doc, dict):
        for key, value in doc.items():
            found.append((*at, key))
            found += _paths(value, (*at, key))
    elif isinstance(doc, list):
        for i, value in enumerate(doc):
            found.append((*at, i))
            found += _paths(value, (*at, i))
    return found


def _get(doc: Any, path: Path_) -> Any:
    for part in path:
        doc = doc[part]
    return doc


def _nudged(value: Any) -> st.SearchStrategy[Any]:
    """A value of the same kind, changed: what a typo or a misunderstanding of a unit makes,
    and what reaches the checks behind the type checks."""
    if isinstance(value, bool):
        return st.just(not value)
    if isinstance(value, int):
        return st.one_of(
            st.sampled_from([0, 1, -value, value + 1, value * 2, value * 100, 5001, 65536, 10**6]),
            st.integers(-10, 10**6),
        )
    if isinstance(value, str):
        return st.sampled_from(
            [value.upper(), value + "x", "", value * 50, value.replace(".", ".."), f" {value}"]
        )
    if isinstance(value, list) and value:
        return st.sampled_from([[], value + value[:1], value[::-1]])
    if isinstance(value, dict):
        return st.just({})
    return st.just(value)


@dataclass
class Mutated:
    doc: Any
    touched: list[Path_]
    """The places changed (a renamed key's new place too)."""
    log: list[str]


@st.composite
def mutate(draw: st.DrawFn, base: Any, max_changes: int = 3) -> Mutated:
    """`base` with one to `max_changes` changes, each at a place drawn from what is there."""
    doc = copy.deepcopy(base)
    touched: list[Path_] = []
    log: list[str] = []
    for _ in range(draw(st.sampled_from([1, 1, 1, 2, 3][: max_changes + 2]))):
        places = _paths(doc)
        if not places:
            break
        path = draw(st.sampled_from(places))
        parent = _get(doc, path[:-1])
        last = path[-1]
        kind = draw(
            st.sampled_from(
                ["nudge", "nudge", "nudge", "set", "set", "drop", "rename", "add", "wrap"]
            )
        )
        if kind == "nudge":
            parent[last] = draw(_nudged(parent[last]))
        elif kind == "set":
            parent[last] = copy.deepcopy(draw(JUNK))
        elif kind == "drop":
            del parent[last]
        elif kind == "wrap":
            parent[last] = [parent[last]]
        elif kind == "rename" and isinstance(last, str):
            new = draw(_typo(last))
            if new in parent:
                continue
            parent[new] = parent.pop(last)
            touched.append((*path[:-1], new))
        elif kind == "add" and isinstance(parent, dict):
            new = draw(st.one_of(_typo(str(last)), st.text(min_size=1, max_size=8)))
            if new in parent:
                continue
            parent[new] = copy.deepcopy(draw(JUNK))
            touched.append((*path[:-1], new))
            log.append(f"add {path[:-1]}.{new!r}")
            continue
        else:
            continue
        touched.append(path)
        log.append(f"{kind} {path}")
    return Mutated(doc, touched, log)


@st.composite
def as_bytes(draw: st.DrawFn, doc: Any) -> tuple[bytes, list[str]]:
    """`doc` as YAML, sometimes damaged as text: a line repeated (a key written twice) or
    dropped, bytes that are not UTF-8, a tab, a cut."""
    text = yaml.dump(doc, Dumper=_Dumper, sort_keys=False, allow_unicode=True, width=10**6)
    lines = text.splitlines(keepends=True) or ["\n"]
    change = draw(st.sampled_from(["none"] * 6 + ["repeat", "drop", "bytes", "tab", "cut"]))
    i = draw(st.integers(0, len(lines) - 1))
    data = text.encode()
    if change == "repeat":
        data = "".join([*lines[: i + 1], lines[i], *lines[i + 1 :]]).encode()
    elif change == "drop":
        data = "".join(lines[:i] + lines[i + 1 :]).encode()
    elif change == "bytes":
        bad = draw(st.sampled_from([b"\xff", b"\xc3\x28", b"\xe9t\xe9", b"\x00", b"\xef\xbb\xbf"]))
        data = "".join(lines[:i]).encode() + bad + "".join(lines[i:]).encode()
    elif change == "tab":
        data = "".join([*lines[:i], "\t" + lines[i], *lines[i + 1 :]]).encode()
    elif change == "cut":
        data = data[: draw(st.integers(0, len(data)))]
    return data, [] if change == "none" else [f"text: {change} at line {i + 1}"]


def _dotted(path: Path_) -> list[str]:
    """How a refusal may name a place: the dotted key path, or any part of it down to two keys
    (`services.web.scale` for `services.web.scale.cpu`); list items by their index or not."""
    keys = [str(p) for p in path]
    out = []
    for n in range(len(keys), 0, -1):
        if n < min(2, len(keys)):
            break
        out.append(".".join(keys[:n]))
        if isinstance(path[n - 1], int):
            out.append(".".join(keys[: n - 1]) + f"[{path[n - 1]}]")
    return out


# --- manifests ------------------------------------------------------------------------------------

MANIFESTS: list[dict[str, Any]] = [
    {  # a web service with everything a web service has
        "environment": ["SECRET_KEY", "DEBUG=false"],
        "resources": {"database": {"type": "postgres", "options": {"storage": 20}}},
        "services": {
            "web": {
                "image": "nginx:1.27",
                "port": 8000,
                "health": {"path": "/health", "grace": 30, "interval": 10, "timeout": 5},
                "domain": "shop.example.com",
                "resources": ["database"],
                "release": "python manage.py migrate",
                "scale": {
                    "count": "2-4",
                    "cpu": 256,
                    "memory": 512,
                    "targets": {"cpu": 70, "requests": 1000},
                },
                "deployment": {"minimum": 50, "maximum": 200},
                "termination": {"grace": 30},
                "drain": 30,
            }
        },
    },
    {  # a worker and its timers
        "environment": ["QUEUE_NAME=jobs", "POLL_SECONDS=20"],
        "services": {
            "worker": {
                "image": "python:3.12-slim",
                "command": "python worker.py",
                "scale": {"count": 1, "memory": 256},
            }
        },
        "timers": {
            "nightly": {
                "schedule": "30 2 * * *",
                "command": "python report.py",
                "service": "worker",
            },
            "hourly": {
                "schedule": "0 * * * ?",
                "command": ["python", "tick.py"],
                "service": "worker",
            },
        },
    },
    {  # resources of every kind, linked to a web service
        "resources": {
            "db": {"type": "postgres", "options": {"durable": True, "storage": 50}},
            "cache": {"type": "redis", "options": {"nodes": 2}},
            "legacy": {"type": "mysql"},
        },
        "services": {
            "web": {
                "image": "ghcr.io/example/web:2.1",
                "port": {"port": 3000, "scheme": "http"},
                "health": "/up",
                "resources": ["db", "cache", "legacy"],
                "environment": ["RAILS_ENV=production"],
                "scale": {"count": {"min": 1, "max": 3}, "targets": {"memory": 80}},
            }
        },
    },
    {  # an internal service with a volume, linked from a web service
        "services": {
            "api": {
                "image": "example/api:1.0",
                "internal": True,
                "port": 9000,
                "volumes": ["shared:/data", "/cache:ro"],
                "scale": {"count": 2, "cpu": 512, "memory": 1024},
            },
            "web": {
                "image": "example/web:1.0",
                "port": 8080,
                "links": ["api"],
                "volumes": ["shared:/srv/shared:ro"],
                "sticky": True,
                "timeout": 60,
            },
        },
    },
]


@st.composite
def manifest_case(draw: st.DrawFn) -> tuple[bytes, Mutated, list[str]]:
    mutated = draw(mutate(draw(st.sampled_from(MANIFESTS))))
    data, text_log = draw(as_bytes(mutated.doc))
    return data, mutated, text_log


_MANIFEST_KEY = re.compile(
    r"\b(?:services|resources|timers|environment|params|balancers)(?:\.[^\s:;,]+)?: "
    r"|paaskit-app:\w+|the manifest is empty|expected a mapping at the top|\S+: unknown key"
    r"|(?:invalid YAML|not UTF-8)[^:]*(?:line|byte)"
    r"|: (?:services|resources|timers|environment)(?:\.\S+)?\b"
)


@_examples(250)
@given(case=manifest_case())
def test_a_mutated_manifest_plans_or_is_refused_naming_the_key(case, rack_outputs, scratch):
    data, mutated, text_log = case
    manifest = scratch / "paaskit.yml"
    manifest.write_bytes(data)
    argv = [str(APP), "-c", f"paaskit-app:manifest={manifest}", "-c", "paaskit-app:name=fuzz"]
    if b"SECRET_KEY" in data:  # a setting the manifest does not declare is refused
        argv += ["-c", 'paaskit-app:environment={"SECRET_KEY": "plan-only"}']
    outcome = plan([*argv, "--ref", f"{RACK_STACK}={rack_outputs}"])
    touched = [key for path in mutated.touched for key in _dotted(path)]
    note = f"mutations: {mutated.log + text_log}"
    try:
        check(outcome, touched, anything=_MANIFEST_KEY.pattern)
    except AssertionError as exc:
        raise AssertionError(f"{exc}\n{note}\nmanifest:\n{data[:3000]!r}") from None


# --- rack settings (`-c paaskit-rack:KEY=VALUE`, as `pulumi config set` gives them) ---------------


def _rack_keys() -> dict[str, str | None]:
    """Every key of the reference rack's Pulumi.yaml, and its default as config text."""
    declared = yaml.safe_load((ROOT / "Pulumi.yaml").read_text())["config"]
    keys: dict[str, str | None] = {}
    for key, decl in declared.items():
        if ":" in key:
            continue
        default = decl.get("default") if isinstance(decl, dict) else None
        keys[key] = None if default is None else json.dumps(default).strip('"')
    keys.update(dict.fromkeys(("tags", "ecsConfig", "databaseParameters")))
    return keys


RACK_KEYS = _rack_keys()

SAMPLES: dict[str, list[str]] = {
    "domain": ["apps.example.com", "apps.example.com.", "Apps.Example.com", "-bad-.com"],
    "zoneName": ["example.com", "example.com."],
    "certificateArn": ["arn:aws:acm:us-east-1:123456789012:certificate/abc"],
    "cdnCertificateArn": ["arn:aws:acm:us-east-1:123456789012:certificate/abc", "arn:x"],
    "webAclId": ["arn:aws:wafv2:us-east-1:123456789012:global/webacl/a/1", "acl"],
    "databaseAlarmsTopicArn": ["arn:aws:sns:us-east-1:123456789012:alarms", "topic"],
    "originSecret": ["a" * 40, "short", "bad chars!" * 5],
    "instanceType": ["t4g.small", "m7i.large", "q9.huge"],
    "instanceTypes": ['["t3.large", "m5.large"]', '["t3.large", "t4g.large"]'],
    "availabilityZones": ['["us-east-1a", "us-east-1b"]', '["eu-west-1a", "eu-west-1b"]'],
    "legacyEdge": ["keep", "retire", "later"],
    "tags": ['{"team": "platform"}', '{"aws:x": "y"}', '{"a": {"b": 1}}'],
    "ecsConfig": ['{"ECS_RESERVED_MEMORY": 256}', '{"NOT_ECS": "1"}'],
    "databaseParameters": ['{"work_mem": "16384"}', '{"work_mem": null}'],
    "databaseUsername": ["admin", "postgres", "app"],
    "databaseVersion": ["17", "18.1", "9.6", "latest"],
    "vpcCidr": ["10.1.0.0/16", "10.0.0.0/8", "8.8.8.0/24", "10.0.0.0/33"],
    "databaseBackupWindow": ["03:00-04:00", "25:00-26:00"],
    "databaseMaintenanceWindow": ["sun:05:00-sun:06:00", "xyz"],
    "endpoints": ['["ecr", "logs"]', '["nope"]'],
    "aws:region": ["eu-west-1", "us-east-9", "mars-1"],
}
"""Values, good and bad, of a kind only a few keys take."""

_TEXT = st.sampled_from(
    [
        "",
        " ",
        "0",
        "-1",
        "1",
        "2",
        "3",
        "101",
        "5000",
        "99999999999999999999",
        "9" * 400,
        "1.5",
        "1e3",
        "true",
        "false",
        "True",
        "yes",
        "null",
        "[]",
        "{}",
        '["a"]',
        '{"a": 1}',
        '{"a": null}',
        "[1, 2]",
        "x" * 300,
        "é☃𝄞",
        "\u202e",
        "9" * 5000,
        "0x" + "f" * 5000,
        '{"a": 1e999}',
        '{"a": ' + "9" * 5000 + "}",
        '[{"a": []}]',
        "\x00",
    ]
)


@st.composite
def rack_setting(draw: st.DrawFn) -> tuple[str, str]:
    """One `-c KEY=VALUE`: a rack key, a typo of one, or `aws:region`; a value of its kind or not."""
    key = draw(st.sampled_from([*RACK_KEYS, "aws:region"]))
    if draw(st.integers(0, 9)) == 0:
        key = draw(_typo(key))
    elif draw(st.integers(0, 9)) == 0:
        # A place inside the key's value, as `pulumi config set --path` writes it.
        key += draw(st.sampled_from([".team", "[0]", "[1]", ".a.b", '["x.y"]', "[", ".", "[-1]"]))
    pool: list[str] = list(SAMPLES.get(key, []))
    default = RACK_KEYS.get(key)
    if default is not None:
        pool.append(default)
    value = draw(st.one_of(st.sampled_from(pool), _TEXT) if pool else _TEXT)
    full = key if ":" in key else f"paaskit-rack:{key}"
    return full, value


_RACK_KEY = r"paaskit-rack:\w+|aws:region|Pulumi\.yaml|-c [\w:-]+"


@_examples(150)
@given(given_settings=st.lists(rack_setting(), min_size=1, max_size=3, unique_by=lambda kv: kv[0]))
def test_mutated_rack_settings_plan_or_are_refused_naming_the_key(given_settings):
    argv = [str(ROOT)]
    for key, value in given_settings:
        argv += ["-c", f"{key}={value}"]
    keys = [key for key, _ in given_settings]
    keys += [re.split(r"[.\[]", key, maxsplit=1)[0] for key in keys]
    check(plan(argv), keys, anything=_RACK_KEY)


# --- stack files (`Pulumi.<stack>.yaml`) ----------------------------------------------------------

RACK_STACKS: list[Any] = [
    {"config": {}},
    yaml.safe_load((RACK / "Pulumi.with-database.yaml").read_text()),
    {
        "config": {
            "aws:region": "eu-west-1",
            "paaskit-rack:zones": 3,
            "paaskit-rack:natMode": "per_az",
            "paaskit-rack:endpoints": ["ecr", "logs"],
            "paaskit-rack:tags": {"team": "platform"},
            "paaskit-rack:ecsConfig": {"ECS_IMAGE_PULL_BEHAVIOR": "prefer-cached"},
            "paaskit-rack:originSecret": {"secure": "v1:c2VjcmV0"},
            "paaskit-rack:domain": "apps.example.com",
            "paaskit-rack:zoneName": "example.com",
        }
    },
]

APP_STACKS: list[Any] = [
    {
        "config": {
            "paaskit-app:manifest": "MANIFEST",
            "paaskit-app:environment": {"SECRET_KEY": {"secure": "v1:c2VjcmV0"}, "DEBUG": False},
            "paaskit-app:releaseTimeoutSeconds": 600,
            "paaskit-app:imageHistory": 10,
            "paaskit-app:zones": ["example.com"],
            "paaskit-app:name": "shop",
            "paaskit-app:logRetentionDays": 14,
            "paaskit-app:volumeUid": 1000,
            "paaskit-app:cdnLogs": True,
            "paaskit-app:throwaway": False,
            "paaskit-app:strictInterpolation": True,
            "paaskit-app:rack": RACK_STACK,
        }
    },
]


@dataclass
class Project:
    """A copy of a stack's Pulumi.yaml whose `main` is the real program, and its stack file."""

    dir: Path
    stack_file: Path


def _project(scratch: Path, name: str, source: Path, program: Path) -> Project:
    project = yaml.safe_load(source.read_text())
    project["main"] = str(program)
    project.pop("stackConfigDir", None)
    folder = scratch / name
    folder.mkdir(exist_ok=True)
    (folder / "Pulumi.yaml").write_text(yaml.safe_dump(project, sort_keys=False))
    return Project(folder, folder / "Pulumi.fuzz.yaml")


@st.composite
def stack_file_case(draw: st.DrawFn) -> tuple[str, bytes, Mutated, list[str]]:
    which = draw(st.sampled_from(["rack", "rack", "app"]))
    base = draw(st.sampled_from(RACK_STACKS if which == "rack" else APP_STACKS))
    if draw(st.integers(0, 7)) == 0:
        # Not a mapping at the top level, or `config:` not one.
        odd = copy.deepcopy(
            draw(st.sampled_from([[base["config"]], "config", 3, None, {"config": ["a"]}]))
        )
        mutated = Mutated(odd, [("config",)], ["top level replaced"])
    else:
        mutated = draw(mutate(base))
    data, text_log = draw(as_bytes(mutated.doc))
    return which, data, mutated, text_log


_STACK_KEY = r"Pulumi\.fuzz\.yaml|paaskit-(?:rack|app):\w+|aws:region|Pulumi\.yaml"


@_examples(100)
@given(case=stack_file_case())
def test_a_mutated_stack_file_plans_or_is_refused_naming_the_key(case, rack_outputs, scratch):
    which, data, mutated, text_log = case
    manifest = scratch / "stack-app" / "paaskit.yml"
    manifest.parent.mkdir(exist_ok=True)
    manifest.write_text(yaml.safe_dump(MANIFESTS[0]))
    if which == "rack":
        project = _project(scratch, "rack", ROOT / "Pulumi.yaml", RACK)
        argv = [str(project.dir), "--stack", "fuzz"]
    else:
        project = _project(scratch, "app", APP / "Pulumi.yaml", APP)
        data = data.replace(b"MANIFEST", str(manifest).encode())
        argv = [str(project.dir), "--stack", "fuzz", "--ref", f"{RACK_STACK}={rack_outputs}"]
    project.stack_file.write_bytes(data)
    outcome = plan(argv)
    touched = [str(p[1]) for p in mutated.touched if len(p) > 1 and isinstance(p[1], str)]
    try:
        check(outcome, touched, anything=_STACK_KEY)
    except AssertionError as exc:
        raise AssertionError(
            f"{exc}\nmutations: {mutated.log + text_log}\n{data[:3000]!r}"
        ) from None


# --- end to end: the same through a real `python -m paaskit`, stderr as a terminal shows it ------


def test_bad_input_through_a_real_process_leaves_stderr_clean(rack_outputs, scratch):
    """A handful of the cases above through `python -W default -m paaskit plan`: the exit
    status and stderr a user sees, with every Python warning shown (none may be)."""
    manifest = scratch / "process" / "paaskit.yml"
    manifest.parent.mkdir(exist_ok=True)
    manifest.write_text(yaml.safe_dump({"services": {"web": {"image": "nginx", "port": -80}}}))
    good = scratch / "process" / "good.yml"
    good.write_text(yaml.safe_dump(MANIFESTS[1]))
    project = _project(scratch, "process-rack", ROOT / "Pulumi.yaml", RACK)
    project.stack_file.write_bytes(b"config:\n  paaskit-rack:zones: 2\n  zones: 3\n  x: \xff\n")
    app = ["stacks/app", "--ref", f"{RACK_STACK}={rack_outputs}", "-c"]
    cases: list[tuple[list[str], int, str]] = [
        ([*app, f"paaskit-app:manifest={good}"], 0, ""),
        ([*app, f"paaskit-app:manifest={manifest}"], 1, "services.web.port"),
        ([".", "-c", "zones=99999999999999999999", "-c", "natMode=none"], 1, "paaskit-rack:zones"),
        ([".", "-c", "paaskit-rack:enviroment=x"], 1, "paaskit-rack:enviroment"),
        ([str(project.dir), "--stack", "fuzz"], 1, "Pulumi.fuzz.yaml:"),
    ]
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTHONWARNINGS", "PAASKIT_"))}

    def run(argv: list[str]) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-W", "default", "-m", "paaskit", "plan", *argv],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            timeout=300,
            check=False,
        )

    with ThreadPoolExecutor(max_workers=2) as pool:
        done = list(pool.map(run, [argv for argv, _, _ in cases]))
    for (argv, status, key), result in zip(cases, done, strict=True):
        outcome = Outcome(argv, result.returncode, result.stdout, result.stderr)
        check(outcome, [key])
        assert result.returncode == status, outcome
        assert key in result.stderr, outcome
