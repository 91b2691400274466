"""Did-you-mean: one helper for every error that names a wrong word."""

from __future__ import annotations

from paaskit._suggest import suggestions


def test_the_closest_known_word_first():
    assert suggestions("sclae", ["scale", "static", "command"]) == ["scale"]
    assert suggestions("t3.mediun", ["t3.medium", "t3.micro", "m6i.large"], n=2)[0] == "t3.medium"


def test_nothing_when_nothing_is_close():
    assert suggestions("database", ["scale", "port"]) == []


def test_a_difference_of_case_only_when_asked():
    # difflib rates "SCALE" far from "scale"; manifest keys ask for the case-blind match.
    assert suggestions("SCALE", ["scale", "port"]) == []
    assert suggestions("SCALE", ["scale", "port"], ignore_case=True) == ["scale"]
