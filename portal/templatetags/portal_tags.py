from django import template

from portal import masking
from portal.models import NoticeDismissal
from portal.notices import SCOPE_REMINDER, get_notice

register = template.Library()

register.filter("mask_name", masking.mask_name)
register.filter("mask_id_number", masking.mask_id_number)
register.filter("mask_phone", masking.mask_phone)
register.filter("mask_account", masking.mask_account_number)


@register.inclusion_tag("portal/includes/business_notice.html", takes_context=True)
def business_notice(context, key):
    """
    The 办理须知 modal for `key` (unless the user chose "不再提示"), followed by the scope reminder,
    which always shows when a page is opened. A form redisplayed after a POST (its errors) shows
    neither: the user has read them already. Usage: {% business_notice "contributions.pay" %}
    """
    notice = get_notice(key)
    request = context["request"]
    if request.method != "GET":
        return {"skip": True}
    user = request.user
    dismissed = user.is_authenticated and NoticeDismissal.objects.filter(user=user, notice_key=key).exists()
    return {
        "notice": notice,
        "show_notice": not dismissed,
        "can_dismiss": user.is_authenticated,
        "dom_id": "notice-" + key.replace(".", "-"),
        "next": request.get_full_path(),
        "scope_reminder": SCOPE_REMINDER,
    }
