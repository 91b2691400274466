"""`python -m paaskit` is the `paaskit` command."""

import sys

from .cli import main

sys.exit(main())
