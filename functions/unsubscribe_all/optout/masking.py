"""Email addresses in logs and stored records are masked: `jane.doe@example.com` → `j***@example.com`."""

from __future__ import annotations

import re
from typing import Any

# Anything shaped like local@domain in free text: the local part is everything up to the `@`
# back to a space, quote or bracket, so odd but legal local parts (a/b, o'hara+x) are caught whole.
_EMAIL_IN_TEXT = re.compile(
    r"""(?P<first>[^\s@"<>()\[\],;:])[^\s@"<>()\[\],;:]*@(?P<domain>[^\s@"<>()\[\],;:]+)"""
)


def mask_email(address: str) -> str:
    local, at, domain = address.rpartition("@")
    if not at:
        return "***"
    return f"{local[:1]}***@{domain}" if local else f"***@{domain}"


def mask_emails_in_text(text: str) -> str:
    return _EMAIL_IN_TEXT.sub(r"\g<first>***@\g<domain>", text)


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
