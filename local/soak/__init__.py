"""`make soak`: the whole local stack under load, faults and bad input, then a check that nothing
was lost, done twice or leaked. Run as `python -m local.soak` (see `--help`).

- `queue_soak`: messages through the SQS event source (`plan` what is sent, `chaos` what goes
  wrong and when, `capture` what the function writes, `evidence` and `verdict` what became of it,
  `report` the lines printed);
- `api_load`: clients against the local REST API (`api_plan` what they send);
- `leaks`: finds a token or an unmasked address in captured text;
- `tcp_proxy`: an outage of DynamoDB alone, refusing or never answering (moto itself is mended for
  load in `local/aws/moto_fixes.py`).
"""
