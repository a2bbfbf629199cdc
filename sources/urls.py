from django.urls import path

from sources import views

app_name = "sources"

urlpatterns = [
    path("sources", views.SourceListCreateView.as_view(), name="list"),
    path("sources/<str:source_id>", views.SourceDetailView.as_view(), name="detail"),
    path("sources/<str:source_id>/text", views.SourceTextView.as_view(), name="text"),
]
