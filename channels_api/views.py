"""
The channel API's endpoints: thin views that check the request, call the portal's services and answer
JSON. Authentication (signature), permission (allowed operations), rate limit and audit are shared by all.
"""

import re

from django.http import FileResponse, JsonResponse
from django.utils import timezone
from django.views.decorators.csrf import csrf_exempt
from drf_spectacular.openapi import AutoSchema
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiExample, OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import status
from rest_framework.parsers import JSONParser
from rest_framework.renderers import JSONRenderer
from rest_framework.response import Response
from rest_framework.views import APIView

from certificates import selectors as certificate_selectors
from certificates import services as certificate_services
from certificates.models import Certificate, CertificateStatus
from channels_api import audit, presenters, selectors, serializers, services
from channels_api.authentication import ChannelSignatureAuthentication
from channels_api.errors import NO_ENROLMENT, NO_PAYABLE_BILLS, ApiError, exception_handler
from channels_api.models import Operation
from channels_api.permissions import OperationAllowed
from channels_api.throttling import ChannelRateThrottle
from contributions import calendar
from contributions import selectors as contribution_selectors
from contributions import services as contribution_services
from contributions.views import AUTO_DEBIT_DAY, NO_BILLS_REASONS
from mandates import services as mandate_services
from mandates.models import MandateChannel

IDEMPOTENCY_KEY = re.compile(r"^[A-Za-z0-9_.:-]{1,64}$")
WHOLE_NOTICE_HINT = "同一征集通知单号的待缴信息必须一起缴费。由于数据来源于人社局，税务部门不能按照险种过滤。"
ERRORS = {
    400: OpenApiResponse(
        serializers.ErrorSerializer, description="参数校验失败（invalid_request、invalid_json）"
    ),
    401: OpenApiResponse(serializers.ErrorSerializer, description="认证失败（unauthorized）"),
    403: OpenApiResponse(serializers.ErrorSerializer, description="渠道未开通此项业务（forbidden）"),
    429: OpenApiResponse(serializers.ErrorSerializer, description="请求过于频繁（rate_limited）"),
}


def _errors(*codes, **described):
    """The common error responses plus the operation's own, for the schema."""
    responses = dict(ERRORS)
    for code in codes:
        responses[code] = OpenApiResponse(
            serializers.ErrorSerializer, description=described.get(f"e{code}", "")
        )
    return responses


class ChannelView(APIView):
    """Base of every signed endpoint."""

    operation = None
    authentication_classes = [ChannelSignatureAuthentication]
    permission_classes = [OperationAllowed]
    throttle_classes = [ChannelRateThrottle]
    parser_classes = [JSONParser]
    renderer_classes = [JSONRenderer]
    schema = AutoSchema()

    def get_exception_handler(self):
        return exception_handler

    def dispatch(self, request, *args, **kwargs):
        audit.start(request, operation=self.operation)
        response = super().dispatch(request, *args, **kwargs)
        audit.finish(request, response)
        return response

    @property
    def channel(self):
        return self.request.auth.channel

    def validated(self, serializer_class):
        data = self.request.data
        if isinstance(data, dict) and ("name" in data or "id_number" in data):
            audit.note_person(
                self.request, name=str(data.get("name", "")), id_number=str(data.get("id_number", ""))
            )
        serializer = serializer_class(data=data)
        serializer.is_valid(raise_exception=True)
        return serializer.validated_data

    def registered_person(self, data):
        person = selectors.find_person(
            name=data["name"], id_type=data["id_type"], id_number=data["id_number"]
        )
        if person is None:
            raise ApiError(422, "no_enrolment", NO_ENROLMENT)
        return person

    def enrolled_person(self, data):
        """A person with an enrolment (valid or not); someone the bureau has never enrolled gets SPEC rule 1."""
        person = self.registered_person(data)
        if not person.enrolments.exists():
            raise ApiError(422, "not_flexible_or_resident", contribution_services.NOT_ENROLLED)
        return person

    def payer(self, data, *, today):
        """A person enrolled as 灵活就业 or 城乡居民 today."""
        person = self.enrolled_person(data)
        if not contribution_selectors.active_enrolments(person, today=today).exists():
            raise ApiError(422, "no_enrolment", NO_ENROLMENT)
        return person


