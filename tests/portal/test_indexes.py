"""
The tables written a million times a night (imports, batch debits) carry no index that only costs writes
(portal/migration_operations.py): none that another index of the table leads with, and no `_like` copy.
"""

import pytest
from django.db import connection

from bank_sandbox.models import SandboxDebit
from contributions.models import Bill, PaidRecord, Payment, PaymentLine
from mandates.models import DebitAttempt

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.skipif(connection.vendor != "postgresql", reason="the _like indexes are PostgreSQL's"),
]


def indexes(model):
    """{name: (columns, partial, unique)} of the model's table."""
    table = model._meta.db_table
    with connection.cursor() as cursor:
        constraints = connection.introspection.get_constraints(cursor, table)
        cursor.execute(
            "SELECT indexname FROM pg_indexes WHERE tablename = %s AND indexdef LIKE '%% WHERE %%'", [table]
        )
        partial = {name for (name,) in cursor.fetchall()}
    return {
        name: (info["columns"], name in partial, info["unique"])
        for name, info in constraints.items()
        if info["index"]
    }


@pytest.mark.parametrize("model", [Bill, Payment, PaymentLine, PaidRecord, DebitAttempt, SandboxDebit])
def test_no_index_of_a_nightly_table_is_covered_by_another(model):
    found = indexes(model)
    covered = [
        (name, other)
        for name, (columns, _, unique) in found.items()
        if not unique  # a unique index is a rule, not only a way to find rows
        for other, (other_columns, other_partial, _) in found.items()
        if other != name and not other_partial and other_columns[: len(columns)] == columns
    ]

    assert [name for name in found if name.endswith("_like")] == []
    assert covered == []
