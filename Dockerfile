# shebao-portal: one image for the web (gunicorn), the Celery worker and Celery beat.
# See docker-compose.yml for how the three run together with PostgreSQL and Redis.
FROM python:3.11-slim-bookworm

# WeasyPrint's runtime libraries (its docs for Debian: pango, pangoft2, harfbuzz-subset) and CJK fonts,
# without which the certificates' Chinese text renders as empty boxes. Unpinned: bookworm's stable
# updates are security fixes we want on every rebuild.
# hadolint ignore=DL3008
RUN apt-get update \
    && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
        libpango-1.0-0 \
        libpangoft2-1.0-0 \
        libharfbuzz-subset0 \
        fonts-noto-cjk \
        fonts-wqy-microhei \
    && rm -rf /var/lib/apt/lists/*

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

WORKDIR /app

# Dependencies first, from pyproject.toml alone, so a code change does not reinstall them.
COPY pyproject.toml ./
RUN python -c "import tomllib; print('\n'.join(tomllib.load(open('pyproject.toml', 'rb'))['project']['dependencies']))" \
        > /tmp/requirements.txt \
    && pip install -r /tmp/requirements.txt \
    && rm /tmp/requirements.txt

COPY . .
RUN pip install --no-deps .

# The project runs from /app, not from site-packages: templates/, static/ and locale/ live beside the
# packages and settings find them through BASE_DIR. PYTHONPATH puts /app ahead of the installed copy
# for gunicorn, celery and manage.py alike.
ENV PYTHONPATH=/app \
    DJANGO_ENV=production \
    PORTAL_VAR_DIR=/app/var \
    STATIC_ROOT=/app/staticfiles \
    MEDIA_ROOT=/app/media \
    WEB_CONCURRENCY=3

# Production settings refuse to start without SECRET_KEY and ALLOWED_HOSTS: dummy values for this
# one command only; the real ones come from the environment at run time.
RUN SECRET_KEY=collectstatic-only ALLOWED_HOSTS=localhost python manage.py collectstatic --noinput --ignore "fonts/*" \
    && rm -rf /app/var

RUN groupadd --system --gid 10001 portal \
    && useradd --system --uid 10001 --gid portal --create-home --home-dir /home/portal portal \
    && mkdir -p /app/var /app/media \
    && chown portal:portal /app/var /app/media
# Numeric, so orchestrators that require a non-root user (runAsNonRoot) can verify it.
USER 10001:10001

EXPOSE 8000

# /healthz answers 200 when the database and the broker answer. The Host header is the first of
# ALLOWED_HOSTS (a leading dot dropped), so the check passes whatever hosts production allows.
HEALTHCHECK --interval=30s --timeout=10s --start-period=30s --retries=3 \
    CMD ["python", "-c", "import os, urllib.request as r; hosts = [h.strip().lstrip('.') for h in os.environ.get('ALLOWED_HOSTS', '').split(',') if h.strip() not in ('', '*')]; r.urlopen(r.Request('http://127.0.0.1:8000/healthz', headers={'Host': (hosts or ['localhost'])[0]}), timeout=5)"]

# Workers: WEB_CONCURRENCY, which gunicorn reads; 3 by default, since the Celery worker and PostgreSQL
# share the host's cores. On a host of its own, gunicorn's rule of thumb is 2 x cores + 1.
CMD ["gunicorn", "portal.wsgi:application", "--bind", "0.0.0.0:8000", "--access-logfile", "-", "--timeout", "60"]
