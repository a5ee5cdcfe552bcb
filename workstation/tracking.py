"""Tracking numbers: unique across offices without coordination, with a check character."""

from __future__ import annotations

import re
from datetime import date

from stdnum.iso7064 import mod_37_36

from workstation.errors import InvalidInput

_ALPHABET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"


def make(origin: str, day: date, seq: int) -> str:
    """``origin`` + ``yymmdd`` + the event sequence (≥ 6 digits) + an ISO 7064 check character.

    The origin is unique per office and the sequence per origin, so no two offices can issue
    the same number; the check character catches any single typo and any swap of neighbours.
    """
    body = f"{origin}{day:%y%m%d}{seq:06d}"
    return body + mod_37_36.calc_check_digit(body, _ALPHABET)


def normalise(raw: str) -> str:
    """A typed tracking number, cleaned and checked; raises InvalidInput on a typo."""
    number = re.sub(r"[\s-]", "", raw).upper()
    if not re.fullmatch(r"[0-9A-Z]{15,40}", number):
        raise InvalidInput("error.tracking.format", value=raw)
    if not mod_37_36.is_valid(number, _ALPHABET):
        raise InvalidInput("error.tracking.check", value=raw)
    return number
