from django.urls import path

from catalog import exports, import_views, stock_views, views

app_name = "catalog"
urlpatterns = [path("", views.listings, name="listings")]

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
