"""The table of the database cache (podnex.cache_db), made by `migrate` on every database.

A stack without Redis keeps its cache there. Made whatever the cache setting of the process
that migrates: a database migrated by a process with REDIS_URL may later be served by one
without it (a test database, a Redis taken away), and that one must find its table.
"""

from django.core.management.commands.createcachetable import Command as CreateCacheTable
from django.db import migrations

TABLE = "podnex_cache"  # settings.CACHES' LOCATION without Redis


def cache_table_create(apps, schema_editor):
    # createcachetable's own table definition; it does nothing where the table exists.
    command = CreateCacheTable()
    command.verbosity = 0
    command.create_table(schema_editor.connection.alias, TABLE, dry_run=False)


def cache_table_drop(apps, schema_editor):
    schema_editor.execute(f"DROP TABLE IF EXISTS {schema_editor.quote_name(TABLE)}")


class Migration(migrations.Migration):
    dependencies = []
    operations = [migrations.RunPython(cache_table_create, cache_table_drop)]
