"""Django's PostgreSQL backend with a connection pool that fails fast when the database is
away (settings DATABASE_POOL).

psycopg_pool never hands a connection error to the client: a request finding the pool empty
waits (up to the pool's timeout) while the pool retries connecting in the background with a
growing back-off. During an outage every request would then hang for the whole timeout
before its 503, and for a while after the database returns too. Here, while the pool's own
connection attempts are failing and no connection is ready, a request connects by itself
(outside the pool, closed at its end): it fails at once with the connection error (503
`database_unavailable`, as without a pool) and succeeds as soon as the database is back,
without waiting for the pool's next retry.
"""

from __future__ import annotations

from time import monotonic

from django.core.exceptions import ImproperlyConfigured
from django.db.backends.postgresql import base
from psycopg_pool import ConnectionPool, PoolTimeout

# Wait this long at a time for a pooled connection, then look again whether the pool's
# connection attempts have started failing meanwhile.
_WAIT_SLICE = 0.1


class FailFastConnectionPool(ConnectionPool):
    _failing = False  # the pool's last attempt to open a connection failed

    def _connect(self, timeout: float | None = None):
        try:
            conn = super()._connect(timeout)
        except Exception:
            self._failing = True
            raise
        self._failing = False
        return conn

    def getconn(self, timeout: float | None = None):
        deadline = monotonic() + (self.timeout if timeout is None else timeout)
        while True:
            if self._failing and not self._pool:
                return self._connect_unpooled()
            remaining = deadline - monotonic()
            try:
                return super().getconn(timeout=min(_WAIT_SLICE, remaining))
            except PoolTimeout:
                if monotonic() + 0.001 >= deadline:
                    raise PoolTimeout(f"no connection free after {self.timeout:.1f} s") from None

    def _connect_unpooled(self):
        # ConnectionPool._connect itself: the same settings and configure hook, but the
        # outcome does not count as the pool's (its back-off goes on undisturbed).
        conn = ConnectionPool._connect(self, self.timeout)
        conn._podnex_unpooled = True
        return conn

    def putconn(self, conn) -> None:
        if getattr(conn, "_podnex_unpooled", False):
            conn._pool = None
            conn.close()
            return
        super().putconn(conn)


class DatabaseWrapper(base.DatabaseWrapper):
    @property
    def pool(self):
        # django.db.backends.postgresql.base.DatabaseWrapper.pool, with the class above.
        pool_options = self.settings_dict["OPTIONS"].get("pool")
        if self.alias == base.NO_DB_ALIAS or not pool_options:
            return None
        if self.alias not in self._connection_pools:
            if self.settings_dict.get("CONN_MAX_AGE", 0) != 0:
                raise ImproperlyConfigured("Pooling doesn't support persistent connections.")
            if pool_options is True:
                pool_options = {}
            connect_kwargs = self.get_connection_params()
            connect_kwargs["autocommit"] = True  # Django sets it properly later on
            enable_checks = self.settings_dict["CONN_HEALTH_CHECKS"]
            pool = FailFastConnectionPool(
                kwargs=connect_kwargs,
                open=False,
                configure=self._configure_connection,
                check=ConnectionPool.check_connection if enable_checks else None,
                **pool_options,
            )
            self._connection_pools.setdefault(self.alias, pool)
        return self._connection_pools[self.alias]
