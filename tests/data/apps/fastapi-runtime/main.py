"""A FastAPI app pinned to an old Python patch in runtime.txt."""

import sys

from fastapi import FastAPI

app = FastAPI()


@app.get("/")
def index() -> dict[str, str]:
    return {"hello": "world", "python": sys.version.split()[0]}
