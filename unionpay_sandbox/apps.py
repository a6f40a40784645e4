from django.apps import AppConfig


class UnionPaySandboxConfig(AppConfig):
    name = "unionpay_sandbox"
    verbose_name = "银联支付沙箱"
