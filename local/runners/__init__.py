"""Stand-ins for what invokes the function: Lambda, the SQS event source mapping, API Gateway."""
