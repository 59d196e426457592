from django.urls import path

from analytics import ads_views, reconciliation_views, report_views, views

app_name = "analytics"
urlpatterns = [
    path("", views.sales, name="sales"),
    path("sales.csv", views.sales_csv, name="sales_csv"),
    path("profit/", report_views.profit, name="profit"),
    path("profit.<str:fmt>", report_views.profit_export, name="profit_export"),
    path("abc/", report_views.abc, name="abc"),
    path("abc.<str:fmt>", report_views.abc_export, name="abc_export"),
]
urlpatterns += [
    path("ads/", ads_views.ads, name="ads"),
    path("ads.<str:fmt>", ads_views.ads_export, name="ads_export"),
]
urlpatterns += [
    path("jobs/<int:pk>/", report_views.job, name="job"),
    path("jobs/<int:pk>/download/", report_views.job_download, name="job_download"),
]
urlpatterns += [
    path("reconciliation/", reconciliation_views.reconciliation_page, name="reconciliation"),
    path("reconciliation.<str:fmt>", reconciliation_views.reconciliation_export, name="reconciliation_export"),
    path("reconciliation/refresh/", reconciliation_views.reconciliation_refresh, name="reconciliation_refresh"),
]
