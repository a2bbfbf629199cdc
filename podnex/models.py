"""Shared model building blocks."""

from django.db import models

from podnex.ids import ID_LENGTH, new_id


class IdField(models.CharField):
    """Primary key holding an opaque cuid2 string, never an enumerable integer."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("primary_key", True)
        kwargs.setdefault("default", new_id)
        kwargs.setdefault("editable", False)
        kwargs.setdefault("max_length", ID_LENGTH + 7)
        super().__init__(*args, **kwargs)

    def deconstruct(self):
        name, path, args, kwargs = super().deconstruct()
        path = "podnex.models.IdField"
        return name, path, args, kwargs
