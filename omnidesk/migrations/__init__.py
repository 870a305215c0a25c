"""Alembic migrations for every omnidesk table."""
