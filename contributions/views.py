from django.contrib.auth.decorators import login_required
from django.shortcuts import render
from django.views.decorators.http import require_safe


@login_required
@require_safe
def pay(request):
    """灵活就业及城乡居民社会保险费缴费."""
    return render(request, "contributions/pay.html")
