from django.urls import path

from notifications import views

app_name = "notifications_api"

# Under /api/v1/.
urlpatterns = [
    path("user/notifications", views.NotificationPreferencesView.as_view(), name="preferences"),
]
