from django.core.management.base import BaseCommand

from channels_api.services import purge_expired


class Command(BaseCommand):
    help = "Forget channel API nonces past their 10-minute window and old rate-limit counters."

    def handle(self, *args, **options):
        deleted = purge_expired()
        self.stdout.write(f"已清理 {deleted} 条过期的随机数和计数记录。")
