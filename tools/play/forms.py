"""Valid inputs for the 2018 campaign: credit codes, a complete application form, tiny real files. Used by
the campaign driver and (through tests/support/builders.py) by the tests."""
from __future__ import annotations

import base64
import io
import json
from pathlib import Path
from typing import Any

from stdnum.cn import uscc as stdnum_uscc

ROOT = Path(__file__).resolve().parents[2]


def real_pdf(title: str) -> bytes:
    """A one-page PDF a real parser reads (evidence is checked whole, not by its first bytes)."""
    from pypdf import PdfWriter

    writer = PdfWriter()
    writer.add_blank_page(595, 842)
    writer.add_metadata({"/Title": title})
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def real_png() -> bytes:
    from PIL import Image

    out = io.BytesIO()
    Image.new("RGB", (2, 2), (200, 30, 30)).save(out, "PNG")
    return out.getvalue()


PDF = real_pdf("test evidence")
PNG = real_png()


def uscc(region: str = "130102", serial: int = 1, kind: str = "91") -> str:
    body = f"{kind}{region}{serial:08d}X"[:17]
    return body + stdnum_uscc.calc_check_digit(body)


def campaign_2018() -> dict[str, Any]:
    return json.loads((ROOT / "campaigns" / "2018.json").read_text(encoding="utf-8"))


def b64(content: bytes) -> str:
    return base64.b64encode(content).decode()


ENTERPRISE_SECTION: dict[str, Any] = {
    "legal_representative": "张三", "organisation_code": "12345678-9", "registered_address": "石家庄市长安区中山东路1号",
    "ownership": "private", "contact_address": "石家庄市长安区中山东路1号", "postal_code": "050000",
    "contact_person": "李四", "phone": "0311-87000000", "email": "it@example.cn",
    "revenue": {"2016": "120000000.00", "2017": "150000000.00"}, "industry_code": "3311", "employees": 800,
    "it_department": "信息中心", "it_headcount": 12, "profile": "钢结构制造企业，年产值1.5亿元。",
}

CLOUD_SECTION: dict[str, Any] = {
    "provider_id": "hbcloud-provider", "deployment_mode": "hybrid",
    "investments": {"2016": "0.00", "2017": "60000.00", "2018": "90000.00"},
    "first_cloud_date": "2017-05-01",
    "planning": {"needs_analysis": "ERP 老旧", "feasibility": "评估三家", "provider_selection": "比选",
                 "scope": "ERP、MES 上云", "deployment_analysis": "混合云", "timing": "2017年5月起"},
    "overall_results": "运维成本下降30%", "next_steps": "设备上云", "provider_evaluation": "服务及时",
}

SCENARIOS: list[dict[str, Any]] = [
    {"category": "business", "scenario": "production_control", "products": ["云MES"],
     "functions": "排产、报工", "problems_solved": "纸质报工", "results": "效率提升20%",
     "before_after": [{"indicator": "报工时长", "before": "2小时", "after": "10分钟"}], "metrics": {}},
    {"category": "equipment", "scenario": "production_equipment", "products": ["设备物联网平台"],
     "functions": "设备在线监控", "problems_solved": "停机无预警", "results": "停机下降15%",
     "metrics": {"networked_devices": 120, "total_devices": 300}},
]

CONTRACTS: list[dict[str, Any]] = [
    {"contract_id": "c2017", "provider_name": "某云服务有限公司", "number": "HT-2017-001", "signed_on": "2017-04-20",
     "term_start": "2017-05-01", "term_end": "2018-04-30", "total_amount": "60000.00", "annual_fee": "60000.00"},
    {"contract_id": "c2018", "provider_name": "某云服务有限公司", "number": "HT-2018-007", "signed_on": "2018-04-25",
     "term_start": "2018-05-01", "term_end": "2019-04-30", "total_amount": "90000.00", "annual_fee": "90000.00"},
]

PLEDGE = {"truthful": True, "no_bad_record": True, "share_experience": True}


def documents(contracts: list[dict[str, Any]] = CONTRACTS) -> list[dict[str, Any]]:
    docs = [{"kind": "business_registration", "filename": "营业执照.pdf", "content_type": "application/pdf",
             "content_base64": b64(PDF)}]
    for c in contracts:
        for kind in ("contract", "invoice", "payment_voucher"):
            docs.append({"kind": kind, "filename": f"{c['contract_id']}-{kind}.pdf", "content_type": "application/pdf",
                         "content_base64": b64(PDF + kind.encode() + c["contract_id"].encode()), "contract_id": c["contract_id"]})
    return docs


def fill_complete(ent: Any, application_id: str, **overrides: Any) -> None:
    """Fill every part of the form for the 2018 campaign; overrides replace a part's values. `ent` is
    anything with the application service's methods: an in-process session or an RPC proxy."""
    ent.update_section(application_id, "enterprise", overrides.get("enterprise", ENTERPRISE_SECTION))
    ent.update_section(application_id, "cloud", overrides.get("cloud", CLOUD_SECTION))
    ent.set_scenarios(application_id, overrides.get("scenarios", SCENARIOS))
    contracts = overrides.get("contracts", CONTRACTS)
    for contract in contracts:
        ent.save_contract(application_id, contract)
    for document in documents(contracts):
        ent.attach_document(application_id, document)
    ent.give_pledge(application_id, overrides.get("pledge", PLEDGE))
