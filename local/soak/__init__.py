"""`make soak`: the whole local stack under load, faults and bad input, then a check that nothing
was lost, done twice or leaked. Run as `python -m local.soak`."""
