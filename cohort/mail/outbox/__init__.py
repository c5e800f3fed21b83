"""An outbox pass, one module per step: `claim` (due rows reserved under a token, and the
housekeeping before it), `compose` (each claimed row's email, or why it ends without one),
`send` (the sender threads: hand over, talk to the mail server) and `record` (the database
side: fast and durable commits, results, the journal, waiting for a database that went away).
`cohort.mail.dispatch` puts them together into one pass (`Dispatcher`, `send_due`).
"""
