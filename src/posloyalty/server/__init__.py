"""The head office: FastAPI on uvicorn, peewee on PostgreSQL or SQLite.

NOTE: nothing here imports ``ui``, and nothing in the till imports this package,
so the till starts without FastAPI or psycopg2 installed.
"""
