"""The till window: PySide6 widgets that call the services and show their results."""
