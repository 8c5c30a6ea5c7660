"""The printed dossier (打印审核后的申报材料): the reviewed application of an awarded benchmark
enterprise as a PDF, laid out like the notice's 附件2 申报表, with the provider's confirmation, the
county's checklist and attestation and the city's opinion, for the county and city bureaus to stamp
and file with the province (the notice, 二（六）).

`render(dossier)` is a pure function of its input: the same dossier gives byte-identical bytes
(reportlab's invariant mode, no timestamps). Every key is read with .get: the caller passes what
the events carry; an optional `provider_name` prints the provider's name beside its id. Text is set
in WenQuanYi Micro Hei (Debian's fonts-wqy-microhei), embedded as a subset, so the file prints the
same anywhere.
"""
from __future__ import annotations

import io
from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import datetime, timedelta, timezone
from itertools import groupby
from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape

from reportlab.lib import colors
from reportlab.lib.enums import TA_CENTER
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.pdfgen.canvas import Canvas
from reportlab.platypus import CondPageBreak, KeepTogether, Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

from shared import refdata

FONT_PACKAGE = "fonts-wqy-microhei"
FONT_PATH = Path("/usr/share/fonts/truetype/wqy/wqy-microhei.ttc")
FONT_NAME = "WenQuanYiMicroHei"

PAGE_WIDTH, PAGE_HEIGHT = A4
MARGIN_X = 18 * mm
MARGIN_TOP = 24 * mm  # room for the header
MARGIN_BOTTOM = 26 * mm  # room for the three footer lines
FRAME_PADDING = 6  # reportlab's default frame padding: tables wider than what is left would be shifted
BODY_WIDTH = PAGE_WIDTH - 2 * (MARGIN_X + FRAME_PADDING)
BODY_HEIGHT = PAGE_HEIGHT - MARGIN_TOP - MARGIN_BOTTOM - 2 * FRAME_PADDING
LEFT, RIGHT = MARGIN_X + FRAME_PADDING, PAGE_WIDTH - MARGIN_X - FRAME_PADDING  # header and footer align with the tables

INK = colors.HexColor("#1f2933")
RULE = colors.HexColor("#7b8794")
LABEL_BG = colors.HexColor("#eef1f5")
HEAD_BG = colors.HexColor("#d9e2ec")

CHECKED, UNCHECKED = "■", "□"  # the font has no ballot boxes (☑/☐); these read the same on paper

OWNERSHIP = (("state", "国有"), ("private", "民营"), ("foreign_invested", "三资"), ("joint_stock", "股份制"))
PLANNING = (("needs_analysis", "上云需求分析"), ("feasibility", "可行性评估"), ("provider_selection", "云平台服务商选择"),
            ("scope", "上云业务确定"), ("deployment_analysis", "部署模式分析"), ("timing", "上云时间"))
DOCUMENT_KINDS = {"business_registration": "企业工商注册登记证明", "contract": "上云服务合同", "invoice": "发票",
                  "payment_voucher": "付款凭证", "other": "其他证明材料"}
PLEDGE_TEXT = ("我单位申报的所有材料，均真实、完整，如有不实，愿承担相应的责任。"
               "在不涉及商业秘密的情况下，自愿与其他企业分享经验。")
COUNTY_TEXT = "此企业确系我县（区、市）工业企业，申报材料完备，企业有关证明材料原件已审，与在系统提交的复印件一致。"
GAP = "&nbsp;"  # Paragraph collapses ordinary and ideographic spaces; a form's blanks need real width
STAMP_LINE = f"公章：{GAP * 40}年{GAP * 6}月{GAP * 6}日"
BEIJING = timezone(timedelta(hours=8), "北京时间")


# --- the font ---------------------------------------------------------------------------------

