"""The root URLconf: it names each app's routes (by module path, so that the ground floor
imports no app)."""

from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

from podnex import views

api_v1 = [
    path("", include("podcasts.urls")),
    path("", include("podcasts.feed.urls")),
    path("", include("accounts.urls")),
    path("", include(("ops.staff", "staff"))),
    path("", include("apikeys.urls")),
    path("", include("billing.urls")),
    path("", include("webhooks_app.urls")),
    path("", include("notifications.urls")),
    path("", include("sources.urls")),
]

urlpatterns = [
    path("", views.home, name="home"),
    # Links of allauth's e-mails (HEADLESS_FRONTEND_URLS): the studio page finishes them.
    path("account/verify-email/<str:key>", views.home, name="verify-email"),
    path("account/password/reset/key/<str:key>", views.home, name="reset-password"),
    path("account/signup", views.home, name="signup"),
    path("admin/", admin.site.urls),
    path("", include("notifications.page_urls")),
    path("feeds/", include("podcasts.feed.public_urls")),
    # Ours first: password reset by key, counted against the login lockout (accounts.lockout).
    path("api/auth/", include("accounts.auth_urls")),
    path("api/auth/", include("allauth.headless.urls")),
    path("api/v1/", include(api_v1)),
    path("", include("ops.urls")),
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    path("api/docs/", SpectacularSwaggerView.as_view(url_name="schema"), name="docs"),
]

handler400 = "podnex.api.handlers.handler400"
handler403 = "podnex.api.handlers.handler403"
handler404 = "podnex.api.handlers.handler404"
handler500 = "podnex.api.handlers.handler500"
