"""
The demo data `manage.py seed_demo` creates, in one place so the launcher can print the logins.

Bills are dated relative to the day the command runs, so the demo always has something due.
"""

from dataclasses import dataclass

DEMO_PASSWORD = "Shebao@2026"  # noqa: S105 (demo data, refused in production)
STAFF_USERNAME = "admin"
STAFF_PASSWORD = "Admin@2026!"  # noqa: S105
# The demo staff account's TOTP key (hex), public like its password: RFC 6238's test key "12345678901234567890",
# base32 GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ for an authenticator app. `manage.py staff_totp --code admin`
# prints the current code. The admin login refuses a device with this key in production (portal.admin_site).
DEMO_STAFF_TOTP_KEY = "3132333435363738393031323334353637383930"


@dataclass(frozen=True)
class DemoPerson:
    key: str
    name: str
    id_number: str
    phone: str
    username: str | None  # None: in the registry, no account yet (to try 在线注册)
    story: str


PEOPLE = [
    DemoPerson(
        "flexible",
        "张灵活",
        "310115199003150017",
        "13800000001",
        "linghuo",
        "灵活就业人员，按月缴费，有上月日常缴费和本月特殊缴费的应缴信息",
    ),
    DemoPerson(
        "resident",
        "李居民",
        "310104198506220028",
        "13800000002",
        "jumin",
        "城乡居民，按年缴费：本年度养老保险、下一年度医疗保险",
    ),
    DemoPerson(
        "unenrolled",
        "王未参",
        "310112199211080034",
        "13800000003",
        "weicanbao",
        "已注册但未参保，办理缴费时提示“缴费人不属于灵活就业或城乡居民身份的参保人员”",
    ),
    DemoPerson(
        "records",
        "赵记录",
        "310115197804050041",
        "13800000004",
        "jilu",
        "城乡居民，近两年的缴费记录，分属闵行区和浦东新区两个税务征收机关",
    ),
    DemoPerson(
        "unregistered",
        "陈注册",
        "310106199509180057",
        "13800000005",
        None,
        "实名信息库中有记录、尚未注册账户，可用于体验在线注册",
    ),
]


def demo_logins():
    """(who, login, password) rows for the README and the `make run` banner."""
    rows = [("税务人员（后台 /admin/；动态验证码见下）", STAFF_USERNAME, STAFF_PASSWORD)]
    rows += [
        (f"{person.name}：{person.story}", person.username, DEMO_PASSWORD)
        for person in PEOPLE
        if person.username
    ]
    return rows


def staff_code_hint():
    """How to get the demo staff account's current 动态验证码, for the `make run` banner and seed_demo."""
    return (
        f"后台动态验证码：.venv/bin/python manage.py staff_totp --code {STAFF_USERNAME}"
        "（或在身份验证器应用中添加密钥 GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ）"
    )