def _identity(data):
    return {key: data[key] for key in ("name", "id_type", "id_number")}


# 缴费 -------------------------------------------------------------------------------------------------


class EnrolmentsView(ChannelView):
    operation = Operation.ENROLMENTS_QUERY

    @extend_schema(
        operation_id="enrolments_query",
        summary="查询参保信息",
        description=(
            "按证件类型、证件号码、姓名查询有效的参保登记。无有效参保登记：no_enrolment“无有效的参保登记信息”；"
            "未以灵活就业或城乡居民身份参保：not_flexible_or_resident。"
        ),
        tags=["缴费"],
        request=serializers.IdentitySerializer,
        responses={
            200: serializers.EnrolmentsResponseSerializer,
            **_errors(422, e422="no_enrolment 等业务错误"),
        },
        examples=[
            OpenApiExample(
                "请求",
                value={"name": "张灵活", "id_type": "201", "id_number": "310115199003150017"},
                request_only=True,
            )
        ],
    )
    def post(self, request):
        data = self.validated(serializers.IdentitySerializer)
        today = timezone.localdate()
        person = self.payer(data, today=today)
        enrolments = contribution_selectors.active_enrolments(person, today=today)
        body = {
            "person": presenters.person(person),
            "enrolments": [presenters.enrolment(e) for e in enrolments],
        }
        return Response(serializers.EnrolmentsResponseSerializer(body).data)


class BillsView(ChannelView):
    operation = Operation.BILLS_QUERY

    @extend_schema(
        operation_id="bills_query",
        summary="查询应缴信息",
        description=(
            "城乡居民：险种 + 缴费年度，或补缴（以往年度）；灵活就业：缴费期间起止 + 是否特殊缴费。"
            "结果按征集通知单号分组，同一通知单号的应缴信息必须一起缴费。无应缴信息：no_payable_bills"
            "“不存在未申报的待缴费信息”，附可能原因。"
        ),
        tags=["缴费"],
        request=serializers.BillQuerySerializer,
        responses={
            200: serializers.BillsResponseSerializer,
            **_errors(422, e422="no_enrolment、no_payable_bills 等"),
        },
        examples=[
            OpenApiExample(
                "灵活就业 日常缴费",
                value={
                    "name": "张灵活",
                    "id_type": "201",
                    "id_number": "310115199003150017",
                    "payer_type": "flexible",
                    "period_from": "2024-04",
                    "period_to": "2024-04",
                    "special": False,
                },
                request_only=True,
            ),
            OpenApiExample(
                "城乡居民 医疗保险",
                value={
                    "name": "李居民",
                    "id_type": "201",
                    "id_number": "310104198506220028",
                    "payer_type": "resident",
                    "insurance": "medical",
                    "year": 2025,
                },
                request_only=True,
            ),
        ],
    )
    def post(self, request):
        data = self.validated(serializers.BillQuerySerializer)
        today = timezone.localdate()
        person = self.payer(data, today=today)
        criteria = selectors.BillCriteria(
            payer_type=data["payer_type"],
            insurance=data.get("insurance"),
            year=data.get("year"),
            arrears=data.get("arrears", False),
            period_from=data.get("period_from"),
            period_to=data.get("period_to"),
            special=data.get("special", False),
        )
        groups = selectors.payable_groups(person, today=today, criteria=criteria)
        if not groups:
            raise ApiError(422, "no_payable_bills", NO_PAYABLE_BILLS, reasons=NO_BILLS_REASONS)
        body = {
            "person": presenters.person(person),
            "notices": [presenters.notice(group) for group in groups],
            "total": sum((group.total for group in groups), 0),
            "notice": WHOLE_NOTICE_HINT,
        }
        return Response(serializers.BillsResponseSerializer(body).data)


