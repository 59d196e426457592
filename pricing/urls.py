from django.urls import path

from pricing import economics_views, views

app_name = "pricing"
urlpatterns = [
    path("", views.prices, name="prices"),
    path("economics/<int:listing_id>/", economics_views.card_economics_view, name="card_economics"),
]

# The price editor, batches and the price history (pricing/editor_views.py).
from pricing import editor_views  # noqa: E402  (own block: merges cleanly with other additions)

urlpatterns += [
    path("editor/product/<int:product_id>/", editor_views.product_editor, name="product_editor"),
    path("editor/bulk/", editor_views.bulk_change, name="bulk_change"),
    path("editor/file/", editor_views.file_change, name="file_change"),
    path("editor/batches/new/", editor_views.create_batch, name="create_batch"),
    path("history/", editor_views.batch_list, name="batches"),
    path("history/<int:batch_id>/", editor_views.batch_detail, name="batch"),
    path("history/<int:batch_id>/rollback/", editor_views.rollback, name="batch_rollback"),
    path("history/<int:batch_id>/cancel/", editor_views.cancel, name="batch_cancel"),
    path("history/items/<int:item_id>/retry/", editor_views.retry, name="item_retry"),
    path("history/card/<int:listing_id>/", editor_views.card_history, name="card_history"),
]
