from django.contrib.auth.decorators import login_required
from django.shortcuts import render
from django.views.decorators.http import require_safe


@login_required
@require_safe
def sign(request):
    """灵活就业及城乡居民个人委托扣款协议签订."""
    return render(request, "mandates/sign.html")
