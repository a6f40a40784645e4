"""portal.bulk: COPY-based inserts and array keys, the same results on PostgreSQL and SQLite."""

import pytest

from payers.models import SmsMessage
from portal.bulk import insert_rows, pk_in, text_in

pytestmark = pytest.mark.django_db


def test_insert_rows_returns_the_new_rows_keys_in_the_order_of_the_rows():
    rows = [(f"1390000000{n}", f"第{n}条", "test") for n in range(5)]

    pks = insert_rows(SmsMessage, ["phone", "body", "purpose"], rows, return_pks=True)

    assert len(set(pks)) == 5
    assert [SmsMessage.objects.get(pk=pk).body for pk in pks] == [body for _, body, _ in rows]
    later = SmsMessage.objects.create(phone="13900000009", body="之后", purpose="test")
    assert later.pk not in pks  # the table's own sequence moved past the keys handed out


def test_insert_rows_counts_the_rows_and_inserts_nothing_for_none():
    assert insert_rows(SmsMessage, ["phone", "body", "purpose"], [("13900000000", "一", "test")]) == 1
    assert insert_rows(SmsMessage, ["phone", "body", "purpose"], []) == 0
    assert insert_rows(SmsMessage, ["phone", "body", "purpose"], [], return_pks=True) == []
    assert SmsMessage.objects.count() == 1


def test_long_lists_of_keys_filter_as_in_does():
    pks = insert_rows(
        SmsMessage,
        ["phone", "body", "purpose"],
        [(f"139{n:08d}", "体", "test") for n in range(3000)],
        return_pks=True,
    )

    assert SmsMessage.objects.filter(pk__in=pk_in(pks[::2])).count() == 1500
    assert SmsMessage.objects.filter(phone__in=text_in(["13900000001", "13900002999", "139"])).count() == 2
    assert not SmsMessage.objects.filter(pk__in=pk_in([])).exists()
