#!/usr/bin/env python3
"""
Reference client of the 社保费第三方渠道接口 (docs/channels-api.md), standard library only: copy this
file into a channel's code base and call it, or use it from the command line.

    from channel_client import ChannelClient

    client = ChannelClient("https://portal.example/api/channels/v1/", key_id, secret)
    client.post("enrolments/query", {"name": "张灵活", "id_type": "201", "id_number": "310115199003150017"})
    client.post("orders", {...}, idempotency_key="your-order-id")
    client.get("orders/SB20240501120000123456")

    CHANNEL_SECRET=SECRET python scripts/channel_client.py --base-url http://127.0.0.1:8000/api/channels/v1/ \\
        --key KEY_ID enrolments --id-type 201 --id-number 310115199003150017 --name 张灵活

The secret comes from CHANNEL_SECRET (not visible in the process list, unlike the command line) or
--secret=SECRET, written with "=": a secret may begin with "-".

Every request is signed: X-Signature = hex(HMAC-SHA256(secret, METHOD\\nPATH\\nSORTED_QUERY\\nTIMESTAMP\\n
NONCE\\nhex(SHA256(BODY)))). The transport is pluggable (tests send through Django's test client).
"""

import argparse
import hashlib
import hmac
import json
import os
import secrets
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from urllib.parse import parse_qsl, quote, urlencode, urljoin, urlsplit

__all__ = ["ApiResponse", "ChannelClient", "sign_request", "string_to_sign", "urllib_transport"]


def canonical_query(query):
    pairs = parse_qsl(query or "", keep_blank_values=True)
    return "&".join(f"{quote(key, safe='')}={quote(value, safe='')}" for key, value in sorted(pairs))


def string_to_sign(method, path, query, timestamp, nonce, body):
    """The text that is signed; `path` as in the URL (percent-encoded), `body` the exact bytes sent."""
    return "\n".join(
        [
            method.upper(),
            quote(path, safe="/%"),
            canonical_query(query),
            str(timestamp),
            nonce,
            hashlib.sha256(body or b"").hexdigest(),
        ]
    )


def sign_request(secret, key_id, method, url, body=b"", *, timestamp=None, nonce=None):
    """The four authentication headers for a request to `url` with `body`."""
    parts = urlsplit(url)
    timestamp = str(int(time.time()) if timestamp is None else timestamp)
    nonce = nonce or secrets.token_hex(16)
    message = string_to_sign(method, parts.path or "/", parts.query, timestamp, nonce, body)
    signature = hmac.new(secret.encode(), message.encode(), hashlib.sha256).hexdigest()
    return {"X-Channel-Key": key_id, "X-Timestamp": timestamp, "X-Nonce": nonce, "X-Signature": signature}


@dataclass
class ApiResponse:
    status: int
    headers: dict = field(default_factory=dict)
    body: bytes = b""

    @property
    def ok(self):
        return 200 <= self.status < 300

    def json(self):
        return json.loads(self.body.decode("utf-8")) if self.body else None

    def header(self, name):
        wanted = name.lower()
        return next((value for key, value in self.headers.items() if key.lower() == wanted), None)


def urllib_transport(method, url, headers, body, *, timeout=10):
    """Send with urllib; HTTP errors are responses too (the API explains them in the body)."""
    request = urllib.request.Request(url, data=body or None, headers=headers, method=method)  # noqa: S310
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310
            return ApiResponse(response.status, dict(response.headers.items()), response.read())
    except urllib.error.HTTPError as error:
        return ApiResponse(error.code, dict(error.headers.items()), error.read())


