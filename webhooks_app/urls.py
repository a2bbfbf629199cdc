from django.urls import path

from webhooks_app import views

app_name = "webhooks"

urlpatterns = [
    path("webhooks", views.WebhookListCreateView.as_view(), name="list"),
    path("webhooks/signing-secret", views.SigningSecretView.as_view(), name="signing-secret"),
    path(
        "webhooks/signing-secret/rotate",
        views.SigningSecretRotateView.as_view(),
        name="signing-secret-rotate",
    ),
    path("webhooks/<str:webhook_id>", views.WebhookDetailView.as_view(), name="detail"),
    path(
        "webhooks/<str:webhook_id>/deliveries",
        views.WebhookDeliveryListView.as_view(),
        name="deliveries",
    ),
    path("webhooks/<str:webhook_id>/test", views.WebhookTestView.as_view(), name="test"),
    path(
        "webhooks/<str:webhook_id>/rotate-secret",
        views.WebhookRotateSecretView.as_view(),
        name="rotate-secret",
    ),
]
