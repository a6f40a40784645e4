from django.contrib.auth.decorators import login_required
from django.shortcuts import render
from django.views.decorators.http import require_safe


@login_required
@require_safe
def query(request):
    """灵活就业及城乡居民社会保险费缴费证明开具."""
    return render(request, "certificates/query.html")


@login_required
@require_safe
def downloads(request):
    """社保缴费证明下载."""
    return render(request, "certificates/downloads.html")