def register_font() -> str:
    """Register the CJK font with reportlab (once per process) and return its name. Checked on every
    call: a dossier without its font would print boxes, so a missing file is an error, not a fallback."""
    if not FONT_PATH.is_file():
        raise RuntimeError(f"the CJK font {FONT_PATH} is missing: install Debian's {FONT_PACKAGE} "
                           f"(apt-get install -y {FONT_PACKAGE}; scripts/common.sh ensure_fonts)")
    if FONT_NAME not in pdfmetrics.getRegisteredFontNames():
        # The .ttc's first face is the TrueType-outlined Micro Hei; reportlab embeds a subset of it.
        pdfmetrics.registerFont(TTFont(FONT_NAME, str(FONT_PATH), subfontIndex=0))
    return FONT_NAME


# --- text helpers -----------------------------------------------------------------------------

def _styles(font: str) -> dict[str, ParagraphStyle]:
    # wordWrap='CJK' breaks between any two characters: Chinese has no spaces to break at.
    base = ParagraphStyle("cell", fontName=font, fontSize=9, leading=13, textColor=INK, wordWrap="CJK")
    return {
        "cell": base,
        "small": ParagraphStyle("small", parent=base, fontSize=7.5, leading=10),
        "label": ParagraphStyle("label", parent=base, textColor=colors.HexColor("#323f4b")),
        "title": ParagraphStyle("title", parent=base, fontSize=18, leading=26, alignment=TA_CENTER, spaceAfter=4),
        "subtitle": ParagraphStyle("subtitle", parent=base, fontSize=10, leading=15, alignment=TA_CENTER),
        # keepWithNext: a heading never ends a page alone.
        "h1": ParagraphStyle("h1", parent=base, fontSize=12.5, leading=18, spaceBefore=10, spaceAfter=5, keepWithNext=1),
        "h2": ParagraphStyle("h2", parent=base, fontSize=10.5, leading=15, spaceBefore=6, spaceAfter=3, keepWithNext=1),
    }


def _text(value: Any) -> str:
    """Markup-safe text for a Paragraph; line breaks kept; a missing value shows as empty."""
    if value is None:
        return ""
    return escape(str(value)).replace("\r\n", "\n").replace("\n", "<br/>")


def _tick(flag: Any) -> str:
    return CHECKED if flag is True else UNCHECKED


def _answer(item: Mapping[str, Any] | None, key: str = "confirmed", yes: str = "确认", no: str = "不确认") -> str:
    """A provider's or county's answer: yes, no, or not given at all (a case the events may lack)."""
    flag = (item or {}).get(key)
    return f"√ {yes}" if flag is True else (f"× {no}" if flag is False else "未作答")


def _instant(value: Any) -> str:
    """An ISO instant as Beijing time, as a Chinese reader dates a signature; anything else as is."""
    try:
        return datetime.fromisoformat(str(value)).astimezone(BEIJING).strftime("%Y-%m-%d %H:%M（北京时间）")
    except ValueError:
        return _text(value)


def _money(amount: Any) -> str:
    """Money strings as the events carry them ("60000.00"), grouped for reading; anything else as is."""
    try:
        whole, _, cents = str(amount).partition(".")
        return f"{int(whole):,}.{cents or '00'} 元"
    except ValueError:
        return _text(amount)


def _by_year(amounts: Mapping[str, Any] | None) -> str:
    return "；".join(f"{year} 年：{_money(amount)}" for year, amount in sorted((amounts or {}).items()))


# --- reference names (codes are printed with their names; an unknown code prints as itself) ----

def _county_name(code: str) -> str:
    county = refdata.divisions().counties.get(code)
    return f"{county.name}（{code}）" if county else code


def _unit_name(code: str) -> str:
    name = refdata.divisions().units.get(code)
    return f"{name}（{code}）" if name else code


def _industry_name(code: str) -> str:
    name = refdata.industries().division_names.get(code[:2])
    return f"{code} {name}" if name else code


def _scenario_names(category: str, scenario: str) -> tuple[str, str]:
    tax = refdata.taxonomy()
    return tax.categories.get(category, category), tax.scenarios.get((category, scenario), scenario)


def _metric_names() -> dict[str, str]:
    return {m["code"]: m["name"] for c in refdata.raw("taxonomy")["categories"]
            for s in c["scenarios"] for m in s["metrics"]}


