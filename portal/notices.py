"""
The 办理须知 shown before each business page (SPEC rule 14), kept in this one place.

A page names its notice by key (`{% business_notice "contributions.pay" %}`); the key is also what a
user's "我知道了，不再提示" is remembered under (`portal.models.NoticeDismissal`), so keep keys stable.
"""

from dataclasses import dataclass

from django.utils.translation import gettext_lazy as _

SECTION_LABELS = (
    ("description", _("事项描述")),
    ("materials", _("报送资料")),
    ("procedure", _("办理流程")),
    ("legal_basis", _("文件依据")),
    ("remarks", _("注意事项")),
    ("locations", _("办理地点")),
)

SCOPE_REMINDER = _(
    "请注意! 此功能模块仅适用于以灵活就业及城乡居民身份参保登记并通过税务部门缴费渠道的缴费人，"
    "不包含企事业单位在职职工人员。"
)

# Laws every one of these matters rests on.
_LEGAL_BASIS = (
    _("《中华人民共和国社会保险法》"),
    _("《社会保险费征缴暂行条例》（中华人民共和国国务院令第259号）"),
)


@dataclass(frozen=True)
class Notice:
    """One 办理须知: the matter's title and its six sections, each a tuple of paragraphs."""

    key: str
    title: str
    description: tuple
    materials: tuple
    procedure: tuple
    legal_basis: tuple
    remarks: tuple
    locations: tuple

    @property
    def sections(self):
        """(label, paragraphs) in the order the e-tax bureau shows them."""
        return [(label, getattr(self, field)) for field, label in SECTION_LABELS]


NOTICES = {
    notice.key: notice
    for notice in (
        Notice(
            key="mandates.sign",
            title=_("灵活就业及城乡居民个人委托扣款协议签订"),
            description=(
                _(
                    "1.为实现灵活就业及城乡居民缴费人在上海市电子税务局内进行联网实时扣费或批量扣款缴费，"
                    "须先签订个人委托扣款协议。"
                ),
                _("2.提供个人委托扣款协议的签订、查看、下载、打印和撤销功能。"),
            ),
            materials=(
                _("无需报送纸质资料。缴费人信息由系统自动带出。"),
                _(
                    "需填写银行预留手机号码，选择开户银行名称，输入本人借记卡（I类账户）银行账号；"
                    "银行账户名须与缴费人姓名一致。"
                ),
            ),
            procedure=(
                _(
                    "1.填写银行预留手机号码、开户银行名称和银行账号，点击“下一步”生成《社会保险费扣费授权书》。"
                ),
                _("2.核对授权书信息无误后点击“同意”。"),
                _("3.获取并输入短信验证码，验证通过后授权成功。"),
            ),
            legal_basis=_LEGAL_BASIS,
            remarks=(
                _("1.授权书在办理参保登记成功后生效；授权人终止参保关系的，授权书自行终止。"),
                _("2.同一时间只能签订一份委托扣款协议。如需更换银行卡，请先撤销已签订的协议，再重新签订。"),
                _(
                    "3.请在扣缴期限前将需要缴纳的社会保险费足额存入授权账户。税务机关定期"
                    "（逢国定节假日顺延）委托承办银行扣缴，在扣缴期限内循环扣缴直至成功为止。"
                ),
                _("4.撤销后不再进行自动扣缴社保费。"),
            ),
            locations=(
                _("上海市电子税务局。"),
                _(
                    "也可携带有效身份证件和银行卡至本市各街道（乡、镇）社区事务受理服务中心签订，"
                    "或持《社会保险费扣费授权书》、有效身份证件和银行卡至开户银行营业网点柜面签订。"
                ),
            ),
        ),
        Notice(
            key="contributions.pay",
            title=_("灵活就业及城乡居民社会保险费缴费"),
            description=(
                _("1.根据缴费人类型可分为灵活就业人员、城乡居民。"),
                _("2.提供本人社会保险费缴费和为他人代办社会保险费缴费功能。"),
                _("3.根据数据来源可分为日常缴费、特殊缴费。"),
            ),
            materials=(
                _(
                    "无需报送纸质资料。为他人代办的，需填写其姓名、证件类型和证件号码，且须与参保登记信息一致。"
                ),
            ),
            procedure=(
                _("1.身份信息填写。"),
                _("2.参保信息选择。"),
                _("3.缴费信息提交，确认缴费金额后提交。"),
                _("4.选择支付方式（银联支付或授权书支付），在支付页面完成缴费。"),
            ),
            legal_basis=_LEGAL_BASIS,
            remarks=(
                _(
                    "1.完成参保登记后方可按期缴费。征收期限内的非自动扣款日可自行申报缴费；"
                    "一般情况灵活就业人员一月缴纳一次，城乡居民一年缴纳一次。"
                ),
                _("2.同一征集通知单号的可缴信息必须一起缴费。"),
                _("3.支付后不支持撤销。"),
                _(
                    "4.灵活就业人员已过每月缴费期限（一般每月24日）的，需在当月月底前至参保地社区事务受理服务中心"
                    "申请补缴，在申请后的下下月补缴费款。"
                ),
                _("5.缴费成功后约3个工作日入库，入库后方可开具缴费证明。"),
            ),
            locations=(
                _("上海市电子税务局。"),
                _(
                    "线下缴费：灵活就业缴费人至办税服务厅缴纳；城乡居民缴费人至办税服务厅或社区事务受理服务中心缴纳。"
                ),
            ),
        ),
        Notice(
            key="certificates.issue",
            title=_("灵活就业及城乡居民社会保险费缴费证明开具"),
            description=(
                _("1.社保费缴费证明是税务机关为证明缴费人已经缴纳社保费而开具的证明。"),
                _(
                    "2.提供本人缴费证明开具和为他人代办缴费证明开具功能，开具的证明在“社保缴费证明下载”中下载。"
                ),
            ),
            materials=(_("无需报送纸质资料。为他人代办的，需填写其姓名、证件类型和证件号码。"),),
            procedure=(
                _(
                    "1.选择办理对象、缴费所属期和险种，点击“查询”查询缴费明细；涉及多个税务征收机关的，"
                    "还需选择相应的税务征收机关。"
                ),
                _("2.点击“缴费证明申请”，平台跳转至“社保缴费证明下载”，状态显示“制作中”。"),
                _("3.状态显示“制作成功”后点击“下载”，保存PDF格式的缴费证明。"),
            ),
            legal_basis=_LEGAL_BASIS,
            remarks=(
                _(
                    "1.本功能支持2019年1月1日起税务部门征收的社会保险费缴费证明，适用人群为灵活就业人员及城乡居民"
                    "（非单位在职职工）。"
                ),
                _("2.缴费所属期请选择完整自然年度，如：2019年1月-2019年12月。"),
                _("3.缴费成功后约3个工作日入库，入库后的缴费记录方可查询和开具证明。"),
            ),
            locations=(_("上海市电子税务局。"),),
        ),
    )
}


def get_notice(key):
    """The notice for `key`; KeyError for an unknown key."""
    return NOTICES[key]
