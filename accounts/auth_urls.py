"""Routes under /api/auth/ that PodNex serves in front of allauth's own (same paths)."""

from django.urls import path

from accounts.views import LockedResetPasswordView

urlpatterns = [
    path(
        f"{client}/v1/auth/password/reset",
        LockedResetPasswordView.as_api_view(client=client),
        name=f"{client}-reset-password",
    )
    for client in ("browser", "app")
]
