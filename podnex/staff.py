"""/api/v1/admin: platform statistics, users and the job queue, for staff sessions only.

A staff member signed in (browser session or app session token) may read these; anyone
else gets 403, and so does a request made with an API key even if its owner is staff: keys
are for programmatic access to one's own podcasts, not for the back office.
"""

from __future__ import annotations

from datetime import timedelta

from django.contrib.auth import get_user_model
from django.db.models import Count, Q, Sum
from django.urls import path
from django.utils import timezone
from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.permissions import BasePermission, IsAuthenticated
from rest_framework.views import APIView

from apikeys.permissions import ApiKeyScopePermission
from podnex.api.fields import StrictCharField
from podnex.api.pagination import PageQuerySerializer, PaginationSerializer, paginate
from podnex.api.responses import ErrorSerializer, envelope, ok

ERRORS = {400: ErrorSerializer, 401: ErrorSerializer, 403: ErrorSerializer}


def _is_api_key(auth) -> bool:
    try:
        from apikeys.models import ApiKey
    except ImportError:  # pragma: no cover
        return False
    return isinstance(auth, ApiKey)


class IsStaffSession(BasePermission):
    message = "Staff only"

    def has_permission(self, request, view) -> bool:
        user = request.user
        return bool(
            user
            and user.is_authenticated
            and user.is_active
            and user.is_staff
            and not _is_api_key(request.auth)
        )


class StaffView(APIView):
    # ApiKeyScopePermission refuses every API key here (these views declare no scope) with
    # 403 api_key_not_allowed; IsStaffSession refuses everyone who is not staff.
    permission_classes = [IsAuthenticated, ApiKeyScopePermission, IsStaffSession]


def _valid(serializer_class, data) -> dict:
    serializer = serializer_class(data=data)
    serializer.is_valid(raise_exception=True)
    return serializer.validated_data


# --- Selectors ---------------------------------------------------------------------------


def _by_status(queryset) -> dict[str, int]:
    from podcasts.models import PodcastStatus

    counts = dict(queryset.values_list("status").annotate(n=Count("id")).order_by())
    return {status.lower(): counts.get(status, 0) for status in PodcastStatus.values}


def platform_stats() -> dict:
    from billing.models import Subscription, SubscriptionPlan
    from podcasts.models import Podcast, PodcastJob, PodcastStatus
    from podnex.metrics import queue_depth
    from webhooks_app.models import Webhook

    now = timezone.now()
    day, month = now - timedelta(days=1), now - timedelta(days=30)
    users = get_user_model().objects
    completed = Podcast.objects.filter(status=PodcastStatus.COMPLETED)
    plans = dict(Subscription.objects.values_list("plan").annotate(n=Count("id")).order_by())
    webhooks = Webhook.objects.aggregate(ok=Sum("success_count"), failed=Sum("failure_count"))
    jobs_day = PodcastJob.objects.filter(created_at__gte=day)
    return {
        "users": {
            "total": users.count(),
            "active": users.filter(is_active=True).count(),
            "newLast30Days": users.filter(created_at__gte=month).count(),
        },
        "podcasts": {
            "total": Podcast.visible.count(),
            "byStatus": _by_status(Podcast.visible.all()),
            "createdLast24Hours": Podcast.objects.filter(created_at__gte=day).count(),
            "audioMinutes": round((completed.aggregate(s=Sum("audio_duration"))["s"] or 0) / 60, 1),
        },
        "jobs": {
            "queueDepth": queue_depth(),
            "last24Hours": _by_status(jobs_day),
        },
        "subscriptions": {plan.lower(): plans.get(plan, 0) for plan in SubscriptionPlan.values},
        "webhookDeliveries": {"success": webhooks["ok"] or 0, "failure": webhooks["failed"] or 0},
        "generatedAt": now,
    }


def user_list(*, page: int, limit: int, search: str | None = None):
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


def job_list(*, page: int, limit: int, status: str | None = None):
    from podcasts.models import PodcastJob

    queryset = PodcastJob.objects.select_related("podcast")
    if status:
        queryset = queryset.filter(status=status.upper())
    return paginate(queryset.order_by("-created_at", "id"), page=page, limit=limit)


