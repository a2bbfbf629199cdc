from django.urls import path

from notifications import views

# Under /api/v1/.
urlpatterns = [
    path(
        "user/notifications",
        views.NotificationPreferencesView.as_view(),
        name="preferences",
    ),
]

# At the root: the links in the mails.
page_urlpatterns = [
    path("notifications/unsubscribe/<str:token>", views.unsubscribe, name="unsubscribe"),
]
