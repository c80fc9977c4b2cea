"""Phone numbers normalised to E.164 with the ``phonenumbers`` library."""

from __future__ import annotations

from posloyalty.domain.errors import InvalidPhoneError, quote_value


def normalize_phone(text: str, region: str) -> str:
    """Normalise a phone number typed in any usual form to E.164.

    Numbers that ``phonenumbers`` calls possible are accepted, not only valid
    ones: the reserved drama range +44 7700 900xxx is possible but not valid,
    and shops use such numbers in tests and training.

    Args:
        text: the number as typed, national (``07700 900123``) or international
            (``+44 (0)7700 900123``, ``447700900123``).
        region: the till's ISO 3166 region, used for national numbers.

    Raises:
        InvalidPhoneError: the text cannot be a phone number in that region.
    """
    import phonenumbers  # deferred: the module costs tens of ms at start-up

    candidates = [text]
    digits = "".join(ch for ch in text if ch.isdecimal())
    # A number written with its country code but no "+" (447700900123) is read
    # as national first; try it as international when that fails.
    if not text.strip().startswith("+") and digits and not digits.startswith("0"):
        candidates.append("+" + digits)

    for candidate in candidates:
        try:
            number = phonenumbers.parse(candidate, region)
        except phonenumbers.NumberParseException:
            continue
        if phonenumbers.is_possible_number(number):
            return phonenumbers.format_number(
                number, phonenumbers.PhoneNumberFormat.E164
            )
    raise InvalidPhoneError(
        f"invalid phone number {quote_value(text)} for region {region}: type it"
        " with its area code, or with + and the country code"
    )


def looks_like_phone(text: str) -> bool:
    """Tell whether typed text is meant as a phone number rather than a name."""
    stripped = text.strip()
    if not stripped:
        return False
    # Decimal digits of other scripts count, because phonenumbers reads them
    # (checked for Arabic-Indic and fullwidth digits); superscripts do not.
    if not all(ch.isdecimal() or ch in "+-() ." for ch in stripped):
        return False
    return sum(ch.isdecimal() for ch in stripped) >= 6
