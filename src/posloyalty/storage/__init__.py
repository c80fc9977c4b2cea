"""peewee models on SQLite (WAL), schema migrations and the database connection."""