IDEMPOTENCY_HEADER = OpenApiParameter(
    "Idempotency-Key",
    OpenApiTypes.STR,
    OpenApiParameter.HEADER,
    required=True,
    pattern=IDEMPOTENCY_KEY.pattern,
    description="幂等键（1-64位字母、数字或 _ . : -）：同一键、同一请求返回同一订单；同一键、不同请求返回 409",
)


class OrdersView(ChannelView):
    operation = Operation.ORDERS_CREATE

    @extend_schema(
        operation_id="orders_create",
        summary="创建缴费订单",
        description=(
            "为整张征集通知单创建缴费订单（待支付），渠道收款后调用“通知支付结果”。新订单 201；"
            "重复请求（同一 Idempotency-Key、同一请求体）返回原订单 200。"
        ),
        tags=["缴费"],
        parameters=[IDEMPOTENCY_HEADER],
        request=serializers.OrderCreateSerializer,
        responses={
            201: serializers.OrderSerializer,
            200: OpenApiResponse(serializers.OrderSerializer, description="重复请求：原订单"),
            **_errors(409, 422, e409="idempotency_key_reused、already_paid、in_batch_debit", e422="业务错误"),
        },
    )
    def post(self, request):
        data = self.validated(serializers.OrderCreateSerializer)
        key = request.headers.get("Idempotency-Key", "")
        if not IDEMPOTENCY_KEY.fullmatch(key):
            raise ApiError(
                400,
                "invalid_request",
                "请求参数有误，请核对后重试",
                fields={"Idempotency-Key": ["请在请求头 Idempotency-Key 中提供1-64位幂等键"]},
            )
        pay_method = data.get("pay_method") or services.DEFAULT_PAY_METHOD.get(self.channel)
        if pay_method is None:
            raise ApiError(
                400,
                "invalid_request",
                "请求参数有误，请核对后重试",
                fields={"pay_method": ["请选择支付方式"]},
            )
        fingerprint = services.fingerprint(
            {**_identity(data), "notice_numbers": data["notice_numbers"], "pay_method": pay_method}
        )
        try:
            payment = services.replayed_order(self.channel, key, fingerprint)
            if payment is None:
                payment, created = self._create(data, key=key, fingerprint=fingerprint, pay_method=pay_method)
            else:
                created = False
        except services.IdempotencyConflict:
            raise ApiError(409, "idempotency_key_reused", "该幂等键已用于另一笔不同的缴费请求") from None
        audit.note_order(request, payment.order_number)
        payment = selectors.channel_payment(self.channel, payment.order_number)
        status_code = status.HTTP_201_CREATED if created else status.HTTP_200_OK
        return Response(serializers.OrderSerializer(presenters.order(payment)).data, status=status_code)

    def _create(self, data, *, key, fingerprint, pay_method):
        today = timezone.localdate()
        # SPEC rule 5: self-service payment, in the channels too, is closed on auto-debit days.
        if calendar.is_auto_debit_day(today):
            raise ApiError(422, "auto_debit_day", AUTO_DEBIT_DAY)
        person = self.payer(data, today=today)
        try:
            return services.create_order(
                channel=self.channel,
                idempotency_key=key,
                request_fingerprint=fingerprint,
                person=person,
                notice_numbers=data["notice_numbers"],
                pay_method=pay_method,
            )
        except contribution_services.PaymentError as error:
            message = str(error)
            if message == contribution_services.ALREADY_PAID:
                raise ApiError(409, "already_paid", message) from None
            if message == contribution_services.IN_BATCH_DEBIT:
                raise ApiError(409, "in_batch_debit", message) from None
            raise ApiError(422, "payment_refused", message) from None


def _order_not_found():
    return ApiError(404, "order_not_found", "订单不存在")


