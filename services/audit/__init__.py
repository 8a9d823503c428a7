"""The audit trail's anchor outside the database: signed checkpoints of the history's heads.

See ``services.audit.checkpoint`` for who takes them and what they prove.
"""


class CheckpointKeyError(ValueError):
    """A key that is missing, unreadable or not Ed25519: an operator's mistake (exit 2)."""
