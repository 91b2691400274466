"""A shop front on its own domain: it shows the host it was asked for."""

from flask import Flask, request

app = Flask(__name__, static_folder=None)


@app.get("/")
def index() -> str:
    # CloudFront forwards the viewer's Host: the app sees shop.example.com, not the rack's.
    return f"<!doctype html><title>Shop</title><h1>Welcome to {request.host}</h1>"


@app.get("/health")
def health() -> tuple[str, int]:
    return "ok", 200
