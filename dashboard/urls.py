from django.urls import path

from dashboard import views

urlpatterns = [
    path("", views.overview_page, name="overview"),
]
