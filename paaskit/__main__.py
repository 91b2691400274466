"""`python -m paaskit` is the `paaskit` command."""

import sys

from .cli import main

__all__: list[str] = []

sys.exit(main())
