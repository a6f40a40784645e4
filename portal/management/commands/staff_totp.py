from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from portal import totp


class Command(BaseCommand):
    help = (
        "Enrol a staff user's authenticator app for the admin login (动态验证码): replaces the user's TOTP "
        "devices with a new confirmed one and prints its otpauth:// URI, key and a QR code to scan. "
        "With --code, print the current code instead (development or the public demo key only)."
    )

    def add_arguments(self, parser):
        parser.add_argument("username")
        parser.add_argument(
            "--code",
            action="store_true",
            help="print the current 6-digit code of the user's device (refused in production, and "
            "outside DEBUG unless the device has the public demo key)",
        )
        parser.add_argument("--no-qr", action="store_true", help="do not draw the QR code")

    def handle(self, *args, username, code=False, no_qr=False, **options):
        try:
            user = get_user_model().objects.get(username=username)
        except get_user_model().DoesNotExist:
            raise CommandError(f"没有用户名为 {username} 的账户。") from None
        if code:
            self.print_code(user)
            return
        try:
            device = totp.enrol(user)
        except totp.TotpError as error:
            raise CommandError(str(error)) from None
        uri = device.config_url
        self.stdout.write(f"已为 {username} 绑定新的身份验证器，原有设备已失效。")
        self.stdout.write("请本人用身份验证器应用扫描下面的二维码，或手动输入密钥（仅显示这一次）：")
        self.stdout.write(f"  密钥：{totp.base32_key(device)}")
        self.stdout.write(f"  {uri}")
        if not no_qr:
            self.stdout.write(totp.terminal_qr(uri))

    def print_code(self, user):
        device = totp.staff_device(user)
        if device is None:
            raise CommandError(
                f"{user.get_username()} 尚未绑定身份验证器：先运行 staff_totp {user.get_username()}。"
            )
        if not totp.may_show_current_code(device):
            raise CommandError("只有开发环境（DEBUG）或演示密钥才能显示当前动态验证码。")
        self.stdout.write(totp.current_code(device))
