"""A local HubSpot for the unsubscribe-all operations of the Communication Preferences API.

It serves the published versions' paths (v4, 2026-03, 2026-09) over a real socket, with HubSpot's
auth, scopes, rate limits and errors as documented, undocumented behaviours as named quirks to switch
on, plus fault and latency injection and a call log, so clients, the Lambda, the demo, benchmarks and
soak tests can all run against it. Standard library only.

    with HubSpotSandbox(SandboxConfig(tokens={"local-token": ALL_SCOPES})) as hubspot:
        ...  # call hubspot.base_url + "/communication-preferences/v4/statuses/..."
"""

from local.hubspot_sandbox.auth import ALL_SCOPES
from local.hubspot_sandbox.calls import CallRecord
from local.hubspot_sandbox.config import SandboxConfig
from local.hubspot_sandbox.faults import FaultKind
from local.hubspot_sandbox.quirks import Quirk
from local.hubspot_sandbox.sandbox import HubSpotSandbox

__all__ = ["ALL_SCOPES", "CallRecord", "FaultKind", "HubSpotSandbox", "Quirk", "SandboxConfig"]
