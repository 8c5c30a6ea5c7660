"""Input schemas of the application service's RPCs. Every invalid field is reported at once."""
from __future__ import annotations

import re
import unicodedata
from typing import Any

from marshmallow import Schema, ValidationError, fields, post_load, validate, validates_schema

from shared import refdata
from shared.fields import CAMPAIGN_CODE, CRITERION_CODE, PROVIDER_ID, Base64Content, CreditCode, IsoDate, Money, Pattern, WholeNumber
from shared.identity import Role

from services.application.domain import Status
from services.application.projections import REVIEW_STAGES, REVIEW_STATUSES

ISSUED_ROLES = [r for r in Role if r not in (Role.ENTERPRISE, Role.SERVICE)]  # enterprises register; services are the system

USERNAME = Pattern(r"^[A-Za-z0-9_.@-]{4,64}$", error="4–64 letters, digits or _.@- / 用户名为4–64位字母、数字或_.@-")
OWNERSHIP = ("state", "private", "foreign_invested", "joint_stock")  # 国有 民营 三资 股份制
DOCUMENT_KINDS = ("business_registration", "contract", "invoice", "payment_voucher", "other")
NEEDS_CONTRACT = ("contract", "invoice", "payment_voucher")
TEXT = validate.Length(max=20000)


def strong_password(value: str) -> None:
    if len(value) < 10 or not re.search(r"[A-Za-z]", value) or not re.search(r"\d", value):
        raise ValidationError("at least 10 characters with letters and digits / 密码至少10位，须含字母和数字")


def known_industry(code: str) -> None:
    if not re.fullmatch(r"\d{2,4}", code) or code[:2] not in refdata.industries().division_names:
        raise ValidationError("not a GB/T 4754-2017 industry code / 不是国民经济行业分类代码")


def hebei_county(value: str) -> None:
    if value not in refdata.divisions().counties:
        raise ValidationError("not a county-level division of Hebei (GB/T 2260) / 不是河北省县级行政区划代码")


class RegisterEnterpriseSchema(Schema):
    username = fields.String(required=True, validate=USERNAME)
    password = fields.String(required=True, validate=strong_password, load_only=True)
    uscc = CreditCode(required=True)
    name = fields.String(required=True, validate=validate.Length(min=2, max=200))
    county_code = fields.String(required=True, validate=hebei_county)


class LoginSchema(Schema):
    username = fields.String(required=True, validate=validate.Length(min=1, max=64))
    password = fields.String(required=True, validate=validate.Length(min=1, max=256))


class ChangePasswordSchema(Schema):
    old_password = fields.String(required=True)
    new_password = fields.String(required=True, validate=strong_password)


class ProvisionAccountSchema(Schema):
    username = fields.String(required=True, validate=USERNAME)
    password = fields.String(load_default=None, validate=strong_password)
    role = fields.String(required=True, validate=validate.OneOf([r.value for r in ISSUED_ROLES]))
    display_name = fields.String(required=True, validate=validate.Length(min=1, max=200))
    division_code = fields.String(load_default=None)
    provider_id = fields.String(load_default=None, validate=PROVIDER_ID)

    @validates_schema
    def jurisdiction(self, data: dict[str, Any], **_: Any) -> None:
        d = refdata.divisions()
        role, code = data["role"], data.get("division_code")
        if role == "county" and code not in d.counties:
            raise ValidationError({"division_code": ["a county bureau needs a Hebei county code / 县级账号须填写县级区划代码"]})
        if role == "city" and code not in d.units:
            raise ValidationError({"division_code": ["a city bureau needs one of the 14 city-level units / 市级账号须填写市级单位代码"]})
        if role not in ("county", "city") and code is not None:
            raise ValidationError({"division_code": ["only county and city bureaus have a division / 仅县、市账号有辖区"]})
        if role == "provider" and not data.get("provider_id"):
            raise ValidationError({"provider_id": ["a provider account names its provider / 服务商账号须指定服务商"]})
        if role != "provider" and data.get("provider_id"):
            raise ValidationError({"provider_id": ["only provider accounts name a provider / 仅服务商账号指定服务商"]})


class AccountStateSchema(Schema):
    username = fields.String(required=True)
    reason = fields.String(required=True, validate=validate.Length(min=2, max=2000))


class RubricItemSchema(Schema):
    code = fields.String(required=True, validate=CRITERION_CODE)  # what score sheets name it by
    name_zh = fields.String(required=True, validate=validate.Length(min=1, max=200))
    name_en = fields.String(required=True, validate=validate.Length(min=1, max=200))
    max = WholeNumber(required=True, validate=validate.Range(min=1, max=100))


