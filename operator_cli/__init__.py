"""`unsubscribe-all`: the operator's command line for the hubspot-unsubscribe-all service.

Enqueues lists of addresses (resumably), reads a subscriber's status through the service's
IAM-signed API, and lists or redrives the dead-letter queue; against the local stack that
`make run` starts, or a deployed stack named by `--stack-name`.
"""
