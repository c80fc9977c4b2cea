"""Importers for member lists and sales journals exported by other shop systems."""