class EvidenceLimitsSchema(Schema):
    max_bytes = WholeNumber(required=True, validate=validate.Range(min=1, max=50 * 1024 * 1024))
    content_types = fields.List(fields.String(), required=True, validate=validate.Length(min=1))


class CampaignSettingsSchema(Schema):
    code = fields.String(required=True, validate=CAMPAIGN_CODE)
    name = fields.String(required=True, validate=validate.Length(min=1, max=200))
    document = fields.String(load_default="", validate=validate.Length(max=200))
    opens_on = IsoDate(required=True)
    submission_deadline = IsoDate(required=True)
    provider_deadline = IsoDate(required=True)
    county_deadline = IsoDate(required=True)
    city_deadline = IsoDate(required=True)
    system_close = IsoDate(required=True)
    first_contract_on_or_before = IsoDate(required=True)
    reference_date = IsoDate(required=True)
    revenue_years = fields.List(WholeNumber(), required=True, validate=validate.Length(min=1))
    investment_years = fields.List(WholeNumber(), required=True, validate=validate.Length(min=1))
    subsidy_rate = fields.Decimal(required=True, as_string=True, validate=validate.Range(min=0, max=1))
    subsidy_cap = Money(required=True)
    notice_period_days = WholeNumber(required=True, validate=validate.Range(min=1, max=60))
    ban_years = WholeNumber(required=True, validate=validate.Range(min=1, max=10))
    rubric = fields.List(fields.Nested(RubricItemSchema), required=True, validate=validate.Length(min=1, max=20))
    experts_per_application = WholeNumber(required=True, validate=validate.Range(min=1, max=15))
    trim_extremes_from = WholeNumber(required=True, validate=validate.Range(min=3))
    quota = WholeNumber(load_default=None, allow_none=True, validate=validate.Range(min=1))
    # The expert review's settings added with the scoring service: optional, defaults documented in
    # docs/reference-data.md ("Expert review"); null means "none" (threshold, deadline) or "the
    # rubric's first criterion" (tie-break).
    threshold = WholeNumber(load_default=None, allow_none=True, validate=validate.Range(min=0, max=100))
    outlier_distance = WholeNumber(load_default=15, validate=validate.Range(min=1, max=100))
    tie_break_criterion = fields.String(load_default=None, allow_none=True)
    declaration_valid_days = WholeNumber(load_default=365, validate=validate.Range(min=1, max=3660))
    expert_review_deadline = IsoDate(load_default=None, allow_none=True)
    evidence = fields.Nested(EvidenceLimitsSchema, required=True)

    @validates_schema
    def dates_in_order(self, data: dict[str, Any], **_: Any) -> None:
        order = ["opens_on", "submission_deadline", "provider_deadline", "county_deadline", "city_deadline", "system_close"]
        if any(k not in data for k in order):
            return
        for earlier, later in zip(order, order[1:]):
            if data[later] < data[earlier]:
                raise ValidationError({later: [f"must not be before {earlier} / 日期顺序有误"]})
        if "rubric" in data and sum(item["max"] for item in data["rubric"]) != 100:
            raise ValidationError({"rubric": ["criteria maxima must add up to 100 / 评分细则满分须为100"]})
        if "rubric" in data and len({item["code"] for item in data["rubric"]}) != len(data["rubric"]):
            raise ValidationError({"rubric": ["each criterion code once / 评分项目代码不得重复"]})
        tie_break = data.get("tie_break_criterion")
        if tie_break is not None and "rubric" in data and tie_break not in [item["code"] for item in data["rubric"]]:
            raise ValidationError({"tie_break_criterion": ["a criterion code of the rubric / 须为评分细则中的项目代码"]})
        deadline = data.get("expert_review_deadline")
        if deadline is not None and "city_deadline" in data and deadline < data["city_deadline"]:
            raise ValidationError({"expert_review_deadline": ["must not be before city_deadline / 日期顺序有误"]})

    @post_load
    def plain(self, data: dict[str, Any], **_: Any) -> dict[str, Any]:
        data["subsidy_rate"] = str(data["subsidy_rate"])
        return data


class ProviderSchema(Schema):
    provider_id = fields.String(required=True, validate=PROVIDER_ID)
    name = fields.String(required=True, validate=validate.Length(min=2, max=200))
    uscc = CreditCode(required=True)
    reason = fields.String(load_default="", validate=validate.Length(max=2000))


class RemoveProviderSchema(Schema):
    provider_id = fields.String(required=True, validate=PROVIDER_ID)
    reason = fields.String(required=True, validate=validate.Length(min=2, max=2000))


class PoolQuerySchema(Schema):
    as_of = fields.AwareDateTime(load_default=None)


class BanSchema(Schema):
    uscc = CreditCode(required=True)
    reason = fields.String(required=True, validate=validate.Length(min=2, max=4000))
    starts_on = fields.Date(required=True)
    ends_on = fields.Date(load_default=None)
    source_ref = fields.String(load_default=None)


