"""Operations routes outside /api/v1: health checks and metrics (the staff API is ops.staff)."""

from django.urls import path

from ops import health, metrics

urlpatterns = [
    path("api/health", health.health, name="health"),
    path("api/health/db", health.health_db, name="health-db"),
    path("api/health/redis", health.health_redis, name="health-redis"),
    path("api/health/s3", health.health_s3, name="health-s3"),
    path("metrics", metrics.metrics_view, name="metrics"),
]
