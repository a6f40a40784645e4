from django.apps import AppConfig


class PayersConfig(AppConfig):
    name = "payers"
    verbose_name = "缴费人与账户"
