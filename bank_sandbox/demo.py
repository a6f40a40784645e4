"""
The demo bank accounts, for `manage.py seed_demo`: one class I account for each demo person who can sign
a mandate, and a class II account for 张灵活 to show the refusal. Account numbers pass the Luhn check.
"""

from decimal import Decimal

from bank_sandbox.models import SandboxAccount
from portal import demo

CLASS_I, CLASS_II = SandboxAccount.AccountClass.I, SandboxAccount.AccountClass.II

# (demo person's key, bank, account number, class, balance)
ACCOUNTS = [
    ("flexible", "ICBC", "6222021001150017009", CLASS_I, "50000.00"),
    ("flexible", "CMB", "6214830001500171", CLASS_II, "2000.00"),
    # Too little for a year's contributions: a debit shows 账户余额不足.
    ("resident", "SRCB", "6224780000006220020", CLASS_I, "100.00"),
    ("records", "CCB", "6217000000004050047", CLASS_I, "10000.00"),
]


def create_demo_accounts():
    """Create or reset the demo accounts (balances included); returns them."""
    people = {person.key: person for person in demo.PEOPLE}
    accounts = []
    for key, bank, number, account_class, balance in ACCOUNTS:
        person = people[key]
        account, _ = SandboxAccount.objects.update_or_create(
            bank=bank,
            account_number=number,
            defaults={
                "holder_name": person.name,
                "holder_id_type": "201",
                "holder_id_number": person.id_number,
                "reserved_phone": person.phone,
                "account_class": account_class,
                "balance": Decimal(balance),
                "frozen": False,
            },
        )
        accounts.append(account)
    return accounts
