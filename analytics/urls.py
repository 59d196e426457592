from django.urls import path

from analytics import views

app_name = "analytics"
urlpatterns = [
    path("", views.sales, name="sales"),
    path("sales.csv", views.sales_csv, name="sales_csv"),
]
