"""The stack's KMS key, sealing and opening one-click link plaintexts under the links' encryption context.

Decrypt names the key and the context it expects, so a ciphertext made with another key
(`IncorrectKeyException`), for another stack or purpose, tampered with or cut short
(`InvalidCiphertextException`), or not a ciphertext at all (`ValidationException`) is the token's
fault: refused, never retried. Anything else (KMS unreachable, throttling, a disabled key, the key
policy refusing the function) is the stack's: the caller is asked to try again later, and it is
logged. Its calls end by the request's deadline, as every call of the function's clients does
(`call_budget`).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING

from botocore.exceptions import BotoCoreError, ClientError

from optout.domain.one_click import LinkRefusedError, LinksUnavailableError, Refusal
from optout.observability import logger

if TYPE_CHECKING:
    from mypy_boto3_kms import KMSClient

# What KMS answers for a ciphertext that this key, with this context, did not make.
TOKEN_REFUSALS = frozenset({"InvalidCiphertextException", "IncorrectKeyException", "ValidationException"})


class KmsLinkKey:
    def __init__(
        self,
        key_id: str,
        encryption_context: Mapping[str, str],
        kms: Callable[[], KMSClient],
    ) -> None:
        self._key_id = key_id
        self._context = dict(encryption_context)
        self._kms = kms

    def __repr__(self) -> str:
        return f"KmsLinkKey(key_id={self._key_id!r}, encryption_context={self._context!r})"

    def seal(self, plaintext: bytes) -> bytes:
        try:
            response = self._kms().encrypt(
                KeyId=self._key_id, Plaintext=plaintext, EncryptionContext=self._context
            )
        except (BotoCoreError, ClientError) as error:
            raise self._unavailable("encrypt", error) from None
        return response["CiphertextBlob"]

    def open(self, ciphertext: bytes) -> bytes:
        try:
            response = self._kms().decrypt(
                KeyId=self._key_id, CiphertextBlob=ciphertext, EncryptionContext=self._context
            )
        except ClientError as error:
            if error.response.get("Error", {}).get("Code") in TOKEN_REFUSALS:
                raise LinkRefusedError(Refusal.NOT_OURS) from None
            raise self._unavailable("decrypt", error) from None
        except BotoCoreError as error:
            raise self._unavailable("decrypt", error) from None
        return response["Plaintext"]

    def _unavailable(self, operation: str, error: Exception) -> LinksUnavailableError:
        code = error.response.get("Error", {}).get("Code") if isinstance(error, ClientError) else None
        logger.error(
            "the one-click links' KMS key cannot be used now",
            operation=operation,
            error=code or type(error).__name__,
        )
        return LinksUnavailableError(f"KMS {operation} failed ({code or type(error).__name__})")