# --- Serializers ---------------------------------------------------------------------------


class StaffUserSerializer(serializers.Serializer):
    id = serializers.CharField()
    email = serializers.EmailField()
    name = serializers.CharField()
    isActive = serializers.BooleanField(source="is_active")
    isStaff = serializers.BooleanField(source="is_staff")
    plan = serializers.SerializerMethodField()
    podcastCount = serializers.IntegerField(source="podcast_count")
    createdAt = serializers.DateTimeField(source="created_at")
    lastLogin = serializers.DateTimeField(source="last_login", allow_null=True)

    def get_plan(self, user) -> str | None:
        subscription = getattr(user, "subscription", None)
        return subscription.plan.lower() if subscription else None


class StaffJobSerializer(serializers.Serializer):
    jobId = serializers.CharField(source="job_id")
    podcastId = serializers.CharField(source="podcast_id")
    userId = serializers.CharField(source="podcast.user_id")
    status = serializers.SerializerMethodField()
    progress = serializers.IntegerField()
    currentStep = serializers.CharField(source="current_step", allow_null=True)
    attempts = serializers.IntegerField()
    error = serializers.CharField(allow_null=True)
    createdAt = serializers.DateTimeField(source="created_at")
    startedAt = serializers.DateTimeField(source="started_at", allow_null=True)
    completedAt = serializers.DateTimeField(source="completed_at", allow_null=True)

    def get_status(self, job) -> str:
        return job.status.lower()


class UserQuerySerializer(PageQuerySerializer):
    search = StrictCharField(required=False, allow_blank=True, max_length=200)


class JobQuerySerializer(PageQuerySerializer):
    status = serializers.ChoiceField(
        required=False,
        choices=["queued", "processing", "completed", "failed", "cancelled"],
    )


# --- Views ---------------------------------------------------------------------------------


class StatsView(StaffView):
    @extend_schema(
        operation_id="admin_stats",
        responses={200: envelope("AdminStats", stats=serializers.DictField()), **ERRORS},
    )
    def get(self, request):
        return ok(stats=platform_stats())


class UsersView(StaffView):
    @extend_schema(
        operation_id="admin_users",
        parameters=[UserQuerySerializer],
        responses={
            200: envelope(
                "AdminUsers",
                users=StaffUserSerializer(many=True),
                pagination=PaginationSerializer(),
            ),
            **ERRORS,
        },
    )
    def get(self, request):
        query = _valid(UserQuerySerializer, request.query_params)
        page = user_list(
            page=query["page"], limit=query["limit"], search=query.get("search") or None
        )
        return ok(users=StaffUserSerializer(page.items, many=True).data, pagination=page.meta())


class JobsView(StaffView):
    @extend_schema(
        operation_id="admin_jobs",
        parameters=[JobQuerySerializer],
        responses={
            200: envelope(
                "AdminJobs",
                queueDepth=serializers.IntegerField(
                    allow_null=True, help_text="messages waiting in the broker"
                ),
                counts=serializers.DictField(child=serializers.IntegerField()),
                jobs=StaffJobSerializer(many=True),
                pagination=PaginationSerializer(),
            ),
            **ERRORS,
        },
    )
    def get(self, request):
        from podcasts.models import PodcastJob
        from podnex.metrics import queue_depth

        query = _valid(JobQuerySerializer, request.query_params)
        page = job_list(page=query["page"], limit=query["limit"], status=query.get("status"))
        return ok(
            queueDepth=queue_depth(),
            counts=_by_status(PodcastJob.objects.all()),
            jobs=StaffJobSerializer(page.items, many=True).data,
            pagination=page.meta(),
        )


urlpatterns = [
    path("admin/stats", StatsView.as_view(), name="admin-stats"),
    path("admin/users", UsersView.as_view(), name="admin-users"),
    path("admin/jobs", JobsView.as_view(), name="admin-jobs"),
]
