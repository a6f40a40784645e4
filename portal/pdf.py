"""
PDF documents: a Django template rendered to HTML, then to an A4 PDF by WeasyPrint.

The Chinese text is set in fonts bundled under static/fonts/, so a PDF looks the same on every machine
and a name with a rare character (堃, 𠮷, 𡒄) never prints as a box: Noto Serif SC for the Basic
Multilingual Plane, HanaMinB for the CJK extensions B–F beyond it (docs/decisions.md says why these).
Templates extend `portal/pdf/base.html`, which names the two families.

Loading the fonts costs about a second, so it happens once per process: the FontConfiguration, the
parsed @font-face stylesheet and the URL fetcher are kept and reused by every render. Most of that second
was decoding the WOFF2 files (brotli, then fontTools rebuilding the tables); the decoded fonts are the
same every time, so the first process writes them to PDF_FONT_CACHE_DIR (default VAR_DIR/fonts/, named by
the WOFF2 file's hash) and every later process reads them from there (`font_bytes`). A worker calls
`warm_up()` when it starts, to pay that before its first job, and `close()` before it exits: WeasyPrint
keeps the decoded fonts (45 MB) in a temporary folder per process, which a process ending with
os._exit (a pool's child) would leave behind. A normal exit closes by itself (atexit).

URLs in a document resolve like the site's static URLs: `{% static "portal/seal.png" %}` and a relative
`portal/seal.png` both find the file through the staticfiles finders (or STATIC_ROOT after collectstatic).
`data:` URLs work too (the certificate's QR code). Nothing else is fetched: no network, no other file.
"""

import atexit
import hashlib
import io
import logging
import mimetypes
import os
import shutil
import threading
import time
from pathlib import Path
from urllib.parse import unquote, urljoin

from django.conf import settings
from django.contrib.staticfiles import finders
from django.contrib.staticfiles.storage import staticfiles_storage
from django.core.exceptions import ImproperlyConfigured, SuspiciousFileOperation
from django.template import engines
from django.template.loader import render_to_string
from fontTools.ttLib import woff2
from weasyprint import CSS, HTML
from weasyprint.text.fonts import FontConfiguration
from weasyprint.urls import URLFetcher, URLFetcherResponse

logger = logging.getLogger(__name__)

# (family, static name), in fallback order: base.html's font-family lists these families.
FONT_FACES = (
    ("Noto Serif SC", "fonts/NotoSerifSC-Regular.woff2"),
    ("HanaMinB", "fonts/HanaMinB.woff2"),
)

# WeasyPrint's defaults, spelled out because each one matters: subset the fonts (full_fonts makes a
# one-page PDF 27 MB and 3 s), no hinting (PDF viewers hint themselves), compressed streams.
WRITE_OPTIONS = {"full_fonts": False, "hinting": False, "uncompressed_pdf": False, "optimize_images": False}

WARM_UP_TEMPLATE = (
    '{% extends "portal/pdf/base.html" %}{% block content %}<p>社会保险费缴费证明 吉𠮷</p>{% endblock %}'
)

# One render at a time per process: the font configuration is shared, and Pango's font map is not
# thread-safe (runserver and threaded servers render from several threads).
_render_lock = threading.Lock()
# (FontConfiguration, @font-face stylesheet, URL fetcher) once this process has loaded the fonts.
_loaded = None


def render_pdf(template_name, context):
    """The PDF of `template_name` (which extends portal/pdf/base.html) rendered with `context`."""
    return html_to_pdf(render_to_string(template_name, context), name=template_name)


def html_to_pdf(html, *, name="document"):
    """The PDF of an HTML document, with the bundled fonts embedded (subset) and static URLs resolved."""
    started = time.perf_counter()
    with _render_lock:
        font_config, font_faces, fetcher = _fonts()
        document = HTML(string=html, base_url=static_base_url(), url_fetcher=fetcher)
        pdf = document.write_pdf(stylesheets=[font_faces], font_config=font_config, **WRITE_OPTIONS)
    logger.debug("rendered %s: %d bytes in %.0f ms", name, len(pdf), (time.perf_counter() - started) * 1000)
    return pdf


def warm_up():
    """Load the fonts and render a small document now, so the first real one is fast. Returns seconds."""
    started = time.perf_counter()
    html_to_pdf(engines["django"].from_string(WARM_UP_TEMPLATE).render({}), name="warm-up")
    return time.perf_counter() - started


