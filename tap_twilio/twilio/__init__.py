"""Reading Twilio: what to ask for, the pages of a list, the threads and limits of a run.

Nothing here imports singer_sdk (tests/test_layout.py checks): a list is read from its
spec, the settings and the run's shared parts, and handed over page by page.
"""
