"""The PostgreSQL test cluster itself (pg_cluster.py through scripts/pg-cluster)."""
import subprocess

import pg_cluster


def select_one(url: str) -> subprocess.CompletedProcess:
    return subprocess.run([str(pg_cluster.psql()), "-X", "-tA", "-d", url, "-c", "SELECT 1"],
                          capture_output=True, text=True, timeout=60)


def test_two_databases_answer_queries(postgres):
    first, second = postgres.make_database(), postgres.make_database()
    assert first != second
    assert first.startswith(f"postgres://switchboard@127.0.0.1:{postgres.port}/")
    for url in (first, second):
        result = select_one(url)
        assert (result.returncode, result.stdout.strip()) == (0, "1"), result.stderr


def test_private_cluster_restarts_stops_starts_and_stop_removes_it(postgres):
    # `postgres` only to skip (or fail on CI) where PostgreSQL is missing.
    with pg_cluster.PostgresCluster() as cluster:
        directory, url = cluster.directory, cluster.make_database()
        cluster.restart()
        assert select_one(url).returncode == 0
        port = cluster.port
        cluster.stop_server()
        assert select_one(url).returncode != 0
        cluster.start_server()
        assert cluster.port == port and select_one(url).returncode == 0
    assert not directory.exists()
    assert select_one(url).returncode != 0
