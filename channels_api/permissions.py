from rest_framework.permissions import BasePermission

from channels_api.models import ChannelCredential


class OperationAllowed(BasePermission):
    """The view's operation is among the credential's allowed operations (403 otherwise)."""

    message = "该渠道未开通此项业务"

    def has_permission(self, request, view):
        credential = request.auth
        return isinstance(credential, ChannelCredential) and credential.allows(view.operation)
