import calendar
import datetime

from django import forms

from certificates.models import InsuranceFilter
from contributions.forms import PayerForm


class MonthField(forms.CharField):
    """A month as `YYYY-MM` (the browser's month picker); cleans to the first day of the month."""

    widget = forms.TextInput(attrs={"type": "month", "placeholder": "YYYY-MM"})

    def to_python(self, value):
        value = super().to_python(value)
        if not value:
            return None
        try:
            return datetime.datetime.strptime(value, "%Y-%m").date()
        except ValueError:
            raise forms.ValidationError("请按“年-月”格式输入，如 2024-01") from None


class CertificateQueryForm(PayerForm):
    """查询条件: 办理对象, 缴费所属期 from–to, 险种."""

    period_from = MonthField(label="缴费所属期起")
    period_to = MonthField(label="缴费所属期止")
    insurance = forms.ChoiceField(label="险种", choices=InsuranceFilter.choices, initial=InsuranceFilter.ALL)

    def clean(self):
        cleaned = super().clean()
        start, end = cleaned.get("period_from"), cleaned.get("period_to")
        if start and end:
            if end < start:
                self.add_error("period_to", "缴费所属期止不能早于缴费所属期起")
            elif (end.year - start.year) * 12 + end.month - start.month >= 120:
                self.add_error("period_to", "一次查询的缴费所属期不能超过10年")
        return cleaned


def month_end(day):
    # From the calendar, not by date arithmetic: a month typed as 9999-12 must not overflow into a 500.
    return day.replace(day=calendar.monthrange(day.year, day.month)[1])


class AppliedDateForm(forms.Form):
    """社保缴费证明下载: 申请日期 from–to, the last 7 days by default."""

    # <input type="date"> only takes ISO dates, whatever the language's date format.
    applied_from = forms.DateField(
        label="申请日期起", widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
    )
    applied_to = forms.DateField(
        label="申请日期止", widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
    )
