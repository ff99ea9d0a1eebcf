"""The audit machinery, in one place.

- writer.py: `audit_record`, the one writer of audit events (every action calls it in its own
  transaction), and `diff_fields` for before/after values; it links each event to the last.
- chain.py: the SHA-256 hash chain: the canonical form of an event, and the streamed walk that
  verifies it.
- records/models/audit.py: the AuditEvent and AuditVerification tables (append-only in the database).
- records/actions/audit.py: the audit actions (verification runs, report views and exports).
"""

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from records.audit.writer import audit_record, diff_fields

__all__ = ["audit_record", "diff_fields"]


def __getattr__(name: str) -> Any:
    # Imported when first asked for: chain.py is also run by the verification's worker processes, which
    # start without Django's models (records.audit.chain._walk_range), and importing it imports this package.
    if name in __all__:
        from records.audit import writer

        return getattr(writer, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
