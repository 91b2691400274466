"""URLs: a home page and a health check that also touches the database."""

from django.db import connection
from django.http import HttpRequest, HttpResponse
from django.urls import path


def home(request: HttpRequest) -> HttpResponse:
    return HttpResponse(
        '<link rel="stylesheet" href="/static/css/site.css"><h1>Django on paaskit</h1>'
    )


def healthz(request: HttpRequest) -> HttpResponse:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
    return HttpResponse("ok")


urlpatterns = [path("", home), path("healthz", healthz)]