# --- tables -----------------------------------------------------------------------------------

class _Builder:
    """Turns plain strings into styled table cells and tables of one look."""

    def __init__(self, styles: dict[str, ParagraphStyle]) -> None:
        self.styles = styles

    def p(self, markup: str, style: str = "cell") -> Paragraph:
        return Paragraph(markup, self.styles[style])

    def table(self, rows: list[list[Any]], widths: Sequence[float], *, label_cols: Iterable[int] = (0,),
              head: bool = False, spans: Iterable[tuple[tuple[int, int], tuple[int, int]]] = ()) -> Table:
        cells = [[self.p(c, "label" if (i in set(label_cols) and not (head and r == 0)) else "cell")
                  if isinstance(c, str) else c for i, c in enumerate(row)] for r, row in enumerate(rows)]
        table = Table(cells, colWidths=list(widths), repeatRows=1 if head else 0)
        style: list[tuple[Any, ...]] = [
            ("GRID", (0, 0), (-1, -1), 0.5, RULE),
            ("VALIGN", (0, 0), (-1, -1), "TOP"),
            ("TOPPADDING", (0, 0), (-1, -1), 3), ("BOTTOMPADDING", (0, 0), (-1, -1), 4),
            ("LEFTPADDING", (0, 0), (-1, -1), 4), ("RIGHTPADDING", (0, 0), (-1, -1), 4),
        ]
        spans = list(spans)
        # A label column's shade stops where a value spans across it.
        hidden = {(c, r) for (c0, r0), (c1, r1) in spans for c in range(c0, c1 + 1) for r in range(r0, r1 + 1)
                  if (c, r) != (c0, r0)}
        style += [("BACKGROUND", (c, r), (c, r), LABEL_BG) for c in label_cols
                  for r in range(1 if head else 0, len(rows)) if (c, r) not in hidden]
        if head:
            style.append(("BACKGROUND", (0, 0), (-1, 0), HEAD_BG))
        style += [("SPAN", a, b) for a, b in spans]
        table.setStyle(TableStyle(style))
        return _split_long_rows(table, sum(widths))


def _split_long_rows(table: Table, width: float) -> Table:
    """Rows move whole to the next page, which reads best; only a row taller than half a page (a
    20000-character profile) is let split inside, or it could not be set at all."""
    table.wrap(width, BODY_HEIGHT)
    if max(table._rowHeights, default=0) > BODY_HEIGHT / 2:
        table.splitInRow = 1  # any split point: a larger minimum can leave a remainder that fits nowhere
    return table


Row = tuple[str, str] | tuple[str, str, str, str]


def _form(b: _Builder, rows: Sequence[Row]) -> list[Table]:
    """The 申报表's look: label, value, label, value; a pair alone fills the row. Consecutive rows of
    one kind make one table, stacked flush: no spanned cells, which reportlab wraps to one column's
    width when a long row has to break across pages."""
    quarter = (0.19 * BODY_WIDTH, 0.31 * BODY_WIDTH, 0.19 * BODY_WIDTH, 0.31 * BODY_WIDTH)
    half = (0.19 * BODY_WIDTH, 0.81 * BODY_WIDTH)
    return [b.table([list(r) for r in group], quarter if n == 4 else half, label_cols=(0, 2) if n == 4 else (0,))
            for n, group in groupby(rows, key=len)]


# --- sections ---------------------------------------------------------------------------------

def _cover(b: _Builder, d: Mapping[str, Any], content: Mapping[str, Any]) -> list[Any]:
    facts = [
        ("申报企业", _text(content.get("enterprise_name"))),
        ("统一社会信用代码", _text(content.get("uscc"))),
        ("所在县（区、市）", _text(_county_name(str(content.get("county_code", ""))))),
        ("所属市", _text(_unit_name(str(content.get("unit_code", ""))))),
        ("评选活动", _text(d.get("campaign_name"))),
        ("标杆企业公布文件", _text(d.get("document_number"))),
        ("申报编号", _text(d.get("application_id"))),
    ]
    return [
        b.p("河北省上云标杆企业申报表", "title"),
        b.p("打印审核后的申报材料 · 经县、市工信部门审核盖章后报省工业和信息化厅备案", "subtitle"),
        Spacer(1, 6 * mm),
        b.table([list(f) for f in facts], (0.25 * BODY_WIDTH, 0.75 * BODY_WIDTH)),
    ]


