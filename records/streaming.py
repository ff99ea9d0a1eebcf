"""Reading large querysets row by row, with flat memory, on both databases."""

from collections.abc import Iterator

from django.db import connections, transaction


def stream_rows(queryset, *, chunk_size: int = 2000) -> Iterator:
    """The queryset's rows, fetched `chunk_size` at a time.

    PostgreSQL: through a server-side cursor inside a transaction. Outside one,
    Django declares the cursor WITH HOLD and PostgreSQL materialises the whole
    result before the first row (seconds at a million rows). The transaction
    only reads; it ends when the iteration ends or the iterator is closed.
    SQLite: no transaction, which there would take the database's write lock for
    the whole read; its cursor fetches in chunks anyway.
    """
    if connections[queryset.db].vendor == "postgresql":
        # On the queryset's own database: the primary's, or a replica's (records.replica).
        with transaction.atomic(using=queryset.db):
            yield from queryset.iterator(chunk_size=chunk_size)
    else:
        yield from queryset.iterator(chunk_size=chunk_size)
