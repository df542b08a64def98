"""The soak's one-click links: minted over the API, clicked as mailbox providers and people click them.

Besides its queue messages, a soak mints `LINK_SHARE` of their number in one-click links (each
for an address of its own) and clicks each one to three times, RFC 8058's POST, multipart or
form-encoded: some clicks while the first wave is sent, the repeats of some once the late
duplicates go out (so they meet the idempotency store, not a shared batch). `TAMPERED_SHARE` more
links are minted and never clicked as they are: a byte of the token flipped, the token cut
short, or a token made with another key carries the click instead, which must be refused (404)
and unsubscribe no one. A valid click the service answers 429 or 5xx is clicked again, as a
person would, a few times. The clicks' opt-outs go through the same queue, faults and all.
"""

from __future__ import annotations

import base64
import random
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from enum import StrEnum

import urllib3

from local.link_minting import mint_links
from local.stack import LocalStack
from optout.domain.one_click import PURPOSE, LinkSubject, token_text

LINK_SHARE = 0.02
TAMPERED_SHARE = 0.01
CLICKERS = 4
RETRIES = 5
RETRY_AFTER_S = 0.5
FORM = "application/x-www-form-urlencoded"
BOUNDARY = "soak-one-click"
BODIES = (
    (b"List-Unsubscribe=One-Click", FORM),
    (
        (
            f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="List-Unsubscribe"\r\n\r\n'
            f"One-Click\r\n--{BOUNDARY}--\r\n"
        ).encode(),
        f"multipart/form-data; boundary={BOUNDARY}",
    ),
)


class Tampering(StrEnum):
    FLIPPED = "a byte flipped"
    CUT = "cut short"
    OTHER_KEY = "made with another key"


@dataclass(frozen=True)
class PlannedLink:
    address: str
    clicks: int  # of the genuine link; 0 for a tampered one
    late: int  # of those clicks, how many wait for the late duplicates
    tampering: Tampering | None = None


@dataclass
class ClickResults:
    """What each link's clicks were answered (after any clicking again), in the plan's order."""

    links: list[PlannedLink]
    urls: list[str] = field(default_factory=list)
    answers: dict[int, list[int]] = field(default_factory=dict)  # link index -> statuses
    clicked_again: int = 0  # clicks repeated after a 429 or 5xx

    @property
    def clicks(self) -> int:
        return sum(len(statuses) for statuses in self.answers.values())


def plan_links(messages: int, run_id: str, seed: int) -> list[PlannedLink]:
    rng = random.Random(seed)  # noqa: S311 - a reproducible mix, not cryptography
    genuine = max(1, round(messages * LINK_SHARE))
    tampered = max(len(Tampering), round(messages * TAMPERED_SHARE))
    links = []
    for number in range(genuine):
        clicks = 1 + number % 3
        late = rng.randint(0, clicks - 1) if clicks > 1 else 0
        links.append(PlannedLink(f"soak-click-{number}.{run_id}@example.com", clicks, late))
    kinds = list(Tampering)
    links += [
        PlannedLink(f"soak-tampered-{number}.{run_id}@example.com", 0, 0, kinds[number % len(kinds)])
        for number in range(tampered)
    ]
    rng.shuffle(links)
    return links


class Clicker:
    """Mints the plan's links through the stack's API, then clicks them in two waves."""

    def __init__(self, stack: LocalStack, links: list[PlannedLink]) -> None:
        self._stack = stack
        self._http = urllib3.PoolManager(maxsize=CLICKERS, retries=False, timeout=urllib3.Timeout(60))
        self.results = ClickResults(links)
        self._clicks: dict[int, str] = {}  # link index -> the URL its clicks go to

    def mint(self) -> None:
        links = self.results.links
        self.results.urls += mint_links(self._http, self._stack.api.url, [link.address for link in links])
        for index, (link, url) in enumerate(zip(links, self.results.urls, strict=True)):
            self._clicks[index] = url if link.tampering is None else self._tampered(url, link)

    def first_wave(self) -> None:
        self._click_all(
            [
                (index, click)
                for index, link in enumerate(self.results.links)
                for click in range(max(1, link.clicks - link.late))
            ]
        )

    def late_wave(self) -> None:
        self._click_all(
            [
                (index, click)
                for index, link in enumerate(self.results.links)
                for click in range(link.late)
                if link.tampering is None
            ]
        )

    def _click_all(self, clicks: list[tuple[int, int]]) -> None:
        with ThreadPoolExecutor(max_workers=CLICKERS, thread_name_prefix="soak-click") as pool:
            for index, status in pool.map(lambda job: (job[0], self._click(*job)), clicks):
                self.results.answers.setdefault(index, []).append(status)

    def _click(self, index: int, number: int) -> int:
        body, content_type = BODIES[(index + number) % len(BODIES)]
        genuine = self.results.links[index].tampering is None
        status = 0
        for attempt in range(RETRIES):
            try:
                status = self._http.request(
                    "POST", self._clicks[index], body=body, headers={"Content-Type": content_type}
                ).status
            except urllib3.exceptions.HTTPError:
                status = 0
            if not genuine or status not in (0, 429, 500, 502, 503, 504):
                return status
            if attempt < RETRIES - 1:
                self.results.clicked_again += 1
                time.sleep(RETRY_AFTER_S)
        return status

    def _tampered(self, url: str, link: PlannedLink) -> str:
        base, token = url.rsplit("/", 1)
        if link.tampering is Tampering.CUT:
            return f"{base}/{token[: len(token) // 2]}"
        if link.tampering is Tampering.FLIPPED:
            ciphertext = bytearray(base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)))
            ciphertext[len(ciphertext) // 2] ^= 0x01
            return f"{base}/{token_text(bytes(ciphertext))}"
        # A forger with a key of their own, who knows the plaintext's shape and the context.
        kms = self._stack.session.client("kms")
        other_key = kms.create_key(Description=f"{self._stack.resources.stack_name}: not the stack's")
        sealed = kms.encrypt(
            KeyId=other_key["KeyMetadata"]["Arn"],
            Plaintext=LinkSubject(link.address, None, int(time.time())).to_plaintext(),
            EncryptionContext={"purpose": PURPOSE, "stack": self._stack.resources.stack_name},
        )["CiphertextBlob"]
        return f"{base}/{token_text(sealed)}"
