"""A Flask app whose dependencies Poetry locks."""

import os
import sys

from flask import Flask

app = Flask(__name__)


@app.get("/")
def index() -> dict[str, str]:
    return {
        "hello": "world",
        "python": sys.version.split()[0],
        "workers": os.environ.get("WEB_CONCURRENCY", ""),
    }
