"""The cache of a stack without Redis: Django's DatabaseCache, with an atomic `incr`.

Every process (two web processes, the worker, beat) shares the database, so rate-limit
counters and API key usage counts kept here are one count per client for the whole stack.
Django's `incr` is a read followed by a write; two processes incrementing one counter at
once would both write the same value. Here the read and the write happen in one
transaction that holds the row (SQLite: our settings begin every transaction IMMEDIATE, which
takes the database's write lock; PostgreSQL: SELECT ... FOR UPDATE).
"""

from __future__ import annotations

from django.core.cache.backends.db import DatabaseCache as DjangoDatabaseCache
from django.db import connections, router, transaction


class DatabaseCache(DjangoDatabaseCache):
    def incr(self, key, delta=1, version=None):
        db = router.db_for_write(self.cache_model_class)
        connection = connections[db]
        with transaction.atomic(using=db):
            if connection.vendor != "sqlite":
                table = connection.ops.quote_name(self._table)
                with connection.cursor() as cursor:
                    cursor.execute(
                        f"SELECT cache_key FROM {table} WHERE cache_key = %s FOR UPDATE",
                        [self.make_and_validate_key(key, version=version)],
                    )
            return super().incr(key, delta, version=version)
