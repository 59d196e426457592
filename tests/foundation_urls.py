"""The project's URLs plus a view that fails, to test what an error page shows."""

from django.http import HttpRequest, HttpResponse
from django.urls import path

from config.urls import handler500
from config.urls import urlpatterns as project_urlpatterns

BOOM_SECRET = "CANARY-boom-4c1d-do-not-render"


def boom(request: HttpRequest) -> HttpResponse:
    api_key = BOOM_SECRET  # a local variable a technical 500 page would print
    raise RuntimeError(f"upstream refused key {api_key}")


urlpatterns = [*project_urlpatterns, path("boom/", boom)]
__all__ = ["handler500", "urlpatterns"]