def _enterprise(b: _Builder, content: Mapping[str, Any]) -> list[Any]:
    e: Mapping[str, Any] = content.get("enterprise") or {}
    ownership = (GAP * 3).join(f"{_tick(e.get('ownership') == code)} {name}" for code, name in OWNERSHIP)
    revenue = e.get("revenue") or {}
    revenue_cells = [(f"{year} 年的主营业务收入", _money(revenue[year])) for year in sorted(revenue)]
    revenue_rows: list[Row] = []
    for i in range(0, len(revenue_cells), 2):
        pair = revenue_cells[i:i + 2]
        revenue_rows.append(pair[0] + pair[1] if len(pair) == 2 else pair[0])
    rows: list[Row] = [
        ("企业名称", _text(content.get("enterprise_name"))),
        ("法人代表", _text(e.get("legal_representative")), "组织机构代码", _text(e.get("organisation_code"))),
        ("注册地址", _text(e.get("registered_address")), "单位性质", ownership),
        ("联系地址", _text(e.get("contact_address")), "邮政编码", _text(e.get("postal_code"))),
        ("联系人", _text(e.get("contact_person")), "电话及手机", _text(e.get("phone"))),
        ("传真", _text(e.get("fax")), "电子邮箱", _text(e.get("email"))),
        *revenue_rows,
        ("所属行业", _text(_industry_name(str(e.get("industry_code", ""))) if e.get("industry_code") else ""),
         "员工总数", _text(e.get("employees"))),
        ("信息化部门名称", _text(e.get("it_department")), "部门人数", _text(e.get("it_headcount"))),
        ("企业简介", _text(e.get("profile"))),
    ]
    return [b.p("一、申报企业基本信息", "h1"), *_form(b, rows)]


def _cloud(b: _Builder, content: Mapping[str, Any], provider_name: Any) -> list[Any]:
    c: Mapping[str, Any] = content.get("cloud") or {}
    modes = refdata.taxonomy().deployment_modes
    mode = c.get("deployment_mode")
    planning: Mapping[str, Any] = c.get("planning") or {}
    plan = "<br/>".join(f"<u>{label}</u>：{_text(planning[key])}" for key, label in PLANNING if planning.get(key))
    scenario_list = "<br/>".join(
        "{}. {} — {}：{}".format(i, *map(_text, _scenario_names(s.get("category", ""), s.get("scenario", ""))),
                                "、".join(_text(p) for p in s.get("products") or []))
        for i, s in enumerate(content.get("scenarios") or [], 1))
    rows: list[Row] = [
        ("云计算产品和服务提供商", " ".join(_text(x) for x in (provider_name, c.get("provider_id")) if x)),
        ("上云部署模式", _text(modes.get(mode, mode) if mode else "")),
        ("近三年上云投入", _by_year(c.get("investments")), "上云起始时间", _text(c.get("first_cloud_date"))),
        ("上云类别及其面向的应用场景清单", scenario_list),
        ("上云规划实施过程", plan),
        ("上云总体成效", _text(c.get("overall_results"))),
        ("下一步上云计划", _text(c.get("next_steps"))),
        ("对云平台服务商的评价及对我省企业上云工作的建议", _text(c.get("provider_evaluation"))),
    ]
    return [b.p("二、上云基本情况", "h1"), *_form(b, rows)]


