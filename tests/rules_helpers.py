"""Builders shared by the programme tests."""

from posloyalty.services import programme


def set_programme(ctx, **sections):
    """Save a programme whose sections replace those of the current one."""
    document = programme.programme_document(ctx)
    for key, value in sections.items():
        if isinstance(value, dict) and isinstance(document.get(key), dict):
            document[key].update(value)
        else:
            document[key] = value
    return programme.save_programme(ctx, document)
