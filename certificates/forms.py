import calendar
import datetime

from django import forms
from django.utils.html import format_html, format_html_join

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


class IsoDateInput(forms.DateInput):
    """
    <input type="date">, written out directly: the same HTML as Django's input.html and attrs.html
    templates (BoundField's id, required and aria-* attributes included), without rendering two
    templates per field on every visit to 社保缴费证明下载.
    """

    def __init__(self):
        # <input type="date"> only takes ISO dates, whatever the language's date format.
        super().__init__(attrs={"type": "date"}, format="%Y-%m-%d")

    def render(self, name, value, attrs=None, renderer=None):
        widget = self.get_context(name, value, attrs)["widget"]
        value = widget["value"]
        return format_html(
            '<input type="{}" name="{}"{}{}>',
            widget["type"],
            widget["name"],
            format_html(' value="{}"', str(value)) if value is not None else "",
            format_html_join(
                "",
                " {}{}",
                (
                    (attr, "" if setting is True else format_html('="{}"', str(setting)))
                    for attr, setting in widget["attrs"].items()
                    if setting is not False
                ),
            ),
        )


class AppliedDateForm(forms.Form):
    """社保缴费证明下载: 申请日期 from–to, the last 7 days by default."""

    applied_from = forms.DateField(label="申请日期起", widget=IsoDateInput())
    applied_to = forms.DateField(label="申请日期止", widget=IsoDateInput())
