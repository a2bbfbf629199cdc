from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

from podnex import health, metrics, staff, views

api_v1 = [
    path("", include("podcasts.urls")),
    path("", include("accounts.urls")),
    path("", include((staff.urlpatterns, "staff"))),
    path("", include("apikeys.urls")),
    path("", include("billing.urls")),
    path("", include("webhooks_app.urls")),
]

urlpatterns = [
    path("", views.home, name="home"),
    path("admin/", admin.site.urls),
    # Ours first: password reset by key, counted against the login lockout (accounts.lockout).
    path("api/auth/", include("accounts.auth_urls")),
    path("api/auth/", include("allauth.headless.urls")),
    path("api/v1/", include(api_v1)),
    path("api/health", health.health, name="health"),
    path("api/health/db", health.health_db, name="health-db"),
    path("api/health/redis", health.health_redis, name="health-redis"),
    path("api/health/s3", health.health_s3, name="health-s3"),
    path("metrics", metrics.metrics_view, name="metrics"),
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    path("api/docs/", SpectacularSwaggerView.as_view(url_name="schema"), name="docs"),
]

handler400 = "podnex.api.errors.handler400"
handler403 = "podnex.api.errors.handler403"
handler404 = "podnex.api.errors.handler404"
handler500 = "podnex.api.errors.handler500"
