from django.http import HttpRequest, HttpResponse
from django.templatetags.static import static
from django.urls import path


def index(request: HttpRequest) -> HttpResponse:
    # static() reads the manifest collectstatic writes: without it, this page is a 500.
    return HttpResponse(f'<link rel="stylesheet" href="{static("site.css")}"><h1>Hello</h1>')


urlpatterns = [path("", index)]
