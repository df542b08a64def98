"""AWS adapters: boto3 clients, the idempotency store, dead letters, retry scheduling, the token secret."""
