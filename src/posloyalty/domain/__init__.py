"""Loyalty rules as pure Python: money, points, cards, phones and scanner input.

NOTE: nothing in this package may import Qt, peewee or any I/O library; a test
enforces it.
"""
