from django.urls import path

from core import views

urlpatterns = [
    path("", views.overview, name="overview"),
    path("settings/", views.settings_page, name="settings"),
    path("settings/accounts/new/", views.account_edit, name="account_add"),
    path("settings/accounts/<int:pk>/", views.account_edit, name="account_edit"),
    path("settings/users/<int:pk>/role/", views.user_role, name="user_role"),
    path("health", views.health, name="health"),
]