class OrderView(ChannelView):
    operation = Operation.ORDERS_QUERY

    @extend_schema(
        operation_id="orders_retrieve",
        summary="查询缴费订单",
        description="本渠道创建的订单；其他渠道的订单或不存在的订单号：404 order_not_found。",
        tags=["缴费"],
        responses={200: serializers.OrderSerializer, **_errors(404, e404="order_not_found")},
    )
    def get(self, request, order_number):
        audit.note_order(request, order_number)
        payment = selectors.channel_payment(self.channel, order_number)
        if payment is None:
            raise _order_not_found()
        audit.note_person(request, name=payment.person.name, id_number=payment.person.id_number)
        return Response(serializers.OrderSerializer(presenters.order(payment)).data)


class PaymentResultView(ChannelView):
    operation = Operation.ORDERS_PAYMENT_RESULT

    @extend_schema(
        operation_id="orders_payment_result",
        summary="通知支付结果",
        description=(
            "渠道收款成功（或失败）后通知。可重复通知：已入账的订单原样返回 200。金额与订单不符：409 amount_mismatch；"
            "订单已由另一笔渠道交易支付：409 trade_no_conflict（渠道应退还本笔）；已支付的订单通知失败：409 "
            "status_conflict。应缴信息已由其他方式缴纳时订单状态为 refund_due（重复支付待退款）。"
        ),
        tags=["缴费"],
        request=serializers.PaymentResultSerializer,
        responses={
            200: serializers.OrderSerializer,
            **_errors(404, 409, e404="order_not_found", e409="冲突"),
        },
    )
    def post(self, request, order_number):
        audit.note_order(request, order_number)
        data = self.validated(serializers.PaymentResultSerializer)
        try:
            payment = services.record_payment_result(
                channel=self.channel,
                order_number=order_number,
                paid=data["status"] == "paid",
                amount=data.get("amount"),
                trade_no=data.get("trade_no", ""),
                paid_at=data.get("paid_at"),
                reason=data.get("reason", ""),
            )
        except (services.OrderNotFound, contribution_services.UnknownOrder):
            raise _order_not_found() from None
        except contribution_services.AmountMismatch:
            raise ApiError(409, "amount_mismatch", "支付金额与订单金额不一致") from None
        except services.TradeConflict:
            raise ApiError(409, "trade_no_conflict", "该订单已由另一笔交易支付，请退还本笔款项") from None
        except services.StatusConflict:
            raise ApiError(409, "status_conflict", "该订单已支付成功，不能标记为支付失败") from None
        audit.note_person(request, name=payment.person.name, id_number=payment.person.id_number)
        return Response(serializers.OrderSerializer(presenters.order(payment)).data)


# 委托扣款协议（随申办） -----------------------------------------------------------------------------------


def _mandate_body(person, mandate):
    return serializers.MandateResponseSerializer(
        {"person": presenters.person(person), "mandate": presenters.mandate(mandate)}
    ).data


class MandateQueryView(ChannelView):
    operation = Operation.MANDATES_QUERY

    @extend_schema(
        operation_id="mandates_query",
        summary="查看委托扣款协议",
        description="缴费人当前有效的委托扣款协议（脱敏）；未签订时 mandate 为 null。",
        tags=["委托扣款协议（随申办）"],
        request=serializers.IdentitySerializer,
        responses={200: serializers.MandateResponseSerializer, **_errors(422, e422="no_enrolment")},
    )
    def post(self, request):
        person = self.registered_person(self.validated(serializers.IdentitySerializer))
        return Response(_mandate_body(person, mandate_services.active_mandate(person)))


