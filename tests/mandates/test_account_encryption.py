"""Bank account numbers are encrypted at rest, readable through the ORM, and found by a blind index."""

import pytest
from cryptography.fernet import Fernet
from django.core.exceptions import FieldError
from django.core.management import call_command
from django.db import connection
from django.urls import reverse

from mandates import services
from mandates.models import Mandate, MandateChannel
from payers.models import Person, User
from portal import demo, fields
from tests.helpers import log_in_staff
from tests.pdf_helpers import pdf_text

pytestmark = pytest.mark.django_db
FLEXIBLE = next(p for p in demo.PEOPLE if p.key == "flexible")
ICBC_ACCOUNT = "6222021001150017009"
MASKED = "6222***********7009"
OLD_KEY, NEW_KEY = Fernet.generate_key().decode(), Fernet.generate_key().decode()


@pytest.fixture
def person():
    call_command("seed_demo", stdout=open("/dev/null", "w"))  # noqa: SIM115
    return Person.objects.get(id_number=FLEXIBLE.id_number)


@pytest.fixture
def mandate(person):
    return services.sign_mandate(
        person=person,
        bank="ICBC",
        account_number=ICBC_ACCOUNT,
        reserved_phone=FLEXIBLE.phone,
        channel=MandateChannel.ONLINE,
    )


def raw_columns(mandate):
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT account_number, account_number_index FROM mandates_mandate WHERE id = %s", [mandate.pk]
        )
        return cursor.fetchone()


def test_the_account_column_holds_no_digits_of_the_account(mandate):
    stored, index = raw_columns(mandate)

    assert stored.startswith("$aesgcm1$")
    for fragment in (ICBC_ACCOUNT, ICBC_ACCOUNT[:6], ICBC_ACCOUNT[-4:], ICBC_ACCOUNT[6:12]):
        assert fragment not in stored
        assert fragment not in index
    assert len(index) == 64


def test_the_orm_reads_the_plaintext_everywhere(mandate):
    assert Mandate.objects.get(pk=mandate.pk).account_number == ICBC_ACCOUNT
    assert Mandate.objects.values("account_number").get()["account_number"] == ICBC_ACCOUNT
    assert Mandate.objects.values_list("account_number", flat=True).get() == ICBC_ACCOUNT
    assert Mandate.objects.select_related("person").get().account_number == ICBC_ACCOUNT


def test_two_mandates_on_one_account_store_different_ciphertexts(person, mandate):
    services.revoke_mandate(mandate=mandate, channel=MandateChannel.ONLINE)
    second = services.sign_mandate(
        person=person,
        bank="ICBC",
        account_number=ICBC_ACCOUNT,
        reserved_phone=FLEXIBLE.phone,
        channel=MandateChannel.ONLINE,
    )

    (first_stored, first_index), (second_stored, second_index) = raw_columns(mandate), raw_columns(second)
    assert first_stored != second_stored  # a fresh nonce each time: equal accounts do not show
    assert first_index == second_index  # ... but the blind index finds both


def test_the_view_page_and_the_letter_pdf_still_show_the_masked_account(client, person, mandate):
    client.force_login(User.objects.get(person=person))

    page = client.get(reverse("mandates:sign")).content.decode()
    pdf = client.get(reverse("mandates:letter_pdf", args=[mandate.pk]))

    assert MASKED in page and ICBC_ACCOUNT not in page
    text = pdf_text(pdf.content)
    assert MASKED in text and ICBC_ACCOUNT not in text


def test_look_up_by_account_goes_through_the_blind_index(mandate):
    assert list(Mandate.objects.with_account_number(ICBC_ACCOUNT)) == [mandate]
    assert list(Mandate.objects.with_account_number("6222 0210 0115 0017 009")) == [mandate]
    assert not Mandate.objects.with_account_number("6222021001150017017").exists()
    # Comparing ciphertexts in SQL would silently find nothing: the field refuses instead.
    with pytest.raises(FieldError, match="encrypted"):
        Mandate.objects.filter(account_number=ICBC_ACCOUNT).exists()


def test_staff_find_a_mandate_by_full_account_number_in_admin(client, mandate):
    log_in_staff(client, User.objects.get(username=demo.STAFF_USERNAME))

    found = client.get(reverse("admin:mandates_mandate_changelist"), {"q": ICBC_ACCOUNT})
    other = client.get(reverse("admin:mandates_mandate_changelist"), {"q": "6222021001150017017"})

    assert found.context["cl"].result_count == 1
    assert other.context["cl"].result_count == 0
    assert MASKED in found.content.decode()  # the list shows it masked (the search box keeps what was typed)


