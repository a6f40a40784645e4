from django.core.management.base import BaseCommand, CommandError

from certificates import services
from certificates.models import Certificate


class Command(BaseCommand):
    help = "Render a certificate again (status back to 制作中, enqueued for a worker)."

    def add_arguments(self, parser):
        parser.add_argument("ids", nargs="+", type=int)

    def handle(self, *args, ids, **options):
        for pk in ids:
            certificate = Certificate.objects.filter(pk=pk).first()
            if certificate is None:
                raise CommandError(f"缴费证明 {pk} 不存在")
            services.regenerate(certificate)
            self.stdout.write(f"缴费证明 {pk} 已重新提交制作")