class LiftBanSchema(Schema):
    ban_id = fields.UUID(required=True)
    reason = fields.String(required=True, validate=validate.Length(min=2, max=4000))


def year_keyed_money() -> fields.Dict:
    """{year: yuan}; which years a campaign asks for is the campaign's (checked at submission)."""
    return fields.Dict(keys=fields.String(validate=Pattern(r"^\d{4}$")), values=Money())


class EnterpriseSectionSchema(Schema):
    """附件2 申报表, 申报企业基本信息. Any subset may be given; the rest stays as it was."""

    legal_representative = fields.String(validate=validate.Length(max=100))
    organisation_code = fields.String(validate=validate.Length(max=32))
    registered_address = fields.String(validate=validate.Length(max=500))
    ownership = fields.String(validate=validate.OneOf(OWNERSHIP))
    contact_address = fields.String(validate=validate.Length(max=500))
    postal_code = fields.String(validate=Pattern(r"^\d{6}$", error="six digits / 六位数字"))
    contact_person = fields.String(validate=validate.Length(max=100))
    phone = fields.String(validate=Pattern(r"^[0-9+\- ]{7,30}$"))
    fax = fields.String(validate=Pattern(r"^[0-9+\- ]{0,30}$"))
    email = fields.Email()
    revenue = year_keyed_money()
    industry_code = fields.String(validate=lambda code: known_industry(code))
    employees = WholeNumber(validate=validate.Range(min=0, max=10_000_000))
    it_department = fields.String(validate=validate.Length(max=200))
    it_headcount = WholeNumber(validate=validate.Range(min=0, max=10_000_000))
    profile = fields.String(validate=TEXT)


class PlanningSchema(Schema):
    needs_analysis = fields.String(validate=TEXT)
    feasibility = fields.String(validate=TEXT)
    provider_selection = fields.String(validate=TEXT)
    scope = fields.String(validate=TEXT)
    deployment_analysis = fields.String(validate=TEXT)
    timing = fields.String(validate=TEXT)


class CloudSectionSchema(Schema):
    """附件2 上云基本情况."""

    provider_id = fields.String(validate=PROVIDER_ID)
    deployment_mode = fields.String(validate=validate.OneOf(["public", "private", "hybrid", "dedicated"]))
    investments = year_keyed_money()
    first_cloud_date = IsoDate()
    planning = fields.Nested(PlanningSchema)
    overall_results = fields.String(validate=TEXT)
    next_steps = fields.String(validate=TEXT)
    provider_evaluation = fields.String(validate=TEXT)


class BeforeAfterSchema(Schema):
    indicator = fields.String(required=True)
    before = fields.String(required=True)
    after = fields.String(required=True)


class ScenarioSchema(Schema):
    """附表: one scenario's products or services, what they do and what they achieved."""

    category = fields.String(required=True)
    scenario = fields.String(required=True)
    products = fields.List(fields.String(validate=validate.Length(min=1)), required=True, validate=validate.Length(min=1))
    functions = fields.String(required=True, validate=TEXT)
    problems_solved = fields.String(required=True, validate=TEXT)
    results = fields.String(required=True, validate=TEXT)
    before_after = fields.List(fields.Nested(BeforeAfterSchema), load_default=list)
    metrics = fields.Dict(keys=fields.String(), values=fields.Raw(), load_default=dict)

    @validates_schema
    def in_taxonomy(self, data: dict[str, Any], **_: Any) -> None:
        tax = refdata.taxonomy()
        key = (data.get("category"), data.get("scenario"))
        if key not in tax.scenarios:
            raise ValidationError({"scenario": [f"{key[0]}/{key[1]} is not in the taxonomy (附件1) / 不在上云类别中"]})
        allowed = tax.metrics[key]
        errors = {}
        for name, value in data.get("metrics", {}).items():
            kind = allowed.get(name)
            if kind is None:
                errors[name] = ["not a metric of this scenario / 该场景无此指标"]
            elif kind == "integer" and (not isinstance(value, int) or isinstance(value, bool) or value < 0):
                errors[name] = ["a whole number / 须为非负整数"]
            elif kind in ("money", "decimal"):
                try:
                    Money().deserialize(value)
                except ValidationError as e:
                    errors[name] = [str(m) for m in e.messages] if isinstance(e.messages, list) else [str(e.messages)]
        if errors:
            raise ValidationError({"metrics": errors})


def each_scenario_once(scenarios: list[dict[str, Any]]) -> None:
    keys = [(s["category"], s["scenario"]) for s in scenarios]
    if len(keys) != len(set(keys)):
        raise ValidationError("each scenario once / 每个场景只填一次")


