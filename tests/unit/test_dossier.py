"""The printed dossier (services/subsidy/dossier.py): what it says on every page, that it is the same
bytes every time, and that its Chinese is drawn with real glyphs from an embedded font."""
from __future__ import annotations

import hashlib
import io
import re
from pathlib import Path
from typing import Any

import pypdfium2 as pdfium
import pytest
from pypdf import PdfReader
from reportlab.pdfbase.ttfonts import TTFontFile
from reportlab.pdfgen.canvas import Canvas

from services.subsidy import dossier
from tests.support import builders

APPLICATION_ID = "07332ed6-61a4-58b2-87f4-999c2566e5e9"
DIGEST = "ab" * 32
NAME = "石家庄冀云钢结构制造有限公司"


def _documents() -> list[dict[str, Any]]:
    """The documents of builders.documents() as the application content carries them (metadata only)."""
    out = []
    for i, doc in enumerate(builders.documents()):
        sha = hashlib.sha256(doc["content_base64"].encode()).hexdigest()
        out.append({"document_id": f"d-{sha[:12]}-{i:04x}", "kind": doc["kind"], "filename": doc["filename"],
                    "content_type": doc["content_type"], "size": 467, "sha256": sha,
                    "contract_id": doc.get("contract_id")})
    return sorted(out, key=lambda d: d["document_id"])


def realistic() -> dict[str, Any]:
    """A complete application (builders.fill_complete's parts) through every review step."""
    docs = _documents()
    enterprise = dict(builders.ENTERPRISE_SECTION, profile="钢结构制造企业，主导产品为轻钢厂房与桥梁构件，年产值1.5亿元，员工800人。" * 6)
    return {
        "application_id": APPLICATION_ID, "position": 4711, "digest": DIGEST,
        "campaign_name": "2018年河北省企业上云标杆企业评选", "document_number": "冀工信两化〔2018〕600号",
        "content": {
            "campaign_code": "2018", "uscc": builders.uscc(), "enterprise_name": NAME,
            "county_code": "130102", "unit_code": "130100",
            "enterprise": enterprise, "cloud": builders.CLOUD_SECTION, "scenarios": builders.SCENARIOS,
            "contracts": builders.CONTRACTS, "documents": docs,
            "pledge": dict(builders.PLEDGE, given_at="2018-12-03T02:00:00+00:00"),
        },
        "provider_confirmation": {
            "items": {"first_cloud_date": {"confirmed": True, "remark": ""}, "content": {"confirmed": True, "remark": ""},
                      "results": {"confirmed": True, "remark": "成效数据与运维记录一致"},
                      "contracts": {c["contract_id"]: {"confirmed": True, "remark": ""} for c in builders.CONTRACTS}},
            "remarks": "", "by": {"id": "ac36667a-fd32-53da-b6f2-6817dd3ab1cd", "role": "provider"},
        },
        "county_checklist": {
            "checklist": {d["document_id"]: {"matches_original": True, "remark": ""} for d in docs},
            "remarks": "原件已审，与系统提交复印件一致", "local_industrial_enterprise": True,
            "by": {"id": "b8c81f36-589e-532f-8c81-bd424f072cb5", "role": "county"},
        },
        "city_opinion": "上云成效显著，同意推荐",
    }


@pytest.fixture(scope="module")
def pdf() -> bytes:
    return dossier.render(realistic())


def _pages_text(pdf: bytes) -> list[str]:
    # Extraction may put spaces or breaks between runs; compare without whitespace.
    return [re.sub(r"\s+", "", page.extract_text() or "") for page in PdfReader(io.BytesIO(pdf)).pages]


def test_names_the_enterprise_and_carries_id_and_digest_on_every_page(pdf: bytes) -> None:
    pages = _pages_text(pdf)
    assert NAME in "".join(pages)
    for n, text in enumerate(pages, 1):
        assert APPLICATION_ID in text, f"page {n}"
        assert DIGEST in text, f"page {n}"
        assert "4711" in text and "打印审核后的申报材料" in text, f"page {n}"
    assert "此企业确系我县（区、市）工业企业" in "".join(pages)


