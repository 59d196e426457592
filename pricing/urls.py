from django.urls import path

from pricing import economics_views, promotion_views, risk_views, views

app_name = "pricing"
urlpatterns = [
    path("", views.prices, name="prices"),
    path("economics/<int:listing_id>/", economics_views.card_economics_view, name="card_economics"),
    path("promotions/", promotion_views.promotion_list, name="promotions"),
    path("promotions/<int:pk>/", promotion_views.promotion_detail, name="promotion"),
    path("promotions/<int:pk>/results/", promotion_views.promotion_results, name="promotion_results"),
    path("promotions/<int:pk>/join/", promotion_views.promotion_join, name="promotion_join"),
    path("promotions/<int:pk>/leave/", promotion_views.promotion_leave, name="promotion_leave"),
    path("promotions/changes/<int:pk>/retry/", promotion_views.promotion_change_retry, name="promotion_retry"),
    path("risk/", risk_views.risk_list, name="risk"),
    path("risk/refresh/", risk_views.risk_refresh, name="risk_refresh"),
    path("risk/<int:pk>/confirm-price/", risk_views.risk_confirm_quarantine, name="risk_confirm"),
    path("risk/<int:pk>/leave-promotion/", risk_views.risk_leave_promotion, name="risk_leave"),
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

# Repricing rules, their runs and competitor prices (pricing/repricing_views.py).
from pricing import repricing_views  # noqa: E402  (own block: merges cleanly with other additions)

urlpatterns += [
    path("rules/", repricing_views.rule_list, name="rules"),
    path("rules/new/", repricing_views.rule_form, name="rule_add"),
    path("rules/preview/", repricing_views.preview_all, name="rules_preview"),
    path("rules/run/", repricing_views.run_all, name="rules_run"),
    path("rules/<int:pk>/", repricing_views.rule_form, name="rule"),
    path("rules/<int:pk>/delete/", repricing_views.rule_delete, name="rule_delete"),
    path("rules/<int:pk>/preview/", repricing_views.rule_preview, name="rule_preview"),
    path("rules/<int:pk>/run/", repricing_views.rule_run, name="rule_run"),
    path("rules/runs/", repricing_views.run_list, name="repricing_runs"),
    path("rules/runs/<int:pk>/", repricing_views.run_detail, name="repricing_run"),
    path("rules/competitors/", repricing_views.competitor_list, name="competitors"),
    path("rules/competitors/import/", repricing_views.competitor_import, name="competitor_import"),
    path("rules/competitors/<int:pk>/", repricing_views.competitor_edit, name="competitor"),
    path("rules/competitors/<int:pk>/delete/", repricing_views.competitor_delete, name="competitor_delete"),
]
