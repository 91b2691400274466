"""docs/: a page per component that names every child and every setting, and quotes no prices."""

from __future__ import annotations

import ast
import inspect
import re
from pathlib import Path

import pytest

import paaskit
from paaskit._component import Component

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs"
SECTIONS = ("## What it makes", "## Settings", "## Costs", "## Runbook")

COMPONENTS = [
    obj
    for name in paaskit.__all__
    if inspect.isclass(obj := getattr(paaskit, name)) and issubclass(obj, Component)
]


def page(cls: type[Component]) -> Path:
    """A component's page is named after its module, as its type token is."""
    return DOCS / f"{cls.TYPE.split(':')[1]}.md"


def test_there_are_pages_for_all_nine_components():
    # The Edge and the Cdn share a page, as they share a module: the edge.
    assert sorted(page(c).name for c in COMPONENTS) == [
        "app.md",
        "cache.md",
        "cdn.md",
        "cdn.md",
        "cluster.md",
        "database.md",
        "loadbalancer.md",
        "network.md",
        "rack.md",
        "volume.md",
    ]


@pytest.mark.parametrize("cls", COMPONENTS, ids=lambda c: c.__name__)
def test_a_components_page_names_every_child_key_and_every_setting(cls):
    text = page(cls).read_text()
    for section in SECTIONS:
        assert section in text, f"{page(cls).name} has no {section!r}"
    missing = [key for key in cls.CHILDREN if f"`{key}`" not in text]
    assert missing == [], f"{page(cls).name} does not name these children"
    args = getattr(paaskit, f"{cls.__name__}Args")
    fields = [f for f in args.model_fields if f != "transform"]
    assert [f for f in fields if f"`{f}`" not in text] == []


def test_the_index_links_every_page():
    index = (DOCS / "README.md").read_text()
    for path in DOCS.glob("*.md"):
        if path.name != "README.md":
            assert f"]({path.name})" in index, path.name


PRICE = re.compile(r"\$\d")


def test_no_page_quotes_a_price():
    # Figures live in the price table and `paaskit cost`; a page that quoted one would drift.
    quoted = [p.name for p in DOCS.glob("*.md") if PRICE.search(p.read_text())]
    assert quoted == []


@pytest.mark.parametrize("cls", COMPONENTS, ids=lambda c: c.__name__)
def test_a_components_module_docstring_says_what_it_is_and_points_to_its_page(cls):
    package = cls.__module__.split(".")[1]
    path = ROOT / "paaskit" / package
    source = (path / "__init__.py") if path.is_dir() else path.with_suffix(".py")
    docstring = ast.get_docstring(ast.parse(source.read_text())) or ""
    assert f"docs/{page(cls).name}" in docstring
    assert not PRICE.search(docstring)
    assert len(docstring.splitlines()) <= 10
