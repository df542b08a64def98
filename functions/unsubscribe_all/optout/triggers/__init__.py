"""What invokes the function: an SQS batch or an API Gateway request, parsed, served, answered."""
