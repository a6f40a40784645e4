from django.apps import AppConfig


class BankSandboxConfig(AppConfig):
    name = "bank_sandbox"
    verbose_name = "银行沙箱"
