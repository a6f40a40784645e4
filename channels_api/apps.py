from django.apps import AppConfig


class ChannelsApiConfig(AppConfig):
    name = "channels_api"
    verbose_name = "第三方渠道接口"
