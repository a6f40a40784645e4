"""
Masking of personal data for screens and logs (SPEC rule 15): 姓名 **枝, 证件号码 3*****9,
手机号码 180****1234, 银行账号 6222********1234.
"""


def mask_name(name):
    """Keep only the last character: 王小枝 → **枝."""
    name = (name or "").strip()
    if len(name) <= 1:
        return name
    return "*" * (len(name) - 1) + name[-1]


def mask_id_number(number):
    """Keep the first and the last character: 310101199001011234 → 3****************4."""
    number = (number or "").strip()
    if len(number) <= 2:
        return "*" * len(number)
    return number[0] + "*" * (len(number) - 2) + number[-1]


def mask_phone(phone):
    """Keep the first three and last four digits: 18012341234 → 180****1234."""
    phone = (phone or "").strip()
    if len(phone) < 8:
        return "*" * len(phone)
    return phone[:3] + "*" * (len(phone) - 7) + phone[-4:]


def mask_account_number(number):
    """Keep the first four and last four digits of a bank account."""
    number = (number or "").replace(" ", "")
    if len(number) <= 8:
        return "*" * len(number)
    return number[:4] + "*" * (len(number) - 8) + number[-4:]
