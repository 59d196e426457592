from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView
from rest_framework.routers import DefaultRouter

from analytics.api import DiscrepancyViewSet, FinanceOperationViewSet, ReportJobViewSet
from catalog.api import ListingViewSet, ProductViewSet, StockLevelViewSet, WarehouseViewSet
from integrations.api import AccountViewSet, OutboxChangeViewSet, SyncRunViewSet
from orders.api import OrderViewSet, ReturnViewSet
from pricing.api import (
    CompetitorPriceViewSet,
    CostViewSet,
    PriceBatchViewSet,
    PriceChangeViewSet,
    PriceViewSet,
    PromotionViewSet,
    RepricingRuleViewSet,
    RepricingRunViewSet,
)
from reviews.api import AnswerViewSet, QuestionViewSet, ReplyTemplateViewSet, ReviewViewSet
from supply.api import ForecastViewSet, SupplierProductViewSet, SupplierViewSet

api = DefaultRouter()
api.include_root_view = False  # the schema and its docs page describe the API
api.register("accounts", AccountViewSet, basename="api-account")
api.register("reply-templates", ReplyTemplateViewSet, basename="api-reply-template")
api.register("products", ProductViewSet, basename="api-product")
api.register("listings", ListingViewSet, basename="api-listing")
api.register("warehouses", WarehouseViewSet, basename="api-warehouse")
api.register("stock-levels", StockLevelViewSet, basename="api-stock-level")
api.register("orders", OrderViewSet, basename="api-order")
api.register("returns", ReturnViewSet, basename="api-return")
api.register("reviews", ReviewViewSet, basename="api-review")
api.register("questions", QuestionViewSet, basename="api-question")
api.register("answers", AnswerViewSet, basename="api-answer")
api.register("prices", PriceViewSet, basename="api-price")
api.register("price-changes", PriceChangeViewSet, basename="api-price-change")
api.register("outbox-changes", OutboxChangeViewSet, basename="api-outbox-change")
api.register("repricing-rules", RepricingRuleViewSet, basename="api-repricing-rule")
api.register("promotions", PromotionViewSet, basename="api-promotion")
api.register("costs", CostViewSet, basename="api-cost")
api.register("sync-runs", SyncRunViewSet, basename="api-sync-run")
api.register("finance-operations", FinanceOperationViewSet, basename="api-finance-operation")
api.register("discrepancies", DiscrepancyViewSet, basename="api-discrepancy")
api.register("report-jobs", ReportJobViewSet, basename="api-report-job")
api.register("suppliers", SupplierViewSet, basename="api-supplier")
api.register("supplier-products", SupplierProductViewSet, basename="api-supplier-product")
api.register("forecasts", ForecastViewSet, basename="api-forecast")
api.register("price-batches", PriceBatchViewSet, basename="api-price-batch")
api.register("repricing-runs", RepricingRunViewSet, basename="api-repricing-run")
api.register("competitor-prices", CompetitorPriceViewSet, basename="api-competitor-price")

urlpatterns = [
    path("", include("dashboard.urls")),
    path("", include("integrations.urls")),
    path("", include("core.urls")),
    path("catalog/", include("catalog.urls")),
    path("orders/", include("orders.urls")),
    path("prices/", include("pricing.urls")),
    path("reviews/", include("reviews.urls")),
    path("analytics/", include("analytics.urls")),
    path("notifications/", include("notifications.urls")),
    path("supply/", include("supply.urls")),
    path("login/", auth_views.LoginView.as_view(redirect_authenticated_user=True), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("i18n/", include("django.conf.urls.i18n")),
    path("api/v1/schema/", SpectacularAPIView.as_view(), name="api-schema"),
    # The split view serves Swagger UI's start-up code as a script file, not inline: the CSP allows no inline code.
    path("api/v1/docs/", SpectacularSwaggerSplitView.as_view(url_name="api-schema"), name="api-docs"),
    path("api/v1/", include(api.urls)),
    path("admin/", admin.site.urls),
]

handler500 = "core.views.server_error"