class MandateSignView(ChannelView):
    operation = Operation.MANDATES_SIGN

    @extend_schema(
        operation_id="mandates_sign",
        summary="签订委托扣款协议",
        description=(
            "随申办已在其应用内核验缴费人身份，此处不再发送短信验证码；银行仍核验账户为缴费人本人I类借记卡及预留手机号。"
            "已有有效协议：409 mandate_already_signed；银行核验未通过：422 bank_check_failed。"
        ),
        tags=["委托扣款协议（随申办）"],
        request=serializers.MandateSignSerializer,
        responses={
            201: serializers.MandateResponseSerializer,
            **_errors(409, 422, e409="mandate_already_signed", e422="bank_check_failed、no_enrolment 等"),
        },
    )
    def post(self, request):
        data = self.validated(serializers.MandateSignSerializer)
        person = self.enrolled_person(data)
        try:
            mandate = mandate_services.sign_mandate(
                person=person,
                bank=data["bank"],
                account_number=data["account_number"],
                reserved_phone=data["reserved_phone"],
                channel=MandateChannel.SUISHENBAN,
            )
        except mandate_services.MandateError as error:
            if str(error) == mandate_services.ALREADY_SIGNED:
                raise ApiError(409, "mandate_already_signed", str(error)) from None
            raise ApiError(422, "bank_check_failed", str(error)) from None
        return Response(_mandate_body(person, mandate), status=status.HTTP_201_CREATED)


class MandateRevokeView(ChannelView):
    operation = Operation.MANDATES_REVOKE

    @extend_schema(
        operation_id="mandates_revoke",
        summary="撤销委托扣款协议",
        description="撤销后不再自动扣缴社保费；可重新签订。无有效协议：422 no_mandate。",
        tags=["委托扣款协议（随申办）"],
        request=serializers.IdentitySerializer,
        responses={
            200: serializers.MandateResponseSerializer,
            **_errors(422, e422="no_mandate、no_enrolment"),
        },
    )
    def post(self, request):
        person = self.registered_person(self.validated(serializers.IdentitySerializer))
        mandate = mandate_services.active_mandate(person)
        try:
            if mandate is None:
                raise mandate_services.MandateError
            mandate = mandate_services.revoke_mandate(mandate=mandate, channel=MandateChannel.SUISHENBAN)
        except mandate_services.MandateError:
            raise ApiError(422, "no_mandate", "缴费人未签订有效的委托扣款协议") from None
        return Response(_mandate_body(person, mandate))


# 缴费证明（随申办） -----------------------------------------------------------------------------------


class CertificateQueryMixin:
    def records_and_authorities(self, data, person):
        records = certificate_selectors.certificate_records(
            person,
            period_start=data["period_from"],
            period_end=data["period_to"],
            insurance=data["insurance"],
        )
        authorities = list(certificate_selectors.authorities_of(records))
        code = data.get("tax_authority")
        chosen = None
        if code:
            chosen = next((authority for authority in authorities if authority.code == code), None)
            if chosen is None:
                raise ApiError(422, "tax_authority_invalid", "所选税务征收机关在该期间没有缴费记录")
            records = records.filter(tax_authority=chosen)
        return records, authorities, chosen


class CertificateRecordsView(CertificateQueryMixin, ChannelView):
    operation = Operation.CERTIFICATES_RECORDS

    @extend_schema(
        operation_id="certificates_records",
        summary="查询可开具证明的缴费记录",
        description="已入库的缴费明细与合计（2019年1月1日起税务部门征收的部分）；分属多个税务征收机关时列出各机关。",
        tags=["缴费证明（随申办）"],
        request=serializers.CertificateQuerySerializer,
        responses={200: serializers.CertificateRecordsResponseSerializer, **_errors(422, e422="业务错误")},
    )
    def post(self, request):
        data = self.validated(serializers.CertificateQuerySerializer)
        person = self.enrolled_person(data)
        records, authorities, _ = self.records_and_authorities(data, person)
        records = list(records)
        body = {
            "person": presenters.person(person),
            "authorities": [presenters.tax_authority(authority) for authority in authorities],
            "records": [presenters.paid_record(record) for record in records],
            "total": sum((record.amount for record in records), 0),
        }
        return Response(serializers.CertificateRecordsResponseSerializer(body).data)


