from django.urls import path

from billing import views

app_name = "billing"

urlpatterns = [
    path("user/subscription", views.SubscriptionView.as_view(), name="subscription"),
    path(
        "user/subscription/upgrade",
        views.SubscriptionUpgradeView.as_view(),
        name="subscription-upgrade",
    ),
    path("user/usage", views.UsageView.as_view(), name="usage"),
    path("billing/checkout", views.CheckoutView.as_view(), name="checkout"),
    path("billing/portal", views.PortalView.as_view(), name="portal"),
    path("billing/webhooks", views.DodoWebhookView.as_view(), name="webhooks"),
]
