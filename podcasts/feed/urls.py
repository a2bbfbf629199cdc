from django.urls import path

from podcasts.feed import views

app_name = "feed"

# Under /api/v1/.
urlpatterns = [
    path("feed", views.FeedView.as_view(), name="settings"),
    path("feed/rotate", views.FeedRotateView.as_view(), name="rotate"),
    path("feed/image", views.FeedImageView.as_view(), name="image"),
    path("feed/clips/<str:kind>", views.FeedClipView.as_view(), name="clip"),
    path(
        "podcasts/<str:podcast_id>/artwork",
        views.PodcastArtworkView.as_view(),
        name="artwork",
    ),
    path(
        "podcasts/<str:podcast_id>/chapters",
        views.PodcastChaptersView.as_view(),
        name="chapters",
    ),
]
