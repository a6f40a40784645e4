from django.core.management.base import BaseCommand

from certificates import services


class Command(BaseCommand):
    help = (
        "重新提交制作中的缴费证明：提交时消息队列不可用的，以及超过 CERTIFICATE_STUCK_AFTER 仍未制作完成的。"
    )

    def handle(self, *args, **options):
        count = services.requeue_stuck()
        self.stdout.write(f"已重新提交 {count} 份制作中的缴费证明")
