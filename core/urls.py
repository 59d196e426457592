from django.urls import path

from core import audit_views, token_views, user_views, views

urlpatterns = [
    path("settings/users/new/", user_views.user_add, name="user_add"),
    path("settings/users/<int:pk>/role/", views.user_role, name="user_role"),
    path("settings/users/<int:pk>/active/", user_views.user_active, name="user_active"),
    path("settings/users/<int:pk>/password/", user_views.user_password, name="user_password"),
    path("settings/audit/", audit_views.audit_list, name="audit"),
    path("settings/tokens/", token_views.token_list, name="tokens"),
    path("settings/tokens/<int:pk>/revoke/", token_views.token_revoke_view, name="token_revoke"),
    path("settings/audit.csv", audit_views.audit_export, name="audit_export"),
    path("health", views.health, name="health"),
]
