"""What a copy restored from a SnapStart snapshot renews of the HubSpot client: its random jitter."""

from __future__ import annotations

import random

from optout.hubspot.client import HubSpotClient
from optout.hubspot.retry import RetryPolicy
from optout.hubspot.token_source import StaticToken


def test_a_restored_client_draws_jitter_no_other_copy_of_the_snapshot_draws():
    # Given a client whose jitter generator was seeded before the snapshot, as every copy's was
    rng = random.Random(7)
    snapshot_draw = random.Random(7).random()
    client = HubSpotClient(StaticToken("pat-test"), retry=RetryPolicy(rng=rng))

    # When it is renewed after a restore
    client.renew_after_restore()

    # Then it no longer draws what the snapshot's generator would have drawn
    assert rng.random() != snapshot_draw
