"""A small Flask app: the paaskit quickstart example."""

import os

from flask import Flask, render_template_string

app = Flask(__name__, static_folder=None)

PAGE = """<!doctype html>
<title>Hello from paaskit</title>
<link rel="stylesheet" href="/static/style.css">
<h1>Hello from {{ app }}/{{ service }} on rack {{ rack }}</h1>
"""


@app.get("/")
def index() -> str:
    return render_template_string(
        PAGE,
        app=os.environ.get("APP", "?"),
        service=os.environ.get("SERVICE", "?"),
        rack=os.environ.get("RACK", "?"),
    )


@app.get("/health")
def health() -> tuple[str, int]:
    return "ok", 200
