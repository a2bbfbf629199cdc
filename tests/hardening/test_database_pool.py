"""The PostgreSQL connection pool (settings DATABASE_POOL): requests reuse connections, and
while the database is away a request fails with the connection error at once instead of
queueing for the pool's timeout behind its reconnection back-off."""

from __future__ import annotations

import psycopg
import pytest
from django.db import connection
from psycopg_pool import PoolTimeout

from podnex.backends.postgresql.base import FailFastConnectionPool
from tests.hardening.servers import TcpProxy


@pytest.fixture
def proxied_pool(postgres):
    db = connection.settings_dict
    proxy = TcpProxy(db.get("HOST") or "127.0.0.1", int(db.get("PORT") or 5432))
    kwargs = {**connection.get_connection_params(), "autocommit": True}
    kwargs.update(host="127.0.0.1", port=proxy.port)
    # A long timeout: a pool that waited for it instead of failing fast would stall the test
    # and end in PoolTimeout, which the assertions tell apart from a connection error.
    pool = FailFastConnectionPool(kwargs=kwargs, min_size=0, max_size=2, timeout=30, open=True)
    yield proxy, pool
    pool.close()
    proxy.close()


def query_one(pool) -> int:
    conn = pool.getconn()
    try:
        return conn.execute("SELECT 1").fetchone()[0]
    finally:
        pool.putconn(conn)


def test_the_pool_hands_back_the_same_connection(proxied_pool):
    _, pool = proxied_pool
    first = pool.getconn()
    pool.putconn(first)
    second = pool.getconn()
    pool.putconn(second)
    assert first is second


def test_while_the_database_is_away_a_request_fails_at_once_and_recovers_after(proxied_pool):
    proxy, pool = proxied_pool
    assert query_one(pool) == 1
    proxy.cut()
    for _ in range(3):  # the broken pooled connection, then refused connections
        with pytest.raises(psycopg.OperationalError) as raised:
            query_one(pool)
        assert not isinstance(raised.value, PoolTimeout)
    proxy.restore()
    assert query_one(pool) == 1  # at once, not after the pool's next retry
