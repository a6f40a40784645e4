import functools
from urllib.parse import urlsplit

from django import template
from django.conf import settings
from django.db import connection
from django.template.loader import render_to_string
from django.utils.translation import get_language

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
    which always shows when the business is entered. Moving within it (a form redisplayed with its
    errors, a query's results, a page refreshing itself, the next step) shows neither again: the user
    has read them. Usage: {% business_notice "contributions.pay" %}
    """
    notice = get_notice(key)
    request = context["request"]
    if _within_the_business(request):
        return {"skip": True}
    user = request.user
    dismissed = user.is_authenticated and _dismissed(user.pk, key)
    return {
        "notice": notice,
        "sections": _sections_html(key, get_language()) if not dismissed else "",
        "show_notice": not dismissed,
        "can_dismiss": user.is_authenticated,
        "dom_id": "notice-" + key.replace(".", "-"),
        "next": request.get_full_path(),
        "scope_reminder": SCOPE_REMINDER,
    }


@functools.cache
def _dismissed_sql():
    table = NoticeDismissal._meta
    return (
        f"SELECT 1 FROM {connection.ops.quote_name(table.db_table)}"  # noqa: S608 (names from the model, values bound)
        f" WHERE {connection.ops.quote_name(table.get_field('user').column)} = %s"
        f" AND {connection.ops.quote_name(table.get_field('notice_key').column)} = %s LIMIT 1"
    )


def _dismissed(user_id, key):
    """
    Whether the user chose "不再提示" for this notice: asked of the database on each visit (so a
    dismissal in one session or worker counts at once everywhere), as one prepared SQL string with
    bound parameters rather than an ORM query compiled afresh each time (the same as
    `NoticeDismissal.objects.filter(user=user, notice_key=key).exists()`).
    """
    with connection.cursor() as cursor:
        cursor.execute(_dismissed_sql(), [user_id, key])
        return cursor.fetchone() is not None


@functools.lru_cache(maxsize=64)
def _cached_sections(key, language):
    # `language` only keys the cache: the sections are rendered in the active language.
    return render_to_string("portal/includes/notice_sections.html", {"notice": get_notice(key)})


def _sections_html(key, language):
    """
    A notice's sections as HTML, rendered once per process and language: the text is fixed in
    portal/notices.py, and rendering its paragraphs (twice: the modal and <noscript>) was a large part
    of each business page's time. Rendered afresh with DEBUG on, so that template edits show at once.
    """
    if settings.DEBUG:
        return _cached_sections.__wrapped__(key, language)
    return _cached_sections(key, language)


def _within_the_business(request):
    """Whether the request continues in the same part of the site (/certificates/… → /certificates/…)."""
    if request.method != "GET" or "refreshed" in request.GET:
        return True
    referer = urlsplit(request.headers.get("Referer", ""))
    if not referer.path or (referer.netloc and referer.netloc != request.get_host()):
        return False
    return _section(referer.path) == _section(request.path)


def _section(path):
    return path.strip("/").split("/")[0]
