from django.core.management.base import BaseCommand

from certificates import services


class Command(BaseCommand):
    help = "Re-enqueue certificates left 制作中 longer than CERTIFICATE_STUCK_AFTER."

    def handle(self, *args, **options):
        count = services.requeue_stuck()
        self.stdout.write(f"已重新提交 {count} 份制作中的缴费证明")
