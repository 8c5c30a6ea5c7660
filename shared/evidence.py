"""Evidence files are what they say they are: parsed whole by a real parser (not sniffed by their
first bytes), named with an extension that matches their type, and named cleanly before a reviewer
sees the name (no folders, no right-to-left overrides or other invisible controls)."""
from __future__ import annotations

import io
import logging
import re
import unicodedata
from typing import Sequence

EXTENSIONS = {"application/pdf": (".pdf",), "image/jpeg": (".jpg", ".jpeg"), "image/png": (".png",)}
IMAGE_FORMATS = {"image/jpeg": "JPEG", "image/png": "PNG"}
NOT_READABLE = "the content is not a readable file of the declared type / 文件内容无法按声明的类型读取"


def check(filename: str, content_type: str, content: bytes, allowed_types: Sequence[str],
          max_bytes: int) -> tuple[str, dict[str, list[str]]]:
    """A file as given: its clean name, and what is wrong with it ({field: [messages]}, empty when
    nothing): a type not allowed, too large, not readable as its type, no usable name, or an
    extension that does not match the type."""
    name = clean_filename(filename)
    errors: dict[str, list[str]] = {}
    if content_type not in allowed_types:
        errors["content_type"] = [f"allowed: {', '.join(allowed_types)} / 仅允许这些文件类型"]
    elif len(content) > max_bytes:
        errors["content_base64"] = [f"larger than {max_bytes} bytes / 文件过大"]
    elif not readable(content, content_type):
        errors["content_base64"] = [NOT_READABLE]
    if not name:
        errors["filename"] = ["no usable file name / 文件名无效"]
    elif content_type in EXTENSIONS and not extension_matches(name, content_type):
        errors["filename"] = [f"a {content_type} file is named {' or '.join(EXTENSIONS[content_type])} "
                              f"/ 文件扩展名与类型不符"]
    return name, errors


def clean_filename(name: str) -> str:
    """The last path component, without format characters (bidi overrides, zero-width marks) or
    controls, and without leading dots: what a reviewer's screen shows is what is stored."""
    base = re.split(r"[\\/]", name)[-1]
    kept = "".join(c for c in base if unicodedata.category(c) not in ("Cc", "Cf", "Cs", "Co", "Cn"))
    return kept.strip().lstrip(".").strip()


def extension_matches(filename: str, content_type: str) -> bool:
    return filename.lower().endswith(EXTENSIONS.get(content_type, ()))


def readable(content: bytes, content_type: str) -> bool:
    """Whether a real parser reads the whole file as the declared type."""
    if content_type == "application/pdf":
        return _pdf_pages(content) > 0
    if content_type in IMAGE_FORMATS:
        return _image_format(content) == IMAGE_FORMATS[content_type]
    return False


def _pdf_pages(content: bytes) -> int:
    from pypdf import PdfReader

    logging.getLogger("pypdf").setLevel(logging.ERROR)  # a broken file is an answer, not a log entry
    try:
        reader = PdfReader(io.BytesIO(content), strict=True)
        return sum(1 for _ in reader.pages)
    except Exception:
        return 0


def _image_format(content: bytes) -> str | None:
    from PIL import Image

    try:
        with Image.open(io.BytesIO(content)) as image:
            image.verify()  # the file's structure (chunk checksums for PNG)
        with Image.open(io.BytesIO(content)) as image:
            image.load()  # and every pixel decodes (a decompression bomb is refused by Pillow)
            return str(image.format)
    except Exception:
        return None
