"""The Django admin is the staff dashboard: titles here; each app registers its models."""

from django.contrib import admin

admin.site.site_header = "PodNex staff"
admin.site.site_title = "PodNex staff"
admin.site.index_title = "Operations"
