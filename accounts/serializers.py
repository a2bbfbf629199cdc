from rest_framework import serializers

from accounts.models import User


class ProfileSerializer(serializers.ModelSerializer):
    emailVerified = serializers.BooleanField(source="email_verified", read_only=True)
    isStaff = serializers.BooleanField(source="is_staff", read_only=True)
    createdAt = serializers.DateTimeField(source="created_at", read_only=True)
    updatedAt = serializers.DateTimeField(source="updated_at", read_only=True)

    class Meta:
        model = User
        fields = [
            "id",
            "email",
            "name",
            "image",
            "emailVerified",
            "isStaff",
            "createdAt",
            "updatedAt",
        ]
        read_only_fields = ["id", "email"]


class ProfileUpdateSerializer(serializers.Serializer):
    name = serializers.CharField(required=False, allow_blank=True, max_length=200)
    image = serializers.URLField(required=False, allow_blank=True, max_length=500)
