from django.urls import path

from notifications import views

app_name = "notifications"

# At the root: the links in the mails.
urlpatterns = [
    path("notifications/unsubscribe/<str:token>", views.unsubscribe, name="unsubscribe"),
]
