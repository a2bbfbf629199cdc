from django.urls import path

from podcasts import views

app_name = "podcasts"

urlpatterns = [
    path("podcasts", views.PodcastListCreateView.as_view(), name="list"),
    path("podcasts/<str:podcast_id>", views.PodcastDetailView.as_view(), name="detail"),
    path("podcasts/<str:podcast_id>/retry", views.PodcastRetryView.as_view(), name="retry"),
    path("podcasts/<str:podcast_id>/status", views.PodcastStatusView.as_view(), name="status"),
    path(
        "podcasts/<str:podcast_id>/transcript",
        views.PodcastTranscriptView.as_view(),
        name="transcript",
    ),
    path(
        "podcasts/<str:podcast_id>/download", views.PodcastDownloadView.as_view(), name="download"
    ),
    path("podcasts/<str:podcast_id>/script", views.PodcastScriptView.as_view(), name="script"),
    path(
        "podcasts/<str:podcast_id>/script/lines",
        views.PodcastScriptLinesView.as_view(),
        name="script-lines",
    ),
    path(
        "podcasts/<str:podcast_id>/script/lines/<str:line_id>",
        views.PodcastScriptLineView.as_view(),
        name="script-line",
    ),
    path("podcasts/<str:podcast_id>/render", views.PodcastRenderView.as_view(), name="render"),
    path("podcasts/<str:podcast_id>/events", views.PodcastEventsView.as_view(), name="events"),
    path("voices", views.VoiceListView.as_view(), name="voices"),
    path("media/<str:token>", views.AudioFileView.as_view(), name="audio-file"),
]
