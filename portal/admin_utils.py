class ReadOnlyAdminMixin:
    """A record kept as it happened: staff may list and read it, nobody adds, edits or deletes it here."""

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
