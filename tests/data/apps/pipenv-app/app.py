"""A Bottle app whose dependencies pipenv locks."""

import os
import sys

import bottle


@bottle.get("/")
def index() -> dict[str, str]:
    return {"hello": "world", "python": sys.version.split()[0]}


if __name__ == "__main__":
    bottle.run(host="0.0.0.0", port=int(os.environ["PORT"]), quiet=True)
