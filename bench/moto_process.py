"""`python -m bench.moto_process`: moto in a process of its own, so its work is not the function's.

Prints the environment that points boto3 at it (one JSON line), then serves until terminated.
"""

from __future__ import annotations

import json
import logging
import threading

from local.aws.moto_endpoint import MotoEndpoint


def main() -> None:
    # werkzeug logs every request moto serves.
    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    with MotoEndpoint() as endpoint:
        print(json.dumps(endpoint.environment()), flush=True)
        threading.Event().wait()


if __name__ == "__main__":
    main()
