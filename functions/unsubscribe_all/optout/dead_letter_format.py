"""How a parked message is written on the dead-letter queue: the contract with the operator CLI.

A body SQS cannot carry as it is (characters outside what SQS accepts) is parked as base64 of
its UTF-8, with the attribute `bodyEncoding: base64`; any other body is parked unchanged.
"""

from __future__ import annotations

BODY_ENCODING = "bodyEncoding"
BASE64 = "base64"
