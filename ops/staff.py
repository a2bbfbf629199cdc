"""/api/v1/admin: platform statistics, users and the job queue, for staff sessions only.

A staff member signed in (browser session or app session token) may read these; anyone
else gets 403, and so does a request made with an API key even if its owner is staff: keys
are for programmatic access to one's own podcasts, not for the back office.
"""

from __future__ import annotations

from django.urls import path
from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.permissions import BasePermission, IsAuthenticated
from rest_framework.views import APIView

from apikeys.models import ApiKey
from apikeys.permissions import ApiKeyScopePermission
from ops.metrics import queue_depth, status_counts
from ops.selectors import job_list, platform_stats, user_list
from podcasts.models import PodcastJob
from podnex.api.fields import StrictCharField
from podnex.api.pagination import PageQuerySerializer, PaginationSerializer
from podnex.api.responses import ErrorSerializer, envelope, ok

ERRORS = {400: ErrorSerializer, 401: ErrorSerializer, 403: ErrorSerializer}


def _is_api_key(auth) -> bool:
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
    allow_api_keys = False


def _valid(serializer_class, data) -> dict:
    serializer = serializer_class(data=data)
    serializer.is_valid(raise_exception=True)
    return serializer.validated_data


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
        query = _valid(JobQuerySerializer, request.query_params)
        page = job_list(page=query["page"], limit=query["limit"], status=query.get("status"))
        return ok(
            queueDepth=queue_depth(),
            counts=status_counts(PodcastJob.objects.all()),
            jobs=StaffJobSerializer(page.items, many=True).data,
            pagination=page.meta(),
        )


# Included under /api/v1/ by podnex.urls.
urlpatterns = [
    path("admin/stats", StatsView.as_view(), name="admin-stats"),
    path("admin/users", UsersView.as_view(), name="admin-users"),
    path("admin/jobs", JobsView.as_view(), name="admin-jobs"),
]