def test_more_than_one_page_and_the_footer_counts_them(pdf: bytes) -> None:
    pages = _pages_text(pdf)
    assert len(pages) > 1
    for n, text in enumerate(pages, 1):
        assert f"第{n}页/共{len(pages)}页" in text


def test_same_input_same_bytes(pdf: bytes) -> None:
    assert dossier.render(realistic()) == pdf
    assert b"/CreationDate" not in pdf or b"D:20000101000000" in pdf  # invariant: no wall-clock time


def test_tolerates_a_dossier_with_little_in_it() -> None:
    out = dossier.render({"application_id": APPLICATION_ID, "position": 1, "digest": DIGEST, "content": {}})
    assert APPLICATION_ID in _pages_text(out)[0]


def test_missing_font_is_a_clear_error(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setattr(dossier, "FONT_PATH", tmp_path / "missing.ttc")
    with pytest.raises(RuntimeError, match="fonts-wqy-microhei"):
        dossier.render(realistic())


def test_the_font_is_embedded_and_has_every_glyph_of_the_name(pdf: bytes) -> None:
    page = PdfReader(io.BytesIO(pdf)).pages[0]
    fonts = [f.get_object() for f in page["/Resources"]["/Font"].values()]
    cjk = [f for f in fonts if "WenQuanYi" in str(f["/BaseFont"])]
    assert cjk, [str(f["/BaseFont"]) for f in fonts]
    for font in cjk:  # reportlab's TrueType subsets: a /FontFile2 in the descriptor is the embedded font
        descendant = font["/DescendantFonts"][0].get_object() if "/DescendantFonts" in font else font
        assert "/FontFile2" in descendant["/FontDescriptor"].get_object()
    face = TTFontFile(str(dossier.FONT_PATH), subfontIndex=0)
    missing = [ch for ch in NAME + "打印审核后的申报材料第页共" if face.charToGlyph.get(ord(ch), 0) == 0]
    assert not missing


def _ink(image: Any) -> tuple[int, bytes]:
    grey = image.convert("L")
    pixels = grey.tobytes()
    return sum(1 for v in pixels if v < 128), bytes(0 if v < 128 else 255 for v in pixels)


def test_cjk_characters_draw_distinct_glyphs() -> None:
    """Two different characters at known places: both leave ink and the ink differs. Boxes (tofu) for
    glyphs the font lacks would be identical; a font that was not there would leave nothing."""
    font = dossier.register_font()
    out = io.BytesIO()
    canvas = Canvas(out, pagesize=(200, 100), invariant=1)
    canvas.setFont(font, 48)
    canvas.drawString(20, 30, "云")
    canvas.drawString(120, 30, "标")
    canvas.save()
    page = pdfium.PdfDocument(out.getvalue())[0]
    image = page.render(scale=2).to_pil()  # 400 x 200 pixels; y grows downwards
    first, second = image.crop((30, 70, 150, 190)), image.crop((230, 70, 350, 190))
    (ink1, mask1), (ink2, mask2) = _ink(first), _ink(second)
    assert ink1 > 300 and ink2 > 300
    assert sum(a != b for a, b in zip(mask1, mask2)) > 300


def test_the_dossier_page_draws_its_chinese(pdf: bytes) -> None:
    """Page 1 of the real dossier rendered: the title's line has ink (its glyphs come from the embedded subset)."""
    image = pdfium.PdfDocument(pdf)[0].render(scale=1).to_pil()
    width, _ = image.size
    title = image.crop((int(width * 0.25), 95, int(width * 0.75), 125))  # 河北省上云标杆企业申报表
    ink, _mask = _ink(title)
    assert ink > 200
