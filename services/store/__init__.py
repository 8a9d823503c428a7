"""PostgreSQL persistence: migrations, the hash-chained history, the read side, companies."""

from services.store.companies import register_company

__all__ = ["register_company"]
