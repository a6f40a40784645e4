from contributions.importing import import_bills
from contributions.management.commands._import import ImportCommand


class Command(ImportCommand):
    help = "导入社保经办机构发送的应缴信息文件；文件有任何错误时不导入任何数据。"
    import_file = staticmethod(import_bills)
    what = "应缴信息"
