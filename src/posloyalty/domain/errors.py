"""Errors raised by the domain rules, each carrying a message a person can act on."""


class DomainError(Exception):
    """A rule rejected a value; ``str(error)`` names the value and the fix."""


class InvalidAmountError(DomainError):
    """An amount of money could not be read as written."""


class CardNotReadableError(DomainError):
    """A card number failed its check digit, its signature or its format."""


class InvalidPhoneError(DomainError):
    """A phone number is not a possible number for the till's region."""


class RuleError(DomainError):
    """An earning or redemption rule has an invalid setting."""


def quote_value(text: str, limit: int = 40) -> str:
    """Quote a value for an error message, cut to ``limit`` characters.

    A message names the value a person typed, but a value of thousands of
    characters (a pasted file, a stuck scanner) would bury the message.
    """
    if len(text) <= limit:
        return repr(text)
    return f"{text[:limit]!r}… ({len(text)} characters)"
