"""
The published description of the API: the OpenAPI 3 schema (drf-spectacular) and a docs page rendered
on the server from it, with no script or font from elsewhere (the portal runs on a closed network).
"""

from django.shortcuts import render
from django.views.decorators.http import require_safe
from drf_spectacular.generators import SchemaGenerator
from drf_spectacular.renderers import OpenApiJsonRenderer, OpenApiYamlRenderer
from drf_spectacular.settings import patched_settings
from drf_spectacular.views import SpectacularAPIView
from rest_framework.permissions import AllowAny

DESCRIPTION = """\
供随申办、支付宝、微信（工银e缴费）、云闪付等第三方掌上办理渠道查询参保和应缴信息、创建缴费订单、通知支付结果，
随申办另可办理委托扣款协议和缴费证明。

每个请求带四个请求头：X-Channel-Key（密钥ID）、X-Timestamp（Unix 秒）、X-Nonce（随机数）、X-Signature：
hex(HMAC-SHA256(密钥, METHOD\\nPATH\\nSORTED_QUERY\\nTIMESTAMP\\nNONCE\\nhex(SHA256(请求体))))。
时间相差超过5分钟、随机数10分钟内重复、签名错误、密钥未知或渠道停用：401 {"code": "unauthorized"}。

所有错误响应为 {"code": "稳定的错误代码", "message": "中文提示"}。详见接入文档 docs/channels-api.md 与参考客户端
scripts/channel_client.py。"""

SPECTACULAR = {
    "TITLE": "上海市电子税务局 社保费第三方渠道接口",
    "DESCRIPTION": DESCRIPTION,
    "VERSION": "1.0.0",
    "COMPONENT_SPLIT_REQUEST": True,
    "PREPROCESSING_HOOKS": ["channels_api.docs.only_channel_endpoints"],
}


def only_channel_endpoints(endpoints, **kwargs):
    """The schema describes this API only, whatever other DRF views the project grows."""
    from channels_api.views import ChannelView

    return [
        endpoint for endpoint in endpoints if issubclass(getattr(endpoint[3], "cls", object), ChannelView)
    ]


class SchemaView(SpectacularAPIView):
    """GET the OpenAPI 3 schema: JSON by default, YAML with ?format=yaml."""

    custom_settings = SPECTACULAR
    renderer_classes = [OpenApiJsonRenderer, OpenApiYamlRenderer]
    authentication_classes = []
    permission_classes = [AllowAny]


def build_schema():
    with patched_settings(SPECTACULAR):
        return SchemaGenerator().get_schema(request=None, public=True)


METHOD_ORDER = ["get", "post", "put", "patch", "delete"]


def _ref_name(ref):
    return ref.rsplit("/", 1)[-1]


def type_of(schema):
    """A short readable type: 'string', 'Bill[]', 'string (date)', one of enum values…"""
    if not schema:
        return ""
    if "$ref" in schema:
        return _ref_name(schema["$ref"])
    if "allOf" in schema and len(schema["allOf"]) == 1:
        return type_of(schema["allOf"][0])
    if schema.get("type") == "array":
        return f"{type_of(schema.get('items', {}))}[]"
    kind = schema.get("type", "object")
    if "format" in schema:
        kind = f"{kind} ({schema['format']})"
    if "enum" in schema:
        kind = f"{kind}：{' / '.join(str(value) for value in schema['enum'] if value is not None)}"
    if schema.get("nullable"):
        kind += "，可为 null"
    return kind


def _refs_in(schema):
    if isinstance(schema, dict):
        if "$ref" in schema:
            yield _ref_name(schema["$ref"])
        for value in schema.values():
            yield from _refs_in(value)
    elif isinstance(schema, list):
        for value in schema:
            yield from _refs_in(value)


def fields_of(schema):
    required = set(schema.get("required", []))
    return [
        {
            "name": name,
            "type": type_of(prop),
            "required": name in required,
            "description": prop.get("description", "") or "",
            "refs": list(dict.fromkeys(_refs_in(prop))),
        }
        for name, prop in schema.get("properties", {}).items()
    ]


def operations_of(schema):
    found = []
    for path, item in schema.get("paths", {}).items():
        for method in sorted((m for m in item if m in METHOD_ORDER), key=METHOD_ORDER.index):
            operation = item[method]
            body = (
                operation.get("requestBody", {}).get("content", {}).get("application/json", {}).get("schema")
            )
            responses = []
            for code, response in operation.get("responses", {}).items():
                content = response.get("content", {})
                media, described = next(iter(content.items()), ("", {}))
                responses.append(
                    {
                        "status": code,
                        "description": response.get("description", ""),
                        "media": media,
                        "type": type_of(described.get("schema", {})),
                    }
                )
            found.append(
                {
                    "method": method.upper(),
                    "path": path,
                    "id": operation.get("operationId", ""),
                    "summary": operation.get("summary", ""),
                    "description": operation.get("description", ""),
                    "tags": operation.get("tags", []),
                    "parameters": [
                        {
                            "name": parameter["name"],
                            "in": parameter["in"],
                            "required": parameter.get("required", False),
                            "type": type_of(parameter.get("schema", {})),
                            "description": parameter.get("description", ""),
                        }
                        for parameter in operation.get("parameters", [])
                    ],
                    "request": type_of(body) if body else "",
                    "responses": responses,
                }
            )
    return found


@require_safe
def docs(request):
    """A readable page of the operations and data structures, from the same schema as /schema/."""
    schema = build_schema()
    operations = operations_of(schema)
    groups = {}
    for operation in operations:
        groups.setdefault((operation["tags"] or ["其他"])[0], []).append(operation)
    components = [
        {"name": name, "description": component.get("description", ""), "fields": fields_of(component)}
        for name, component in sorted(schema.get("components", {}).get("schemas", {}).items())
    ]
    context = {"info": schema["info"], "groups": groups, "components": components}
    return render(request, "channels_api/docs.html", context)