def _scenario(b: _Builder, index: int, s: Mapping[str, Any], metric_names: Mapping[str, str]) -> list[Any]:
    category, scenario = _scenario_names(s.get("category", ""), s.get("scenario", ""))
    rows: list[Row] = [
        ("上云类别", _text(category), "面向场景", _text(scenario)),
        ("具体产品或服务", "、".join(_text(p) for p in s.get("products") or [])),
        ("主要功能", _text(s.get("functions"))),
        ("解决的主要问题", _text(s.get("problems_solved"))),
        ("取得的主要成效", _text(s.get("results"))),
        *((_text(metric_names.get(code, code)), _text(value)) for code, value in (s.get("metrics") or {}).items()),
    ]
    flow: list[Any] = [CondPageBreak(50 * mm), b.p(f"附表 {index}　{_text(category)} · {_text(scenario)}", "h2"),
                       *_form(b, rows)]
    before_after = s.get("before_after") or []
    if before_after:
        table_rows = [["上云前后对比", "指标", "上云前", "上云后"]]
        table_rows += [["", _text(x.get("indicator")), _text(x.get("before")), _text(x.get("after"))] for x in before_after]
        w = BODY_WIDTH
        table = b.table(table_rows, (0.19 * w, 0.27 * w, 0.27 * w, 0.27 * w), label_cols=(0,),
                        spans=[((0, 0), (0, len(table_rows) - 1))])
        table.setStyle(TableStyle([("BACKGROUND", (1, 0), (-1, 0), LABEL_BG)]))
        flow.append(table)
    return flow


def _scenarios(b: _Builder, content: Mapping[str, Any]) -> list[Any]:
    scenarios = content.get("scenarios") or []
    flow: list[Any] = [b.p("三、上云业务功能和成效（附表）", "h1")]
    if not scenarios:
        return flow + [b.p("（未填报）")]
    names = _metric_names()
    for i, s in enumerate(scenarios, 1):
        flow += _scenario(b, i, s, names)
    return flow


def _contracts(b: _Builder, content: Mapping[str, Any], provider: Mapping[str, Any]) -> list[Any]:
    answers: Mapping[str, Any] = (provider.get("items") or {}).get("contracts") or {}
    rows: list[list[Any]] = [["序号", "合同编号", "云服务商", "签订日期", "服务期限", "合同总额", "年服务费", "服务商确认"]]
    for i, c in enumerate(content.get("contracts") or [], 1):
        answer = answers.get(c.get("contract_id"))
        remark = (answer or {}).get("remark")
        rows.append([str(i), _text(c.get("number")), _text(c.get("provider_name")), _text(c.get("signed_on")),
                     f"{_text(c.get('term_start'))} 至 {_text(c.get('term_end'))}", _money(c.get("total_amount")),
                     _money(c.get("annual_fee")), _answer(answer) + (f"<br/>{_text(remark)}" if remark else "")])
    widths = [f * BODY_WIDTH for f in (0.06, 0.13, 0.15, 0.125, 0.135, 0.14, 0.14, 0.12)]
    return [b.p("四、近三年企业上云服务合同", "h1"), b.table(rows, widths, label_cols=(), head=True)]


def _documents(b: _Builder, content: Mapping[str, Any], county: Mapping[str, Any]) -> list[Any]:
    checklist: Mapping[str, Any] = county.get("checklist") or {}
    numbers = {c.get("contract_id"): c.get("number") for c in content.get("contracts") or []}
    rows: list[list[Any]] = [["序号", "材料类别", "文件名", "对应合同", "文件摘要（SHA-256）", "县级核验"]]
    for i, doc in enumerate(content.get("documents") or [], 1):
        entry = checklist.get(doc.get("document_id"))
        remark = (entry or {}).get("remark")
        contract = doc.get("contract_id")
        rows.append([str(i), _text(DOCUMENT_KINDS.get(doc.get("kind", ""), doc.get("kind"))), _text(doc.get("filename")),
                     _text(numbers.get(contract) or contract or "—"), b.p(_text(doc.get("sha256")), "small"),
                     _answer(entry, "matches_original", "与原件一致", "与原件不一致") + (f"<br/>{_text(remark)}" if remark else "")])
    widths = [f * BODY_WIDTH for f in (0.06, 0.16, 0.22, 0.14, 0.28, 0.14)]
    return [b.p("五、相关证明材料及县级核验", "h1"), b.table(rows, widths, label_cols=(), head=True)]


