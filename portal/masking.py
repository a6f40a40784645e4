"""
Masking of personal data for screens and logs (SPEC rule 15): 姓名 **枝, 证件号码 3*****9,
手机号码 180****1234, 银行账号 6222********1234.
"""

import re


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


_NUMBER_RUN = re.compile(r"\d{6,}[0-9Xx]?")


def mask_numbers_in_text(text):
    """
    Mask every run of six or more digits in free text (a search box, an object's label), whatever it is:
    a mobile number like mask_phone, an ID number (15 or 18 characters) like mask_id_number, anything
    else like mask_account_number.
    """

    def mask(match):
        run = match.group(0)
        if len(run) == 11 and run.startswith("1") and run.isdigit():
            return mask_phone(run)
        if len(run) in (15, 18):
            return mask_id_number(run)
        return mask_account_number(run)

    return _NUMBER_RUN.sub(mask, text or "")
