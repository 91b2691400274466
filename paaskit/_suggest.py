"""Did-you-mean: the known words closest to a mistyped one, for error messages.

One helper so that every error that names a wrong key, rule or type suggests
the same way: difflib's ratio, at least 0.6, closest first.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable

__all__ = ["suggestions"]


def suggestions(
    word: str, known: Iterable[str], *, n: int = 1, ignore_case: bool = False
) -> list[str]:
    """Up to `n` of `known` closest to `word`, closest first; empty when none is close.

    With `ignore_case`, a word that differs only in case (`Scale` for `scale`),
    which difflib rates as far, is suggested too.
    """
    choices = list(known)
    close = difflib.get_close_matches(word, choices, n=n, cutoff=0.6)
    if not close and ignore_case:
        lowered = {choice.lower(): choice for choice in choices}
        close = [lowered[word.lower()]] if word.lower() in lowered else []
    return close
