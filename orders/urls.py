from django.urls import path

from orders import fulfilment_views, views

app_name = "orders"
urlpatterns = [
    path("", views.orders, name="list"),
    path("<int:pk>/", views.order_detail, name="detail"),
    path("export.<str:fmt>", views.orders_export, name="export"),
    path("views/", views.view_save, name="view_save"),
    path("views/<int:pk>/delete/", views.view_delete, name="view_delete"),
    path("returns/", views.returns, name="returns"),
    path("returns/reasons/", views.returns_reasons, name="returns_reasons"),
    path("returns/export.<str:fmt>", views.returns_export, name="returns_export"),
    # The shipping desk and the FBS/DBS actions (orders/fulfilment_views.py).
    path("shipping/", fulfilment_views.shipping_desk, name="shipping"),
    path("shipping/act/", fulfilment_views.bulk_action, name="shipping_act"),
    path("shipping/labels/<str:token>.pdf", fulfilment_views.label_file, name="shipping_labels"),
]
