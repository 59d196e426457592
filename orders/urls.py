from django.urls import path

from orders import views

app_name = "orders"
urlpatterns = [path("", views.orders, name="list")]

from orders import fulfilment_views  # noqa: E402  (the shipping desk; appended so branches merge cleanly)

urlpatterns += [
    path("shipping/", fulfilment_views.shipping_desk, name="shipping"),
    path("shipping/act/", fulfilment_views.bulk_action, name="shipping_act"),
    path("shipping/labels/<str:token>.pdf", fulfilment_views.label_file, name="shipping_labels"),
]
