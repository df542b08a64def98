"""Email addresses in logs and stored records are masked: `jane.doe@example.com` → `j***@example.com`."""

from __future__ import annotations

import re
from typing import Any

# Anything around an `@` in free text, out to a space, bracket or separator on each side: odd but
# legal local parts (a/b, o'hara+x), quoted ones ("jane doe") and typos (jane@@x) are caught whole.
_EMAIL_IN_TEXT = re.compile(r"""(?P<local>"[^"\n]*"|[^\s"<>()\[\],;:]*)@(?P<domain>[^\s@"<>()\[\],;:]*)""")


def mask_email(address: str) -> str:
    local, at, domain = address.rpartition("@")
    if not at:
        return "***"
    return f"{local[:1]}***@{domain}" if local else f"***@{domain}"


def _masked(match: re.Match[str]) -> str:
    first = match["local"].strip('"')[:1]
    return f"{first}***@{match['domain']}"


def mask_emails_in_text(text: str) -> str:
    return _EMAIL_IN_TEXT.sub(_masked, text)


def mask_emails_in(value: Any) -> Any:
    """The same JSON-like value with every email-shaped string masked."""
    if isinstance(value, str):
        return mask_emails_in_text(value) if "@" in value else value
    if isinstance(value, dict):
        return {key: mask_emails_in(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [mask_emails_in(item) for item in value]
    if value is None or isinstance(value, int | float):
        return value
    # Anything else would be serialised through str() (an exception object, say): mask that.
    return mask_emails_in(str(value))