def _pledge(b: _Builder, content: Mapping[str, Any]) -> list[Any]:
    pledge: Mapping[str, Any] = content.get("pledge") or {}
    lines = [
        f"{_tick(pledge.get('truthful'))} 申报的所有材料均真实、完整，如有不实，愿承担相应的责任",
        f"{_tick(pledge.get('no_bad_record'))} 在经营管理、社会信用、安全生产、节能减排等方面无不良记录",
        f"{_tick(pledge.get('share_experience'))} 在不涉及商业秘密的情况下，自愿与其他企业分享经验",
        f"承诺时间：{_instant(pledge['given_at']) if pledge.get('given_at') else '未作出承诺'}",
    ]
    body = PLEDGE_TEXT + "<br/><br/>" + "<br/>".join(lines) + "<br/><br/>法定代表人签章：<br/><br/>" + STAMP_LINE
    table = b.table([["真实性承诺", body]], (0.19 * BODY_WIDTH, 0.81 * BODY_WIDTH))
    return [KeepTogether([b.p("六、真实性承诺", "h1"), table])]


def _provider(b: _Builder, content: Mapping[str, Any], provider: Mapping[str, Any]) -> list[Any]:
    items: Mapping[str, Any] = provider.get("items") or {}
    cloud: Mapping[str, Any] = content.get("cloud") or {}
    asked = (("first_cloud_date", "上云时间", _text(cloud.get("first_cloud_date"))),
             ("content", "上云内容", f"{len(content.get('scenarios') or [])} 个应用场景（见附表）"),
             ("results", "上云成效", "见上云总体成效及附表"))
    rows: list[list[Any]] = [["确认事项", "申报内容", "确认结果", "说明"]]
    for key, label, shown in asked:
        answer = items.get(key)
        rows.append([label, shown, _answer(answer), _text((answer or {}).get("remark"))])
    contracts = (items.get("contracts") or {})
    numbers = {c.get("contract_id"): c.get("number") for c in content.get("contracts") or []}
    for contract_id in sorted(contracts):
        answer = contracts[contract_id]
        rows.append(["相关合同及金额", _text(numbers.get(contract_id) or contract_id), _answer(answer),
                     _text((answer or {}).get("remark"))])
    widths = [f * BODY_WIDTH for f in (0.19, 0.31, 0.15, 0.35)]
    by: Mapping[str, Any] = provider.get("by") or {}
    tail = [["服务商意见", _text(provider.get("remarks")) or "—"], ["确认账号", _text(by.get("id"))]]
    return [b.p("七、云平台服务商确认", "h1"), b.table(rows, widths, label_cols=(0,), head=True), Spacer(1, 2),
            b.table(tail, (0.19 * BODY_WIDTH, 0.81 * BODY_WIDTH))]


def _county(b: _Builder, county: Mapping[str, Any]) -> list[Any]:
    local = county.get("local_industrial_enterprise")
    attest = (f"{_tick(local)} {COUNTY_TEXT}" if local is not False
              else f"{UNCHECKED} 县级工信部门未确认此企业为本县（区、市）工业企业。")
    by: Mapping[str, Any] = county.get("by") or {}
    checklist: Mapping[str, Any] = county.get("checklist") or {}
    matched = sum(1 for entry in checklist.values() if (entry or {}).get("matches_original") is True)
    rows = [
        ["县级审核", f"{attest}<br/><br/>证明材料核验：{matched} / {len(checklist)} 份与原件一致（明细见五）"
                    f"<br/>审核意见：{_text(county.get('remarks')) or '—'}<br/>审核账号：{_text(by.get('id'))}"
                    f"<br/><br/><br/>{STAMP_LINE}"],
    ]
    return [KeepTogether([b.p("八、县级审核", "h1"), b.table(rows, (0.19 * BODY_WIDTH, 0.81 * BODY_WIDTH))])]