class ChannelClient:
    """
    A signed client. `transport(method, url, headers, body) -> ApiResponse` defaults to urllib; `clock`
    gives the Unix time used in X-Timestamp.
    """

    def __init__(self, base_url, key_id, secret, *, transport=None, clock=time.time):
        self.base_url = base_url if base_url.endswith("/") else base_url + "/"
        self.key_id = key_id
        self.secret = secret
        self.transport = transport or urllib_transport
        self.clock = clock

    def url(self, path, params=None):
        # Relative paths ("orders") are under base_url; "/api/..." is a path on the same host.
        url = urljoin(self.base_url, path)
        if params:
            url += "?" + urlencode(sorted(params.items()), quote_via=quote)
        return url

    def request(self, method, path, *, params=None, json_body=None, headers=None):
        url = self.url(path, params)
        body = b""
        sent = dict(headers or {})
        if json_body is not None:
            body = json.dumps(json_body, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
            sent["Content-Type"] = "application/json"
        sent.update(sign_request(self.secret, self.key_id, method, url, body, timestamp=int(self.clock())))
        return self.transport(method, url, sent, body)

    def get(self, path, params=None):
        return self.request("GET", path, params=params)

    def post(self, path, json=None, idempotency_key=None):  # noqa: A002 (the payload, as in requests)
        headers = {"Idempotency-Key": idempotency_key} if idempotency_key else None
        return self.request("POST", path, json_body=json if json is not None else {}, headers=headers)


# Command line --------------------------------------------------------------------------------------------


def _identity(args):
    return {"name": args.name, "id_type": args.id_type, "id_number": args.id_number}


def _add_identity(parser):
    parser.add_argument("--name", required=True, help="姓名")
    parser.add_argument("--id-type", default="201", help="证件类型代码（默认 201 居民身份证）")
    parser.add_argument("--id-number", required=True, help="证件号码")


def build_parser():
    parser = argparse.ArgumentParser(description="社保费第三方渠道接口 参考客户端")
    parser.add_argument("--base-url", required=True, help="如 http://127.0.0.1:8000/api/channels/v1/")
    parser.add_argument("--key", required=True, help="密钥ID（X-Channel-Key）")
    parser.add_argument(
        "--secret",
        default=os.environ.get("CHANNEL_SECRET"),
        help="密钥，写作 --secret=密钥（密钥可能以“-”开头）；不给出时取环境变量 CHANNEL_SECRET",
    )
    commands = parser.add_subparsers(dest="command", required=True)

    _add_identity(commands.add_parser("enrolments", help="查询参保信息"))

    bills = commands.add_parser("bills", help="查询应缴信息")
    _add_identity(bills)
    bills.add_argument("--payer-type", choices=["resident", "flexible"], required=True)
    bills.add_argument("--insurance", choices=["pension", "medical"])
    bills.add_argument("--year", type=int, help="城乡居民：缴费年度")
    bills.add_argument("--arrears", action="store_true", help="城乡居民：补缴")
    bills.add_argument("--from", dest="period_from", help="灵活就业：缴费期间起 YYYY-MM")
    bills.add_argument("--to", dest="period_to", help="灵活就业：缴费期间止 YYYY-MM")
    bills.add_argument("--special", action="store_true", help="灵活就业：特殊缴费")

    order = commands.add_parser("create-order", help="创建缴费订单")
    _add_identity(order)
    order.add_argument("--notice", action="append", required=True, help="征集通知单号（可重复）")
    order.add_argument("--pay-method", choices=["alipay", "wechat", "unionpay"])
    order.add_argument("--idempotency-key", help="幂等键（默认随机生成）")

    commands.add_parser("order", help="查询缴费订单").add_argument("order_number")

    result = commands.add_parser("payment-result", help="通知支付结果")
    result.add_argument("order_number")
    result.add_argument("--status", choices=["paid", "failed"], default="paid")
    result.add_argument("--amount")
    result.add_argument("--trade-no", default="")

    _add_identity(commands.add_parser("mandate", help="查看委托扣款协议（随申办）"))
    _add_identity(commands.add_parser("certificates", help="缴费证明查询（随申办）"))

    download = commands.add_parser("download", help="缴费证明下载（随申办）")
    download.add_argument("certificate_id", type=int)
    download.add_argument("--output", required=True, help="保存的 PDF 文件名")
    return parser


def run(args, client):
    """Send the request the command line describes; returns the ApiResponse."""
    command = args.command
    if command == "enrolments":
        return client.post("enrolments/query", _identity(args))
    if command == "bills":
        body = {
            **_identity(args),
            "payer_type": args.payer_type,
            "special": args.special,
            "arrears": args.arrears,
        }
        for name in ("insurance", "year", "period_from", "period_to"):
            if getattr(args, name) is not None:
                body[name] = getattr(args, name)
        return client.post("bills/query", body)
    if command == "create-order":
        body = {**_identity(args), "notice_numbers": args.notice}
        if args.pay_method:
            body["pay_method"] = args.pay_method
        return client.post("orders", body, idempotency_key=args.idempotency_key or secrets.token_hex(16))
    if command == "order":
        return client.get(f"orders/{args.order_number}")
    if command == "payment-result":
        body = {"status": args.status, "trade_no": args.trade_no}
        if args.amount:
            body["amount"] = args.amount
        return client.post(f"orders/{args.order_number}/payment-result", body)
    if command == "mandate":
        return client.post("mandates/query", _identity(args))
    if command == "certificates":
        return client.post("certificates/query", _identity(args))
    if command == "download":
        return client.get(f"certificates/{args.certificate_id}/pdf")
    raise ValueError(command)


def main(argv=None, *, transport=None, stdout=None):
    stdout = stdout or sys.stdout
    parser = build_parser()
    args = parser.parse_args(argv)
    if not args.secret:
        parser.error("缺少密钥：请设置环境变量 CHANNEL_SECRET，或写 --secret=密钥")
    client = ChannelClient(args.base_url, args.key, args.secret, transport=transport)
    response = run(args, client)
    if args.command == "download" and response.ok:
        with open(args.output, "wb") as output:
            output.write(response.body)
        print(f"已保存 {args.output}（{len(response.body)} 字节）", file=stdout)
    else:
        print(json.dumps(response.json(), ensure_ascii=False, indent=2), file=stdout)
    return 0 if response.ok else 1


if __name__ == "__main__":
    sys.exit(main())