class CertificatesView(CertificateQueryMixin, ChannelView):
    operation = Operation.CERTIFICATES_APPLY

    @extend_schema(
        operation_id="certificates_apply",
        summary="缴费证明申请",
        description=(
            "为查询到的缴费记录申请缴费证明，状态“制作中”，制作成功后可下载。记录分属多个税务征收机关而未指定："
            "422 tax_authority_required（附 authorities）；没有记录：422 no_records。"
        ),
        tags=["缴费证明（随申办）"],
        request=serializers.CertificateQuerySerializer,
        responses={201: serializers.CertificateSerializer, **_errors(422, e422="业务错误")},
    )
    def post(self, request):
        data = self.validated(serializers.CertificateQuerySerializer)
        person = self.enrolled_person(data)
        _, authorities, chosen = self.records_and_authorities(data, person)
        if chosen is None and len(authorities) > 1:
            raise ApiError(
                422,
                "tax_authority_required",
                "所选期间的缴费记录分属多个税务征收机关，请选择一个税务征收机关",
                authorities=[presenters.tax_authority(authority) for authority in authorities],
            )
        try:
            certificate = certificate_services.apply_for_certificate(
                applicant=services.channel_account(self.channel),
                person=person,
                period_start=data["period_from"],
                period_end=data["period_to"],
                insurance=data["insurance"],
                tax_authority=chosen or (authorities[0] if authorities else None),
            )
        except certificate_services.CertificateError as error:
            raise ApiError(422, "no_records", str(error)) from None
        return Response(
            serializers.CertificateSerializer(presenters.certificate(certificate)).data,
            status=status.HTTP_201_CREATED,
        )


class CertificateListView(ChannelView):
    operation = Operation.CERTIFICATES_LIST

    @extend_schema(
        operation_id="certificates_list",
        summary="缴费证明查询",
        description="本渠道为该缴费人申请的缴费证明（最近100份），可按申请日期筛选。",
        tags=["缴费证明（随申办）"],
        request=serializers.CertificateListSerializer,
        responses={200: serializers.CertificateListResponseSerializer, **_errors(422, e422="no_enrolment")},
    )
    def post(self, request):
        data = self.validated(serializers.CertificateListSerializer)
        person = self.registered_person(data)
        found = selectors.channel_certificates(
            services.channel_account(self.channel),
            person,
            applied_from=data.get("applied_from"),
            applied_to=data.get("applied_to"),
        )[:100]
        body = {
            "person": presenters.person(person),
            "certificates": [presenters.certificate(c) for c in found],
        }
        return Response(serializers.CertificateListResponseSerializer(body).data)


class CertificatePdfView(ChannelView):
    operation = Operation.CERTIFICATES_DOWNLOAD

    @extend_schema(
        operation_id="certificates_download",
        summary="缴费证明下载",
        description="制作成功的缴费证明 PDF。制作中或制作失败：409 certificate_not_ready；不存在：404 certificate_not_found。",
        tags=["缴费证明（随申办）"],
        responses={
            (200, "application/pdf"): OpenApiResponse(OpenApiTypes.BINARY, description="PDF 文件"),
            **_errors(404, 409, e404="certificate_not_found", e409="certificate_not_ready"),
        },
    )
    def get(self, request, pk):
        certificate = (
            Certificate.objects.filter(pk=int(pk), applicant__username=f"channel-{self.channel}")
            .select_related("person")
            .first()
        )
        if certificate is None:
            raise ApiError(404, "certificate_not_found", "缴费证明不存在")
        audit.note_person(request, name=certificate.person.name, id_number=certificate.person.id_number)
        if certificate.status != CertificateStatus.READY:
            message = (
                "缴费证明制作失败，请重新申请"
                if certificate.status == CertificateStatus.FAILED
                else "缴费证明制作中，请稍后再试"
            )
            raise ApiError(409, "certificate_not_ready", message)
        filename = f"社会保险费缴费证明-{certificate.period_start:%Y%m}-{certificate.period_end:%Y%m}.pdf"
        return FileResponse(
            certificate.file.open("rb"), as_attachment=True, filename=filename, content_type="application/pdf"
        )


@csrf_exempt
def unknown_path(request, *args, **kwargs):
    """Any other path under the API: a JSON 404, like every other answer."""
    return JsonResponse(
        {"code": "not_found", "message": "请求的资源不存在"},
        status=404,
        json_dumps_params={"ensure_ascii": False},
    )
