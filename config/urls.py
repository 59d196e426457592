from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path
from rest_framework.routers import DefaultRouter

from integrations.api import AccountViewSet
from reviews.api import ReplyTemplateViewSet

api = DefaultRouter()
api.register("accounts", AccountViewSet, basename="api-account")
api.register("reply-templates", ReplyTemplateViewSet, basename="api-reply-template")

urlpatterns = [
    path("", include("dashboard.urls")),
    path("", include("integrations.urls")),
    path("", include("core.urls")),
    path("catalog/", include("catalog.urls")),
    path("orders/", include("orders.urls")),
    path("prices/", include("pricing.urls")),
    path("reviews/", include("reviews.urls")),
    path("analytics/", include("analytics.urls")),
    path("notifications/", include("notifications.urls")),
    path("supply/", include("supply.urls")),
    path("login/", auth_views.LoginView.as_view(redirect_authenticated_user=True), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("i18n/", include("django.conf.urls.i18n")),
    path("api/v1/", include(api.urls)),
    path("admin/", admin.site.urls),
]

handler500 = "core.views.server_error"
