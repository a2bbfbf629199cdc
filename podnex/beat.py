"""django-celery-beat glue: the declared schedule (ops/schedules.py) becomes editable rows."""

from __future__ import annotations

from django.db import transaction
from django_celery_beat.models import PeriodicTask
from django_celery_beat.schedulers import DatabaseScheduler, ModelEntry

from podnex.celery import app as celery_app


def schedules_register(mapping: dict[str, dict] | None = None) -> list[str]:
    """Create the PeriodicTask rows that do not exist yet; return their names. Existing rows
    are left alone: they are the staff's to edit."""
    mapping = celery_app.conf.beat_schedule if mapping is None else mapping
    created = []
    for name, entry in mapping.items():
        if PeriodicTask.objects.filter(name=name).exists():
            continue
        with transaction.atomic():
            # Two processes starting at once (beat and a migrate) may both get here.
            _, was_created = PeriodicTask.objects.get_or_create(
                name=name, defaults=ModelEntry._unpack_fields(**entry)
            )
        if was_created:
            created.append(name)
    return created


def schedules_on_post_migrate(sender, **kwargs) -> None:
    schedules_register()


class Scheduler(DatabaseScheduler):
    """DatabaseScheduler that adds the declared entries but never overwrites edited ones
    (the stock one rewrites every row from the declared schedule at each start)."""

    def update_from_dict(self, mapping):
        schedules_register(mapping)
        entries = {}
        for model in PeriodicTask.objects.filter(name__in=list(mapping), enabled=True):
            try:
                entries[model.name] = self.Entry(model, app=self.app)
            except ValueError:
                pass
        self.schedule.update(entries)
