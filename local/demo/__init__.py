"""`make run`'s demo: messages sent step by step through the local queue, and what became of each."""
