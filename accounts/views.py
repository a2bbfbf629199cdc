"""/api/v1/user/profile."""

from drf_spectacular.utils import extend_schema
from rest_framework.views import APIView

from accounts.serializers import ProfileSerializer, ProfileUpdateSerializer
from accounts.services import user_profile_update
from billing.selectors import user_subscription_summary
from billing.serializers import SubscriptionSerializer
from podnex.api.responses import ErrorSerializer, envelope, ok


class ProfileView(APIView):
    @extend_schema(
        operation_id="user_profile_retrieve",
        responses={
            200: envelope(
                "ProfileResponse", user=ProfileSerializer(), subscription=SubscriptionSerializer()
            ),
            401: ErrorSerializer,
        },
    )
    def get(self, request):
        return ok(
            user=ProfileSerializer(request.user).data,
            subscription=user_subscription_summary(user=request.user),
        )

    @extend_schema(
        operation_id="user_profile_update",
        request=ProfileUpdateSerializer,
        responses={
            200: envelope("ProfileUpdatedResponse", user=ProfileSerializer()),
            400: ErrorSerializer,
            401: ErrorSerializer,
        },
    )
    def patch(self, request):
        serializer = ProfileUpdateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        user = user_profile_update(user=request.user, **serializer.validated_data)
        return ok(user=ProfileSerializer(user).data)