def test_key_rotation_new_key_first_then_reencrypt_then_drop_the_old(settings, person):
    settings.FIELD_ENCRYPTION_KEYS = [OLD_KEY]
    mandate = services.sign_mandate(
        person=person,
        bank="ICBC",
        account_number=ICBC_ACCOUNT,
        reserved_phone=FLEXIBLE.phone,
        channel=MandateChannel.ONLINE,
    )
    old_id = fields.key_id(fields.decode_key(OLD_KEY))
    new_id = fields.key_id(fields.decode_key(NEW_KEY))
    assert raw_columns(mandate)[0].startswith(f"$aesgcm1${old_id}$")

    settings.FIELD_ENCRYPTION_KEYS = [NEW_KEY, OLD_KEY]
    assert Mandate.objects.get().account_number == ICBC_ACCOUNT  # old rows still read
    call_command("reencrypt_fields", stdout=open("/dev/null", "w"))  # noqa: SIM115
    assert raw_columns(mandate)[0].startswith(f"$aesgcm1${new_id}$")

    settings.FIELD_ENCRYPTION_KEYS = [NEW_KEY]
    assert Mandate.objects.get().account_number == ICBC_ACCOUNT
    assert list(Mandate.objects.with_account_number(ICBC_ACCOUNT)) == [mandate]


def test_a_wrong_key_fails_loudly(settings, mandate):
    settings.FIELD_ENCRYPTION_KEYS = [NEW_KEY]

    with pytest.raises(fields.DecryptionError, match="no configured FIELD_ENCRYPTION_KEY"):
        Mandate.objects.get()


def test_an_altered_ciphertext_fails_loudly(mandate):
    stored, _ = raw_columns(mandate)
    head, payload = stored.rsplit("$", 1)
    flipped = payload[:-3] + ("A" if payload[-3] != "A" else "B") + payload[-2:]
    with connection.cursor() as cursor:
        cursor.execute("UPDATE mandates_mandate SET account_number = %s", [f"{head}${flipped}"])

    with pytest.raises(fields.DecryptionError, match="cannot be decrypted"):
        Mandate.objects.get()


def test_a_token_moved_to_another_column_does_not_decrypt(mandate):
    token = fields.encrypt(ICBC_ACCOUNT, context="mandates.mandate.reserved_phone")

    with pytest.raises(fields.DecryptionError):
        fields.decrypt(token, context="mandates.mandate.account_number")


@pytest.mark.django_db(transaction=True)
def test_the_migration_encrypts_existing_rows_and_its_reverse_decrypts_them():
    from django.db.migrations.executor import MigrationExecutor

    before, after = [("mandates", "0002_debit_runs")], [("mandates", "0003_encrypt_account_number")]
    executor = MigrationExecutor(connection)
    executor.migrate(before)
    old_apps = executor.loader.project_state(before).apps
    holder = old_apps.get_model("payers", "Person").objects.create(
        name="张灵活", id_type="201", id_number=FLEXIBLE.id_number
    )
    old_apps.get_model("mandates", "Mandate").objects.create(
        person_id=holder.pk,
        bank="ICBC",
        account_number=ICBC_ACCOUNT,
        account_name="张灵活",
        reserved_phone=FLEXIBLE.phone,
        channel="online",
    )
    try:
        executor = MigrationExecutor(connection)
        executor.migrate(after)
        mandate = Mandate.objects.get()
        stored, index = raw_columns(mandate)
        assert stored.startswith("$aesgcm1$") and ICBC_ACCOUNT not in stored
        assert mandate.account_number == ICBC_ACCOUNT
        assert list(Mandate.objects.with_account_number(ICBC_ACCOUNT)) == [mandate]

        executor = MigrationExecutor(connection)
        executor.migrate(before)
        with connection.cursor() as cursor:
            cursor.execute("SELECT account_number FROM mandates_mandate")
            assert cursor.fetchone()[0] == ICBC_ACCOUNT
    finally:
        executor = MigrationExecutor(connection)
        executor.migrate(executor.loader.graph.leaf_nodes())


def test_the_draft_between_sign_and_letter_keeps_the_account_encrypted_in_the_session(client, person):
    from django.contrib.sessions.models import Session

    client.force_login(User.objects.get(person=person))
    client.post(
        reverse("mandates:sign"),
        {"reserved_phone": FLEXIBLE.phone, "bank": "ICBC", "account_number": ICBC_ACCOUNT},
    )

    stored = Session.objects.get(session_key=client.session.session_key)
    assert ICBC_ACCOUNT not in str(stored.get_decoded()) and ICBC_ACCOUNT not in stored.session_data
    letter = client.get(reverse("mandates:letter")).content.decode()
    assert MASKED in letter


def test_the_admin_change_view_shows_the_account_masked(client, mandate):
    log_in_staff(client, User.objects.get(username=demo.STAFF_USERNAME))

    page = client.get(reverse("admin:mandates_mandate_change", args=[mandate.pk])).content.decode()

    assert MASKED in page and ICBC_ACCOUNT not in page
    assert mandate.account_number_index not in page