def scenario_list() -> fields.List:
    return fields.List(fields.Nested(ScenarioSchema), required=True, validate=each_scenario_once)


class ContractSchema(Schema):
    """近三年企业上云服务合同."""

    contract_id = fields.String(load_default=None, validate=Pattern(r"^[A-Za-z0-9_-]{1,64}$"))
    provider_name = fields.String(required=True, validate=validate.Length(min=2, max=200))
    number = fields.String(required=True, validate=validate.Length(min=1, max=100))
    signed_on = IsoDate(required=True)
    term_start = IsoDate(required=True)
    term_end = IsoDate(required=True)
    total_amount = Money(required=True)
    annual_fee = Money(required=True)

    @validates_schema
    def term(self, data: dict[str, Any], **_: Any) -> None:
        if {"term_start", "term_end"} <= data.keys() and data["term_end"] < data["term_start"]:
            raise ValidationError({"term_end": ["before the term start / 服务期结束早于开始"]})


class DocumentSchema(Schema):
    kind = fields.String(required=True, validate=validate.OneOf(DOCUMENT_KINDS))
    filename = fields.String(required=True, validate=validate.Length(min=1, max=255))
    content_type = fields.String(required=True)
    content_base64 = Base64Content(required=True, load_only=True)
    contract_id = fields.String(load_default=None)

    @validates_schema
    def linked(self, data: dict[str, Any], **_: Any) -> None:
        if data.get("kind") in NEEDS_CONTRACT and not data.get("contract_id"):
            raise ValidationError({"contract_id": ["contracts, invoices and vouchers name their contract / 合同、发票、付款凭证须关联合同"]})

    @post_load
    def decode(self, data: dict[str, Any], **_: Any) -> dict[str, Any]:
        data["content"] = data.pop("content_base64")
        return data


class PledgeSchema(Schema):
    truthful = fields.Boolean(required=True)
    no_bad_record = fields.Boolean(required=True)
    share_experience = fields.Boolean(required=True)


class WithdrawSchema(Schema):
    reason = fields.String(load_default="", validate=validate.Length(max=2000))


SECTIONS: dict[str, type[Schema]] = {"enterprise": EnterpriseSectionSchema, "cloud": CloudSectionSchema}


def section_values(section: str, values: Any) -> dict[str, Any]:
    """The `values` of `update_section`, validated by the section's schema; fields reported at the top level."""
    loaded: dict[str, Any] = SECTIONS[section]().load(values if values is not None else {})
    if not loaded:
        raise ValidationError({"values": ["nothing to change / 无修改内容"]})
    return loaded


# ------------------------------------------------------------------ lists and lookups
MAX_PAGE = 100_000
DIVISION = Pattern(r"^\d{6}$", error="a six-digit division code (GB/T 2260) / 须为六位行政区划代码")


def page_field() -> WholeNumber:
    return WholeNumber(load_default=1, validate=validate.Range(min=1, max=MAX_PAGE))


def page_size_field(default: int = 50) -> WholeNumber:
    return WholeNumber(load_default=default, validate=validate.Range(min=1, max=200))


def division_field() -> fields.String:
    return fields.String(load_default=None, validate=DIVISION)


def plain_text(value: str) -> None:
    """Search text: no control characters (PostgreSQL refuses NUL) and no lone surrogates."""
    if any(unicodedata.category(c) in ("Cc", "Cs") for c in value):
        raise ValidationError("control characters are not allowed / 不能含控制字符")


def search_text(max_length: int) -> fields.String:
    return fields.String(load_default=None, validate=[validate.Length(min=1, max=max_length), plain_text])


class ListApplicationsSchema(Schema):
    campaign_code = fields.String(load_default=None, validate=validate.Length(max=32))
    status = fields.String(load_default=None, validate=validate.OneOf([s.value for s in Status]))
    unit_code = division_field()
    county_code = division_field()
    category = fields.String(load_default=None, validate=validate.Length(max=64))
    uscc = CreditCode(load_default=None)
    enterprise_name = search_text(100)
    review_status = fields.String(load_default=None, validate=validate.OneOf(REVIEW_STATUSES))
    review_stage = fields.String(load_default=None, validate=validate.OneOf(REVIEW_STAGES))
    review_overdue = fields.Boolean(load_default=None)
    page = page_field()
    page_size = page_size_field()


class FindEnterprisesSchema(Schema):
    """The enterprise directory: any of the criteria, all of them together; none lists every one."""

    uscc = CreditCode(load_default=None)
    name = search_text(100)
    division_code = division_field()
    page = page_field()
    page_size = page_size_field()


ROLE = fields.String(load_default=None, validate=validate.OneOf([r.value for r in Role]))


