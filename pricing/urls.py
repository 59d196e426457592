from django.urls import path

from pricing import economics_views, views

app_name = "pricing"
urlpatterns = [
    path("", views.prices, name="prices"),
    path("economics/<int:listing_id>/", economics_views.card_economics_view, name="card_economics"),
]
