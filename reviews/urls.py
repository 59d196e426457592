from django.urls import path

from reviews import views

app_name = "reviews"
urlpatterns = [
    path("", views.reviews, name="list"),
    path("templates/", views.reply_templates_page, name="templates"),
    path("<str:kind>/<int:pk>/", views.item, name="item"),
    path("<str:kind>/<int:pk>/answer/", views.answer, name="answer"),
    path("<str:kind>/<int:pk>/state/", views.answer_state, name="state"),
    path("<str:kind>/<int:pk>/resend/", views.resend, name="resend"),
    path("bulk/preview/", views.bulk_preview, name="bulk_preview"),
    path("bulk/", views.bulk_answer, name="bulk"),
    path("alerts/<int:pk>/resolve/", views.resolve_alert, name="resolve_alert"),
]
