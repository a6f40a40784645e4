from contributions.importing import import_enrolments
from contributions.management.commands._import import ImportCommand


class Command(ImportCommand):
    help = "导入社保经办机构发送的参保登记文件（同时更新实名信息库）；文件有任何错误时不导入任何数据。"
    import_file = staticmethod(import_enrolments)
    what = "参保登记"

    def report(self, result):
        will = "将" if result.dry_run else ""
        self.stdout.write(
            f"实名信息：{will}新增 {result.persons_created:,} 人，更新 {result.persons_updated:,} 人。"
        )
