import re
from pathlib import Path

import pytest
from django.conf import settings
from django.urls import reverse

from payers.models import Person
from tests.helpers import log_in

pytestmark = pytest.mark.django_db

ENTRY_PAGES = [
    ("mandates:sign", "灵活就业及城乡居民个人委托扣款协议签订"),
    ("contributions:pay", "灵活就业及城乡居民社会保险费缴费"),
    ("certificates:query", "灵活就业及城乡居民社会保险费缴费证明开具"),
    ("certificates:downloads", "社保缴费证明下载"),
]


@pytest.fixture
def user(django_user_model):
    return django_user_model.objects.create_user(username="wangxz", password="Pass-word-2024")


def test_home_shows_header_and_the_three_groups(client):
    response = client.get(reverse("home"))

    assert response.status_code == 200
    content = response.content.decode()
    assert '<html lang="zh-hans">' in content
    assert 'name="viewport"' in content
    assert "国家税务总局上海市电子税务局" in content
    assert "我要办税" in content
    assert "社保费办理" in content
    for group in ("缴费协议签订", "申报缴费", "证明开具"):
        assert group in content
    for url_name, title in ENTRY_PAGES:
        assert f'href="{reverse(url_name)}"' in content
        assert title in content
    assert "主办单位：国家税务总局上海市税务局" in content


def test_home_links_resolve_for_a_logged_in_user(client, user):
    client.force_login(user)
    content = client.get(reverse("home")).content.decode()

    for url_name, title in ENTRY_PAGES:
        url = reverse(url_name)
        assert f'href="{url}"' in content
        response = client.get(url)
        assert response.status_code == 200
        assert title in response.content.decode()


def test_anonymous_user_sees_login_and_registration_links(client):
    content = client.get(reverse("home")).content.decode()

    assert f'href="{reverse("payers:login")}"' in content
    assert f'href="{reverse("payers:register")}"' in content
    assert "退出" not in content
    assert 'href="#"' not in content


@pytest.mark.parametrize("url_name", [name for name, _ in ENTRY_PAGES])
def test_entry_pages_redirect_anonymous_users_to_login(client, url_name):
    url = reverse(url_name)
    response = client.get(url)

    assert response.status_code == 302
    assert response["Location"] == f"{reverse('payers:login')}?next={url}"


def test_user_menu_shows_the_masked_name_and_a_logout_form(client, user):
    user.person = Person.objects.create(name="王小枝", id_type="201", id_number="310101199001011234")
    user.save()
    client.force_login(user)

    content = client.get(reverse("home")).content.decode()

    assert "**枝" in content
    assert "王小枝" not in content
    assert f'action="{reverse("payers:logout")}"' in content
    assert "退出" in content


def test_logout_is_a_post(client, user):
    client.force_login(user)

    response = client.post(reverse("payers:logout"))

    assert response.status_code == 302
    assert "_auth_user_id" not in client.session


def test_login_page_extends_base_and_shows_labelled_fields(client):
    content = client.get(reverse("payers:login")).content.decode()

    assert "国家税务总局上海市电子税务局" in content
    assert "手机号码/证件号码/用户名" in content
    assert 'for="id_username"' in content
    assert 'for="id_password"' in content


def test_login_error_is_shown_in_chinese(client, user):
    response = log_in(client, "wangxz", "wrong")

    assert response.status_code == 200
    assert "账号或密码错误，请重新输入。" in response.content.decode()


def test_login_redirects_to_next(client, user):
    url = reverse("contributions:pay")
    response = log_in(client, "wangxz", "Pass-word-2024", next=url)

    assert response.status_code == 302
    assert response["Location"] == url


def test_static_files_referenced_by_base_exist(client):
    content = client.get(reverse("home")).content.decode()
    static_prefix = re.escape(settings.STATIC_URL.strip("/"))
    referenced = re.findall(r'(?:href|src)="/' + static_prefix + r'/([^"]+)"', content)

    assert not re.search(r'<(?:link|script)[^>]+(?:href|src)="(?:https?:)?//', content), "no CDN"
    assert {
        "vendor/bootstrap/bootstrap.min.css",
        "vendor/bootstrap/bootstrap.bundle.min.js",
        "portal/portal.css",
        "portal/notice.js",
    } <= set(referenced)
    static_dir = Path(settings.BASE_DIR) / "static"
    for path in referenced:
        file = static_dir / path
        assert file.is_file(), path
        assert "sourceMappingURL" not in file.read_text(encoding="utf-8")


def test_error_pages_are_polite_and_chinese(client, settings):
    settings.DEBUG = False

    response = client.get("/no-such-page/")

    assert response.status_code == 404
    assert "您访问的页面不存在" in response.content.decode()
