"""PostgreSQL: the SQLAlchemy models of the application state, the async engine, and the
Alembic migrations (``core/db/migrations``) applied at start."""
