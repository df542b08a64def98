"""hubspot-unsubscribe-all's function code, in layers whose imports run one way:

- `triggers/`: what invokes the function (an SQS batch, an API Gateway request), parsed and answered;
- `domain/`: the request and its rules, the service that carries each request out once, the
  unsubscribe rule that decides the HubSpot calls, the coalescer that lets records share them;
- `aws/` and `hubspot/`: the adapters (boto3 clients, the idempotency store, dead letters, retry
  scheduling, the token secret; the HubSpot client, its errors, pacing and answers);
- shared by all: `outcomes` (what became of a request), `deadline`, `masking`; and
  `settings`, `observability` and `runtime`, which read the environment, own the Powertools
  objects and wire the layers together.
"""
