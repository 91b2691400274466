"""One exception hierarchy: everything paaskit raises derives from PaaskitError."""

from __future__ import annotations

import importlib
import inspect
import pkgutil

import pytest

import paaskit
from paaskit.config import ConfigError
from paaskit.errors import PaaskitError

LAMBDA_PACKAGES = ("paaskit.spot", "paaskit.release", "paaskit.registry")
"""Run inside AWS Lambda without the rest of paaskit (standard library and boto3 only):
their exceptions are raised and logged there, and never reach a paaskit user."""

NOT_IMPORTED = {"paaskit.__main__", "paaskit.policy.pack.__main__"}
"""Entry points that run a program when imported."""


def _modules():
    for info in pkgutil.walk_packages(paaskit.__path__, "paaskit."):
        if info.name not in NOT_IMPORTED:
            yield importlib.import_module(info.name)


def _exception_classes():
    seen = set()
    for module in _modules():
        for _, obj in inspect.getmembers(module, inspect.isclass):
            mine = issubclass(obj, BaseException) and obj.__module__.startswith("paaskit.")
            if mine and obj not in seen:
                seen.add(obj)
                yield obj


def test_every_exception_of_the_library_is_a_paaskit_error():
    found = list(_exception_classes())
    library = [e for e in found if not e.__module__.startswith(LAMBDA_PACKAGES)]
    assert len(library) >= 14
    wrong = [f"{e.__module__}.{e.__qualname__}" for e in library if not issubclass(e, PaaskitError)]
    assert wrong == []


def test_lambda_code_keeps_its_exceptions_to_itself():
    lambda_errors = [e for e in _exception_classes() if e.__module__.startswith(LAMBDA_PACKAGES)]
    assert lambda_errors  # the list above is not vacuous
    assert not any(issubclass(e, PaaskitError) for e in lambda_errors)


def test_no_two_exceptions_share_a_name():
    names = [e.__name__ for e in _exception_classes()]
    assert sorted(names) == sorted(set(names))


@pytest.mark.parametrize(
    ("name", "builtin"),
    [
        ("paaskit.config.ConfigError", ValueError),
        ("paaskit.manifest.ManifestError", ValueError),
        ("paaskit.buildpack.BuildpackError", ValueError),
        ("paaskit.instance_types.InstanceTypeError", ValueError),
        ("paaskit.policy.WaiverError", ValueError),
        ("paaskit.plan.PlanLookupError", LookupError),
    ],
)
def test_exceptions_keep_their_builtin_base(name, builtin):
    module, _, attr = name.rpartition(".")
    cls = getattr(importlib.import_module(module), attr)
    assert issubclass(cls, PaaskitError)
    assert issubclass(cls, builtin)


def test_config_error_is_the_same_class_wherever_it_is_imported_from():
    from paaskit import errors

    assert ConfigError is errors.ConfigError
