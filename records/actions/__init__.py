"""The only code that writes clinical data.

Each action is `<entity>_<verb>(*, actor, ...)`, runs in one transaction, checks
the actor's role and the record's state, and writes its AuditEvent in that same
transaction, so a change without its audit row cannot exist.
"""
