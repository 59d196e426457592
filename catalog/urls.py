from django.urls import path

from catalog import exports, import_views, stock_views, views

app_name = "catalog"
urlpatterns = [
    path("", views.listings, name="listings"),
    path("products/", views.products, name="products"),
    path("products/bulk/", views.products_bulk, name="products_bulk"),
    path("products/<int:pk>/", views.product_detail, name="product"),
    path("products/<int:pk>/link/", views.product_link_card, name="product_link_card"),
    path("cards/<int:pk>/", views.card_detail, name="card"),
    path("cards/<int:pk>/content/", views.card_content, name="card_content"),
    path("cards/<int:pk>/media/", views.card_media, name="card_media"),
    path("cards/<int:pk>/results/", views.card_results, name="card_results"),
    path("cards/<int:pk>/unlink/", views.card_unlink, name="card_unlink"),
    path("cards/<int:pk>/link/", views.card_link_product, name="card_link_product"),
    path("changes/<int:pk>/retry/", views.change_retry, name="change_retry"),
]

# Stock, and Excel/CSV in and out.
urlpatterns += [
    path("stock/", stock_views.stock, name="stock"),
    path("stock/<int:level_id>/set/", stock_views.stock_set, name="stock_set"),
    path("stock/changes/<int:change_id>/", stock_views.stock_change, name="stock_change"),
    path("stock/changes/<int:change_id>/retry/", stock_views.stock_retry, name="stock_retry"),
    path("export/<str:kind>.<str:fmt>", exports.export, name="export"),
    path("import/", import_views.upload, name="import"),
    path("import/confirm/", import_views.confirm, name="import_confirm"),
]