@atexit.register
def close():
    """Drop this process's fonts and delete the temporary folder of their decoded files."""
    global _loaded
    with _render_lock:
        if _loaded is not None:
            folder = _loaded[0]._folder
            _loaded[0]._folder = None  # so that its __del__, whenever it runs, has nothing left to do
            _loaded = None
            if folder is not None:
                shutil.rmtree(folder, ignore_errors=True)


def static_base_url():
    """The documents' base URL: the site's STATIC_URL, as a file: URL when it is a path ("/static/")."""
    return urljoin("file:///", settings.STATIC_URL)


def find_static(name):
    """The file a static name refers to, as the staticfiles finders or STATIC_ROOT have it; else None."""
    try:
        found = finders.find(name)
        if found:
            return Path(found)
        # After collectstatic, {% static %} names the hashed copies that only STATIC_ROOT has.
        if settings.STATIC_ROOT and staticfiles_storage.exists(name):
            return Path(staticfiles_storage.path(name))
    except SuspiciousFileOperation:
        logger.warning("PDF resource outside the static folders refused: %s", name)
    return None


class StaticFilesFetcher(URLFetcher):
    """Serves a document's static files from disk and its data: URLs; refuses every other URL."""

    def fetch(self, url, headers=None):
        if url.startswith("data:"):
            return super().fetch(url, headers)
        base = static_base_url()
        if url.startswith(base):
            name = unquote(url[len(base) :].split("?")[0].split("#")[0])
            path = find_static(name)
            if path is not None:
                content_type = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
                return URLFetcherResponse(url, font_bytes(path), {"Content-Type": content_type})
        # WeasyPrint logs this and leaves the resource out.
        raise ValueError(f"PDF documents only load static files and data: URLs, not {url}")


def font_cache_dir():
    return Path(getattr(settings, "PDF_FONT_CACHE_DIR", None) or Path(settings.VAR_DIR) / "fonts")


def font_bytes(path):
    """
    A static file's bytes; for a WOFF2 font, the font decoded (what WeasyPrint would decode itself), from
    the cache when an earlier process has decoded it. Decoding takes over 4 s on a busy machine when two
    worker processes start together, longer than a Celery pool waits for a new process before killing it.
    The cache is written whole or not at all (a rename); if it cannot be written, the font is decoded here.
    """
    data = path.read_bytes()
    if data[:4] != b"wOF2":
        return data
    cached = font_cache_dir() / f"{path.stem}-{hashlib.sha256(data).hexdigest()[:16]}.otf"
    try:
        return cached.read_bytes()
    except OSError:
        pass
    decoded = io.BytesIO()
    woff2.decompress(io.BytesIO(data), decoded)
    font = decoded.getvalue()
    try:
        cached.parent.mkdir(parents=True, exist_ok=True)
        partial = cached.with_name(f"{cached.name}.{os.getpid()}.partial")
        partial.write_bytes(font)
        os.replace(partial, cached)
    except OSError as error:
        logger.warning("PDF font cache not written, each process decodes %s itself: %s", path.name, error)
    return font


def font_face_css():
    """@font-face rules for the bundled fonts; a missing font file is a deployment error."""
    rules = []
    for family, name in FONT_FACES:
        if find_static(name) is None:
            raise ImproperlyConfigured(f"The PDF font {name} is missing from the static files.")
        rules.append(f'@font-face {{ font-family: "{family}"; src: url("{name}"); }}')
    return "\n".join(rules)


def _fonts():
    """
    This process's font configuration with the bundled fonts loaded, the @font-face stylesheet that
    loaded them, and the URL fetcher; built on first use. Call with the render lock held.
    """
    global _loaded
    if _loaded is None:
        font_config = FontConfiguration()
        fetcher = StaticFilesFetcher()
        font_faces = CSS(
            string=font_face_css(), base_url=static_base_url(), url_fetcher=fetcher, font_config=font_config
        )
        _loaded = (font_config, font_faces, fetcher)
    return _loaded


def _forget_fonts_in_child():
    """
    A forked child loads its own fonts. The parent's stay the parent's: the child must not delete their
    folder when it drops them, nor wait on a lock that was held when it forked.

    (WeasyPrint 70 writes each @font-face file to `FontConfiguration._folder`, a temporary folder that
    its __del__ removes.)
    """
    global _loaded, _render_lock
    if _loaded is not None:
        _loaded[0]._folder = None
    _loaded = None
    _render_lock = threading.Lock()


os.register_at_fork(after_in_child=_forget_fonts_in_child)
