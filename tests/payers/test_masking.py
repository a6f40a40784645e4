"""SPEC rule 15: personal data masked on screens, through one helper."""

import pytest
from django.template import Context, Template

from portal.masking import mask_account_number, mask_id_number, mask_name, mask_phone


@pytest.mark.parametrize(
    ("function", "value", "masked"),
    [
        (mask_name, "王小枝", "**枝"),
        (mask_name, "枝", "枝"),
        (mask_id_number, "310101199001011239", "3****************9"),
        (mask_phone, "18012341234", "180****1234"),
        (mask_account_number, "6222021234567890123", "6222***********0123"),
    ],
)
def test_masking_rules(function, value, masked):
    assert function(value) == masked


def test_templates_mask_through_the_filters():
    rendered = Template(
        "{% load portal_tags %}{{ n|mask_name }} {{ i|mask_id_number }} {{ p|mask_phone }}"
    ).render(Context({"n": "王小枝", "i": "310101199001011239", "p": "18012341234"}))

    assert rendered == "**枝 3****************9 180****1234"
