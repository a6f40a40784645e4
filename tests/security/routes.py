"""
Every route of the URL conf, walked recursively with its namespaces, each with a concrete URL that
resolves to it, so the security tests can request all of them — including routes added after they were
written.
"""

import itertools
import re
from dataclasses import dataclass

from django.urls import Resolver404, URLPattern, URLResolver, get_resolver, resolve
from django.urls.resolvers import RoutePattern

# A value each path converter accepts; "1" for int, str, path, slug and custom converters.
CONVERTER_SAMPLES = {"uuid": "00000000-0000-0000-0000-000000000001"}
# Values tried for a regex's named group, until the URL resolves back to the route.
REGEX_SAMPLES = ["1", "auth", "x"]
CONVERTER = re.compile(r"<(?:(?P<converter>\w+):)?(?P<name>\w+)>")
NAMED_GROUP = re.compile(r"\(\?P<\w+>[^()]*\)")


@dataclass(frozen=True)
class Route:
    route: str  # the pattern as written, e.g. "mandates/<int:pk>/letter.pdf"
    name: str  # "namespace:name", or "namespace:" when the pattern has no name
    callback: object
    url: str  # a concrete URL that resolves to this route
    has_parameters: bool

    @property
    def key(self):
        """The name; for an unnamed route, the dotted path of its view."""
        if not self.name.endswith(":") and self.name:
            return self.name
        view = getattr(self.callback, "view_class", self.callback)
        return f"{view.__module__}.{view.__qualname__}"

    @property
    def namespace(self):
        return self.name.rpartition(":")[0]

    def __str__(self):
        return f"{self.key} ({self.url})"


def all_routes(urlconf=None):
    return list(_walk(get_resolver(urlconf).url_patterns, [], None, urlconf))


def _walk(patterns, parents, namespace, urlconf):
    for pattern in patterns:
        if isinstance(pattern, URLResolver):
            inner = namespace
            if pattern.namespace:
                inner = f"{namespace}:{pattern.namespace}" if namespace else pattern.namespace
            yield from _walk(pattern.url_patterns, [*parents, pattern.pattern], inner, urlconf)
        elif isinstance(pattern, URLPattern):
            pieces = [*parents, pattern.pattern]
            name = f"{namespace}:{pattern.name or ''}" if namespace else (pattern.name or "")
            yield Route(
                route="".join(str(piece) for piece in pieces),
                name=name,
                callback=pattern.callback,
                url=_concrete_url(pieces, pattern.callback, urlconf),
                has_parameters=any(_has_parameters(piece) for piece in pieces),
            )


def _has_parameters(pattern):
    return pattern.regex.groups > 0


def _concrete_url(pieces, callback, urlconf):
    for parts in itertools.product(*(_candidates(piece) for piece in pieces)):
        url = "/" + "".join(parts)
        try:
            if resolve(url, urlconf).func is callback:
                return url
        except Resolver404:
            continue
    raise AssertionError(
        f"no sample URL resolves to {''.join(map(str, pieces))}: add a sample value to tests/security/routes.py"
    )


def _candidates(pattern):
    if isinstance(pattern, RoutePattern):
        return [CONVERTER.sub(lambda m: CONVERTER_SAMPLES.get(m["converter"], "1"), str(pattern._route))]
    text = pattern.regex.pattern.removeprefix("^").removesuffix(r"\Z").removesuffix("$")
    return list(
        dict.fromkeys(
            NAMED_GROUP.sub(sample, text).replace(".*", "").replace("\\", "") for sample in REGEX_SAMPLES
        )
    )