def _city(b: _Builder, opinion: Any) -> list[Any]:
    rows = [["市级审核", f"推荐意见：{_text(opinion) or '—'}<br/><br/><br/>{STAMP_LINE}"]]
    return [KeepTogether([b.p("九、市级审核", "h1"), b.table(rows, (0.19 * BODY_WIDTH, 0.81 * BODY_WIDTH))])]


# --- pages ------------------------------------------------------------------------------------

def _page_decorator(d: Mapping[str, Any], font: str) -> Callable[[Any, int, int], None]:
    campaign = str(d.get("campaign_name") or "")
    ident = f"申报编号 {d.get('application_id', '')}　事件位置 {d.get('position', '')}"
    digest = f"摘要 SHA-256 {d.get('digest', '')}"

    def decorate(canvas: Any, page: int, pages: int) -> None:
        canvas.saveState()
        canvas.setFillColor(INK)
        canvas.setStrokeColor(RULE)
        canvas.setLineWidth(0.5)
        top = PAGE_HEIGHT - 14 * mm
        canvas.setFont(font, 9)
        canvas.drawString(LEFT, top, campaign)
        canvas.drawRightString(RIGHT, top, "打印审核后的申报材料")
        canvas.line(LEFT, top - 2.5 * mm, RIGHT, top - 2.5 * mm)
        bottom = 18 * mm
        canvas.line(LEFT, bottom, RIGHT, bottom)
        canvas.setFont(font, 7.5)
        canvas.drawString(LEFT, bottom - 4.5 * mm, ident)
        canvas.drawString(LEFT, bottom - 8.5 * mm, digest)
        canvas.setFont(font, 9)
        canvas.drawRightString(RIGHT, bottom - 4.5 * mm, f"第 {page} 页 / 共 {pages} 页")
        canvas.restoreState()

    return decorate


def _canvas_maker(decorate: Callable[[Any, int, int], None]) -> Callable[..., Canvas]:
    """A canvas that holds its pages back until the end, so each page's footer can name the total."""

    class _Counted(Canvas):
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, **kwargs)
            self._held: list[dict[str, Any]] = []

        def showPage(self) -> None:
            self._held.append(dict(self.__dict__))
            self._startPage()

        def save(self) -> None:
            for number, state in enumerate(self._held, 1):
                self.__dict__.update(state)
                decorate(self, number, len(self._held))
                super().showPage()
            super().save()

    return _Counted


def render(dossier: Mapping[str, Any]) -> bytes:
    """The dossier as an A4 PDF; the same dossier gives the same bytes."""
    font = register_font()
    b = _Builder(_styles(font))
    content: Mapping[str, Any] = dossier.get("content") or {}
    provider: Mapping[str, Any] = dossier.get("provider_confirmation") or {}
    county: Mapping[str, Any] = dossier.get("county_checklist") or {}
    flow: list[Any] = [
        *_cover(b, dossier, content), *_enterprise(b, content), *_cloud(b, content, dossier.get("provider_name")), *_scenarios(b, content),
        *_contracts(b, content, provider), *_documents(b, content, county), *_pledge(b, content),
        *_provider(b, content, provider), *_county(b, county), *_city(b, dossier.get("city_opinion")),
    ]
    out = io.BytesIO()
    doc = SimpleDocTemplate(
        out, pagesize=A4, leftMargin=MARGIN_X, rightMargin=MARGIN_X, topMargin=MARGIN_TOP, bottomMargin=MARGIN_BOTTOM,
        invariant=1,  # fixed /ID and no creation date: byte-identical output for the same input
        title=f"打印审核后的申报材料 {dossier.get('application_id', '')}", author="河北省上云标杆企业申报系统",
        subject=str(dossier.get("campaign_name") or ""), creator="hbcloud", producer="hbcloud",
    )
    doc.build(flow, canvasmaker=_canvas_maker(_page_decorator(dossier, font)))
    return out.getvalue()
