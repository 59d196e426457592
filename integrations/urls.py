from django.urls import path

from integrations import sync_views, views

urlpatterns = [
    path("settings/", views.settings_page, name="settings"),
    path("settings/accounts/new/", views.account_edit, name="account_add"),
    path("settings/accounts/<int:pk>/", views.account_edit, name="account_edit"),
    path("settings/accounts/<int:pk>/check/", views.account_check, name="account_check"),
    path("settings/accounts/<int:pk>/syncs/", sync_views.account_syncs, name="account_syncs"),
    path("settings/accounts/<int:pk>/syncs/now/", sync_views.account_sync_now, name="account_sync_now"),
]
