"""Helpers for the PostgreSQL concurrency tests: real threads, real connections, one start."""

import threading

import pytest
from django.db import connection


def skip_unless_postgresql() -> None:
    if connection.vendor != "postgresql":
        pytest.skip(
            f"concurrency tests need PostgreSQL (set DATABASE_URL); this run uses "
            f"{connection.vendor}, which serialises writers, so they would prove nothing"
        )


def run_at_once(*works) -> tuple[list, list[BaseException]]:
    """Run each work() in its own thread, released together; return results and errors."""
    barrier = threading.Barrier(len(works), timeout=30)
    results: list = [None] * len(works)
    errors: list[BaseException] = []

    def worker(index: int) -> None:
        try:
            barrier.wait()
            results[index] = works[index]()
        except BaseException as exc:  # the test asserts on every error collected here
            errors.append(exc)
        finally:
            # Each thread opened its own connection; leaving it open blocks the test
            # database from being flushed and dropped.
            connection.close()

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(len(works))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not any(thread.is_alive() for thread in threads), "a worker hung"
    return results, errors
