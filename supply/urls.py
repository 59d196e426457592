from django.urls import path

from supply import views

app_name = "supply"
urlpatterns = [
    path("", views.forecast, name="forecast"),
    path("products/<int:product_id>/cards/", views.product_cards, name="product_cards"),
    path("order-list.<str:fmt>", views.order_list, name="order_list"),
    path("suppliers/", views.suppliers, name="suppliers"),
    path("suppliers/new/", views.supplier_detail, name="supplier_add"),
    path("suppliers/<int:pk>/", views.supplier_detail, name="supplier"),
    path("suppliers/<int:pk>/products/", views.supplier_product, name="supplier_product"),
    path(
        "suppliers/<int:pk>/products/<int:term_id>/remove/",
        views.supplier_product_remove,
        name="supplier_product_remove",
    ),
]
