from django.urls import path

from integrations import views

urlpatterns = [
    path("settings/", views.settings_page, name="settings"),
    path("settings/accounts/new/", views.account_edit, name="account_add"),
    path("settings/accounts/<int:pk>/", views.account_edit, name="account_edit"),
]
