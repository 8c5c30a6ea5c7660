"""What any argument of any operation must be before its schema looks at it: JSON-shaped, not
nested absurdly, and text without characters that have no business in a form (NUL and other control
characters, which PostgreSQL refuses and logs mangle; lone surrogates, which are not text at all).
Checked by the pipeline for every call (docs/architecture.md), so no schema can forget it."""
from __future__ import annotations

import re
from typing import Any

MAX_DEPTH = 16
# C0 controls but tab, line feed and carriage return; DEL and C1 controls; lone UTF-16 surrogates.
FORBIDDEN = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff]")
CONTROL = "control characters are not allowed / 不允许控制字符"
DEPTH = f"nested more than {MAX_DEPTH} levels / 嵌套层级过深"


def problems(value: Any, depth: int = 0) -> Any:
    """None when the value is acceptable, else the messages, shaped like the value (a dict of
    problems by key for a dict, by index for a list), as marshmallow reports field errors."""
    if depth > MAX_DEPTH:
        return [DEPTH]
    if isinstance(value, str):
        return [CONTROL] if FORBIDDEN.search(value) else None
    if isinstance(value, dict):
        found: dict[str, Any] = {}
        for key, item in value.items():
            key_problem = problems(key, depth + 1) if isinstance(key, str) else None
            item_problem = problems(item, depth + 1)
            if key_problem or item_problem:
                found[str(key) if not key_problem else FORBIDDEN.sub("?", str(key))] = item_problem or key_problem
        return found or None
    if isinstance(value, (list, tuple)):
        listed = {str(i): p for i, item in enumerate(value) if (p := problems(item, depth + 1))}
        return listed or None
    return None
