import pytest
from django.test import Client
from django.urls import reverse

from portal.models import NoticeDismissal
from portal.notices import NOTICES

pytestmark = pytest.mark.django_db

SCOPE_TEXT = (
    "请注意! 此功能模块仅适用于以灵活就业及城乡居民身份参保登记并通过税务部门缴费渠道的缴费人，"
    "不包含企事业单位在职职工人员。"
)
PAGES_AND_NOTICES = [
    ("mandates:sign", "mandates.sign"),
    ("contributions:pay", "contributions.pay"),
    ("certificates:query", "certificates.issue"),
    ("certificates:downloads", "certificates.issue"),
]


@pytest.fixture
def user(django_user_model):
    return django_user_model.objects.create_user(username="wangxz", password="Pass-word-2024")


@pytest.fixture
def other_user(django_user_model):
    return django_user_model.objects.create_user(username="lisi", password="Pass-word-2024")


def dismiss_url(key="contributions.pay"):
    return reverse("dismiss_notice", args=[key])


@pytest.mark.parametrize(("url_name", "key"), PAGES_AND_NOTICES)
def test_rule_14_business_page_shows_notice_with_both_buttons_and_scope(client, user, url_name, key):
    client.force_login(user)

    content = client.get(reverse(url_name)).content.decode()

    assert f"《{NOTICES[key].title}》办理须知" in content
    for section in ("事项描述", "报送资料", "办理流程", "文件依据", "注意事项", "办理地点"):
        assert section in content
    assert "继续办理" in content
    assert "我知道了，不再提示" in content
    assert f'action="{dismiss_url(key)}"' in content
    assert SCOPE_TEXT in content
    assert "确定" in content
    assert "<noscript>" in content


def test_contributions_notice_carries_the_guide_text(client, user):
    client.force_login(user)

    content = client.get(reverse("contributions:pay")).content.decode()

    assert "1.根据缴费人类型可分为灵活就业人员、城乡居民。" in content
    assert "2.提供本人社会保险费缴费和为他人代办社会保险费缴费功能。" in content
    assert "3.根据数据来源可分为日常缴费、特殊缴费。" in content


def test_notice_modal_is_accessible(client, user):
    client.force_login(user)

    content = client.get(reverse("contributions:pay")).content.decode()

    assert 'aria-labelledby="notice-contributions-pay-title"' in content
    assert 'id="notice-contributions-pay-title"' in content
    assert 'aria-labelledby="notice-contributions-pay-scope-title"' in content


def test_rule_14_dismissed_notice_is_not_shown_to_that_user_but_to_others(client, user, other_user):
    client.force_login(user)
    page = reverse("contributions:pay")

    response = client.post(dismiss_url(), {"next": page})

    assert response.status_code == 302
    assert response["Location"] == page
    content = client.get(page).content.decode()
    assert "办理须知" not in content
    assert "我知道了，不再提示" not in content
    assert SCOPE_TEXT in content, "the scope reminder always shows"
    # Another notice of the same user still shows.
    assert "我知道了，不再提示" in client.get(reverse("mandates:sign")).content.decode()

    client.force_login(other_user)
    assert "我知道了，不再提示" in client.get(page).content.decode()


def test_dismiss_by_fetch_returns_204(client, user):
    client.force_login(user)

    response = client.post(dismiss_url(), headers={"X-Requested-With": "fetch"})

    assert response.status_code == 204
    assert NoticeDismissal.objects.filter(user=user, notice_key="contributions.pay").exists()


def test_dismiss_is_idempotent(client, user):
    client.force_login(user)

    client.post(dismiss_url())
    response = client.post(dismiss_url(), headers={"X-Requested-With": "fetch"})

    assert response.status_code == 204
    assert NoticeDismissal.objects.filter(user=user).count() == 1


@pytest.mark.parametrize("next_url", ["https://evil.example/", "//evil.example/", ""])
def test_dismiss_redirects_only_to_a_safe_next(client, user, next_url):
    client.force_login(user)

    response = client.post(dismiss_url(), {"next": next_url})

    assert response.status_code == 302
    assert response["Location"] == reverse("home")


def test_dismiss_without_csrf_token_is_rejected(user):
    client = Client(enforce_csrf_checks=True)
    client.force_login(user)

    response = client.post(dismiss_url(), headers={"X-Requested-With": "fetch"})

    assert response.status_code == 403
    assert not NoticeDismissal.objects.exists()


def test_dismiss_unknown_key_is_404(client, user):
    client.force_login(user)

    response = client.post(dismiss_url("no.such.notice"))

    assert response.status_code == 404
    assert not NoticeDismissal.objects.exists()


def test_dismiss_needs_post_and_login(client, user):
    response = client.post(dismiss_url())
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("payers:login"))

    client.force_login(user)
    assert client.get(dismiss_url()).status_code == 405
    assert not NoticeDismissal.objects.exists()


@pytest.mark.parametrize("dismissed", [False, True])
def test_entry_page_query_count_is_bounded(client, user, django_assert_max_num_queries, dismissed):
    if dismissed:
        NoticeDismissal.objects.create(user=user, notice_key="contributions.pay")
    client.force_login(user)

    # A constant handful: session, account, notice dismissal, the auto-debit calendar.
    with django_assert_max_num_queries(7):
        response = client.get(reverse("contributions:pay"))

    assert response.status_code == 200


@pytest.mark.parametrize(
    ("referer", "query", "shown"),
    [
        ("", "", True),  # typed or bookmarked: entering the business
        ("http://testserver/", "", True),  # from the home page
        ("http://testserver/certificates/", "", False),  # a query's results, the next page of it
        ("http://testserver/certificates/downloads/", "", False),
        ("", "?refreshed=1", False),  # the downloads page refreshing itself
        ("http://elsewhere.example/certificates/", "", True),
    ],
)
def test_the_notice_shows_when_entering_the_business_not_when_moving_within_it(
    client, user, referer, query, shown
):
    client.force_login(user)

    page = client.get(reverse("certificates:downloads") + query, HTTP_REFERER=referer).content.decode()

    assert ("办理须知" in page) is shown
    assert ("不包含企事业单位在职职工人员" in page) is shown
