"""paaskit's exceptions: one base class, so `except PaaskitError` catches whatever paaskit raises.

Every exception of the library derives from `PaaskitError` and keeps the
built-in base it had (`ValueError` for a wrong setting, `LookupError` for a
missing record), so existing `except ValueError` clauses still catch them.

The code that runs inside AWS Lambda (`paaskit.spot`, `paaskit.release`) is
shipped without the rest of paaskit and raises its own exceptions, which stay
outside this hierarchy; nothing outside Lambda ever sees them.
"""

from __future__ import annotations

__all__ = ["ConfigError", "PaaskitError"]


class PaaskitError(Exception):
    """Base of every exception paaskit raises outside AWS Lambda."""


class ConfigError(PaaskitError, ValueError):
    """A setting is wrong. The message names the key, the value and what is allowed."""
