"""Read queries of the staff API (/api/v1/admin) that grew past one-liners."""

from __future__ import annotations

from datetime import timedelta

from django.contrib.auth import get_user_model
from django.db.models import Count, Q, Sum
from django.utils import timezone

from billing.models import Subscription, SubscriptionPlan
from ops.metrics import queue_depth, status_counts, webhook_outcomes
from podcasts.models import Podcast, PodcastJob, PodcastStatus
from podnex.api.pagination import Page, paginate


def platform_stats() -> dict:
    now = timezone.now()
    day, month = now - timedelta(days=1), now - timedelta(days=30)
    users = get_user_model().objects
    completed = Podcast.objects.filter(status=PodcastStatus.COMPLETED)
    plans = dict(Subscription.objects.values_list("plan").annotate(n=Count("id")).order_by())
    jobs_day = PodcastJob.objects.filter(created_at__gte=day)
    return {
        "users": {
            "total": users.count(),
            "active": users.filter(is_active=True).count(),
            "newLast30Days": users.filter(created_at__gte=month).count(),
        },
        "podcasts": {
            "total": Podcast.visible.count(),
            "byStatus": status_counts(Podcast.visible.all()),
            "createdLast24Hours": Podcast.objects.filter(created_at__gte=day).count(),
            "audioMinutes": round((completed.aggregate(s=Sum("audio_duration"))["s"] or 0) / 60, 1),
        },
        "jobs": {
            "queueDepth": queue_depth(),
            "last24Hours": status_counts(jobs_day),
        },
        "subscriptions": {plan.lower(): plans.get(plan, 0) for plan in SubscriptionPlan.values},
        "webhookDeliveries": webhook_outcomes(),
        "generatedAt": now,
    }


def user_list(*, page: int, limit: int, search: str | None = None) -> Page:
    queryset = (
        get_user_model()
        .objects.select_related("subscription")
        .annotate(podcast_count=Count("podcasts", filter=Q(podcasts__deleted_at__isnull=True)))
    )
    if search:
        queryset = queryset.filter(
            Q(email__icontains=search) | Q(name__icontains=search) | Q(id=search)
        )
    return paginate(queryset.order_by("-created_at", "id"), page=page, limit=limit)


def job_list(*, page: int, limit: int, status: str | None = None) -> Page:
    queryset = PodcastJob.objects.select_related("podcast")
    if status:
        queryset = queryset.filter(status=status.upper())
    return paginate(queryset.order_by("-created_at", "id"), page=page, limit=limit)
