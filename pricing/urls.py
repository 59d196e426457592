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
