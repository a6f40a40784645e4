from django import forms

from contributions.models import PaymentMethod
from payers.forms import IdentityForm


class PayerForm(IdentityForm):
    """Step 1 身份信息填写: 本人 (from the account) or 他人 (whose identity must match an enrolment)."""

    SELF, OTHER = "self", "other"
    target = forms.ChoiceField(
        label="办理对象", choices=[(SELF, "本人"), (OTHER, "他人")], initial=SELF, widget=forms.RadioSelect
    )
    nationality = forms.CharField(label="国籍（地区）", max_length=30, initial="中国")
    field_order = ["target", "name", "id_type", "id_number", "nationality"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.data.get("target", self.SELF) == self.SELF:
            # 本人: the identity comes from the account; the fields are shown, not required.
            for name in ("name", "id_type", "id_number", "nationality"):
                self.fields[name].required = False

    def clean(self):
        if self.cleaned_data.get("target") == self.SELF:
            return self.cleaned_data
        return super().clean()


class EnrolmentChoiceForm(forms.Form):
    """Step 2 参保信息选择."""

    enrolments = forms.MultipleChoiceField(
        label="参保信息",
        widget=forms.CheckboxSelectMultiple,
        error_messages={"required": "请至少选择一条参保信息"},
    )

    def __init__(self, *args, enrolments, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["enrolments"].choices = [(str(e.pk), str(e)) for e in enrolments]


class NoticeChoiceForm(forms.Form):
    """Step 3 缴费信息提交: whole notice numbers only (SPEC rule 3)."""

    notices = forms.MultipleChoiceField(
        label="应缴信息",
        widget=forms.CheckboxSelectMultiple,
        error_messages={"required": "请选择需要缴费的应缴信息"},
    )

    def __init__(self, *args, groups, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["notices"].choices = [(g.notice_number, g.notice_number) for g in groups]


class PaymentMethodForm(forms.Form):
    method = forms.ChoiceField(label="支付方式", widget=forms.RadioSelect, initial=PaymentMethod.CARD)
    idempotency_key = forms.CharField(widget=forms.HiddenInput, max_length=64)

    def __init__(self, *args, methods, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["method"].choices = [(m.value, m.label) for m in methods]
