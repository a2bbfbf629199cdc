from django.urls import path

from apikeys import views

app_name = "apikeys"

urlpatterns = [
    path("api-keys", views.ApiKeyListCreateView.as_view(), name="list"),
    path("api-keys/<str:api_key_id>", views.ApiKeyDetailView.as_view(), name="detail"),
]
