from django import forms

from mandates.adapters.bank import BANKS, validate_account_number
from payers.validators import validate_mobile


class MandateForm(forms.Form):
    """灵活就业及城乡居民个人委托扣款协议签订: the bank details; the payer's details come from the account."""

    reserved_phone = forms.CharField(
        label="银行预留手机号码",
        max_length=11,
        widget=forms.TextInput(attrs={"inputmode": "tel", "autocomplete": "tel"}),
    )
    bank = forms.ChoiceField(label="开户银行名称", choices=[("", "请选择开户银行"), *BANKS])
    account_number = forms.CharField(
        label="银行账号",
        max_length=23,
        help_text="仅支持本人I类借记卡",
        widget=forms.TextInput(attrs={"inputmode": "numeric", "autocomplete": "off"}),
    )

    def clean_reserved_phone(self):
        phone = self.cleaned_data["reserved_phone"].strip()
        validate_mobile(phone)
        return phone

    def clean_account_number(self):
        number = self.cleaned_data["account_number"].replace(" ", "")
        validate_account_number(number)
        return number
