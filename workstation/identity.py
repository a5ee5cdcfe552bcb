"""Applicant identifiers: person ID numbers, unified social credit codes, phone numbers, masks.

Every parser accepts what a clerk types (spaces, full-width digits, lowercase ``x``) and
returns one canonical form, or raises :class:`~workstation.errors.InvalidInput` with a
message key under ``error.id.``, ``error.uscc.`` or ``error.phone.``. Parameters that carry
the operator's input are masked (``value``) so that an error in a log never leaks an ID.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from datetime import date
from typing import Literal

import phonenumbers

from workstation.errors import InvalidInput

__all__ = [
    "ORG_AUTHORITIES",
    "ORG_KINDS",
    "PROVINCES",
    "Gender",
    "OrgId",
    "PersonId",
    "mask_id",
    "mask_phone",
    "normalise_phone",
    "parse_org_code",
    "parse_person_id",
    "person_id_check_digit",
    "uscc_check_char",
]

Gender = Literal["M", "F"]
"""Gender encoded in a person ID: odd 17th digit is male (``M``), even is female (``F``)."""

PROVINCES: frozenset[str] = frozenset(
    {
        *("11", "12", "13", "14", "15"),
        *("21", "22", "23"),
        *("31", "32", "33", "34", "35", "36", "37"),
        *("41", "42", "43", "44", "45", "46"),
        *("50", "51", "52", "53", "54"),
        *("61", "62", "63", "64", "65"),
        *("71", "81", "82", "83"),
    }
)
"""Province-level codes of GB/T 2260 that may open an 18-digit ID (``9x`` is handled apart)."""

_HMT_REGIONS = frozenset({"810000", "820000", "830000"})
_EARLIEST_BIRTH = date(1900, 1, 1)
_ID_WEIGHTS = tuple(pow(2, 17 - i, 11) for i in range(17))
_ID_CHECK = "10X98765432"

_USCC_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
_USCC_WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)
_SEPARATORS = re.compile(r"[\s\-]+")
_PHONE_CHARS = re.compile(r"[0-9+\-()\s]+")


@dataclass(frozen=True, slots=True)
class PersonId:
    """A validated person ID: 18-character number, its kind, birth date, gender and region."""

    number: str
    """The normalised 18-character number (uppercase ``X``; a 15-digit ID is upgraded)."""
    kind: str
    """``resident``, ``resident_15``, ``hmt_permit`` or ``foreign_permanent``."""
    birth_date: date
    """Birth date encoded at positions 7-14."""
    gender: Gender
    """``M`` if the 17th digit is odd, else ``F``."""
    region: str
    """The first six digits: district code; ``810000``/``820000``/``830000`` for permits;
    ``9`` + province + nationality code for a foreigner's permanent residence ID."""


@dataclass(frozen=True, slots=True)
class OrgId:
    """A validated unified social credit code with its registration authority and kind."""

    code: str
    """The normalised 18-character code."""
    authority: str
    """Registration authority slug, a key of :data:`ORG_AUTHORITIES`."""
    kind: str
    """Organisation kind slug, a key of :data:`ORG_KINDS`."""


# GB 32100-2015, appendix A: registration authority code → (slug, zh, en).
_AUTHORITIES: dict[str, tuple[str, str, str]] = {
    "1": ("establishment", "机构编制", "Institutional establishment"),
    "2": ("foreign_affairs", "外交", "Foreign affairs"),
    "3": ("justice", "司法行政", "Judicial administration"),
    "4": ("culture", "文化", "Culture"),
    "5": ("civil_affairs", "民政", "Civil affairs"),
    "6": ("tourism", "旅游", "Tourism"),
    "7": ("religion", "宗教", "Religious affairs"),
    "8": ("trade_union", "工会", "Trade unions"),
    "9": ("market_regulation", "工商(市场监管)", "Market regulation"),
    "A": (
        "military_establishment",
        "中央军委改革和编制办公室",
        "CMC Reform and Establishment Office",
    ),
    "N": ("agriculture", "农业(农业农村)", "Agriculture and rural affairs"),
    "Y": ("other", "其他", "Other"),
}

ORG_AUTHORITIES: dict[str, tuple[str, str]] = {
    slug: (zh, en) for slug, zh, en in _AUTHORITIES.values()
}
"""Registration authority slug → (Chinese name, English name)."""

# GB 32100-2015, appendix A: (authority code, category code) → (kind slug, zh, en).
_CATEGORIES: dict[tuple[str, str], tuple[str, str, str]] = {
    ("1", "1"): ("government_agency", "机关", "Government agency"),
    ("1", "2"): ("public_institution", "事业单位", "Public institution"),
    ("1", "3"): (
        "mass_organisation",
        "中央编办直接管理机构编制的群众团体",
        "Mass organisation under the central establishment office",
    ),
    ("1", "9"): ("establishment_other", "其他(机构编制)", "Other (establishment)"),
    ("2", "1"): ("foreign_news_agency", "外国常驻新闻机构", "Resident foreign news agency"),
    ("2", "9"): ("foreign_affairs_other", "其他(外交)", "Other (foreign affairs)"),
    ("3", "1"): ("law_firm", "律师执业机构", "Law firm"),
    ("3", "2"): ("notary_office", "公证处", "Notary office"),
    ("3", "3"): ("legal_service_office", "基层法律服务所", "Grassroots legal service office"),
    ("3", "4"): ("forensic_institution", "司法鉴定机构", "Forensic appraisal institution"),
    ("3", "5"): ("arbitration_commission", "仲裁委员会", "Arbitration commission"),
    ("3", "9"): ("justice_other", "其他(司法行政)", "Other (judicial administration)"),
    ("4", "1"): ("foreign_cultural_centre", "外国在华文化中心", "Foreign cultural centre"),
    ("4", "9"): ("culture_other", "其他(文化)", "Other (culture)"),
    ("5", "1"): ("social_organisation", "社会团体", "Social organisation"),
    ("5", "2"): (
        "private_non_enterprise",
        "民办非企业单位",
        "Private non-enterprise unit",
    ),
    ("5", "3"): ("foundation", "基金会", "Foundation"),
    ("5", "9"): ("civil_affairs_other", "其他(民政)", "Other (civil affairs)"),
    ("6", "1"): (
        "foreign_tourism_office",
        "外国旅游部门常驻代表机构",
        "Representative office of a foreign tourism authority",
    ),
    ("6", "2"): (
        "hmt_tourism_office",
        "港澳台地区旅游部门常驻内地(大陆)代表机构",
        "Representative office of a Hong Kong, Macao or Taiwan tourism authority",
    ),
    ("6", "9"): ("tourism_other", "其他(旅游)", "Other (tourism)"),
    ("7", "1"): ("religious_venue", "宗教活动场所", "Venue for religious activities"),
    ("7", "2"): ("religious_college", "宗教院校", "Religious college"),
    ("7", "9"): ("religion_other", "其他(宗教)", "Other (religious affairs)"),
    ("8", "1"): ("grassroots_trade_union", "基层工会", "Grassroots trade union"),
    ("8", "9"): ("trade_union_other", "其他(工会)", "Other (trade unions)"),
    ("9", "1"): ("enterprise", "企业", "Enterprise"),
    ("9", "2"): ("sole_trader", "个体工商户", "Individual business (sole trader)"),
    ("9", "3"): ("farmer_cooperative", "农民专业合作社", "Farmers' specialised cooperative"),
    ("A", "1"): ("military_public_institution", "军队事业单位", "Military public institution"),
    ("A", "9"): ("military_other", "其他(军队)", "Other (military)"),
    ("N", "1"): (
        "group_collective",
        "组级集体经济组织",
        "Village-group collective economic organisation",
    ),
    ("N", "2"): (
        "village_collective",
        "村级集体经济组织",
        "Village collective economic organisation",
    ),
    ("N", "3"): (
        "township_collective",
        "乡镇级集体经济组织",
        "Township collective economic organisation",
    ),
    ("N", "9"): ("agriculture_other", "其他(农业)", "Other (agriculture)"),
    ("Y", "1"): ("other", "其他", "Other organisation"),
}

ORG_KINDS: dict[str, tuple[str, str]] = {slug: (zh, en) for slug, zh, en in _CATEGORIES.values()}
"""Organisation kind slug → (Chinese name, English name), per GB 32100-2015 appendix A."""


def _clean(raw: str) -> str:
    """Full-width to ASCII (NFKC), separators and whitespace removed, uppercase."""
    return _SEPARATORS.sub("", unicodedata.normalize("NFKC", raw)).upper()


def mask_id(number: str) -> str:
    """Mask an ID or code for display: keep the first 4 and last 4 characters."""
    if len(number) <= 8:
        return "*" * len(number)
    return number[:4] + "*" * (len(number) - 8) + number[-4:]


def mask_phone(phone: str) -> str:
    """Mask a phone for display: ``138****5678``, or ``029-****6666`` for a landline."""
    area, dash, local = phone.rpartition("-")
    if dash:
        keep = 4 if len(local) > 4 else 0
        return f"{area}-" + "*" * (len(local) - keep) + local[len(local) - keep :]
    if len(phone) <= 7:
        return "*" * len(phone)
    return phone[:3] + "*" * (len(phone) - 7) + phone[-4:]


def person_id_check_digit(first17: str) -> str:
    """The GB 11643 (ISO 7064 MOD 11-2) check character for the first 17 digits of an ID."""
    if len(first17) != 17 or not first17.isascii() or not first17.isdigit():
        raise InvalidInput("error.id.format", value=mask_id(first17))
    total = sum(int(digit) * weight for digit, weight in zip(first17, _ID_WEIGHTS, strict=True))
    return _ID_CHECK[total % 11]


def _check_uscc_chars(code: str) -> None:
    """Refuse the first character outside the GB 32100 alphabet (no I, O, Z, S, V)."""
    for position, char in enumerate(code, start=1):
        if char not in _USCC_ALPHABET:
            raise InvalidInput("error.uscc.format", value=code, char=char, position=position)


def uscc_check_char(first17: str) -> str:
    """The GB 32100 (mod 31) check character for the first 17 characters of a USCC."""
    if len(first17) != 17:
        raise InvalidInput("error.uscc.length", value=first17, length=len(first17) + 1)
    _check_uscc_chars(first17)
    total = sum(
        _USCC_ALPHABET.index(char) * weight
        for char, weight in zip(first17, _USCC_WEIGHTS, strict=True)
    )
    return _USCC_ALPHABET[-total % 31]


def _birth_date(digits: str, *, today: date, masked: str) -> date:
    """Birth date from ``YYYYMMDD``, checked against the calendar, 1900 and ``today``."""
    try:
        born = date(int(digits[:4]), int(digits[4:6]), int(digits[6:8]))
    except ValueError:
        raise InvalidInput("error.id.birth_date", value=masked, birth=digits) from None
    if born < _EARLIEST_BIRTH:
        raise InvalidInput("error.id.birth_too_early", value=masked, birth=born.isoformat())
    if born > today:
        raise InvalidInput(
            "error.id.future_birth",
            value=masked,
            birth=born.isoformat(),
            today=today.isoformat(),
        )
    return born


def _kind_of(number: str, masked: str) -> str:
    """The kind of an 18-digit ID from its leading digits, or an error for an unknown province."""
    province = number[:2]
    if province.startswith("9"):
        return "foreign_permanent"
    if province not in PROVINCES:
        raise InvalidInput("error.id.region", value=masked, province=province)
    if province in {"81", "82", "83"}:
        if number[:6] not in _HMT_REGIONS:
            raise InvalidInput("error.id.hmt_region", value=masked, region=number[:6])
        return "hmt_permit"
    return "resident"


def parse_person_id(raw: str, *, today: date) -> PersonId:
    """Validate a resident ID (18 or 15 digits), HMT residence permit or foreigner's PR ID."""
    number = _clean(raw)
    masked = mask_id(number)
    if len(number) == 15:
        if not number.isascii() or not number.isdigit():
            raise InvalidInput("error.id.format", value=masked)
        if number[:2] not in PROVINCES or number[:2] in {"71", "81", "82", "83"}:
            raise InvalidInput("error.id.region", value=masked, province=number[:2])
        born = _birth_date("19" + number[6:12], today=today, masked=masked)
        first17 = number[:6] + "19" + number[6:]
        return PersonId(
            number=first17 + person_id_check_digit(first17),
            kind="resident_15",
            birth_date=born,
            gender="M" if int(number[14]) % 2 else "F",
            region=number[:6],
        )
    if len(number) != 18:
        raise InvalidInput("error.id.length", value=masked, length=len(number))
    first17, check = number[:17], number[17]
    if not first17.isascii() or not first17.isdigit() or check not in _ID_CHECK:
        raise InvalidInput("error.id.format", value=masked)
    expected = person_id_check_digit(first17)
    if check != expected:
        raise InvalidInput("error.id.checksum", value=masked, expected=expected)
    kind = _kind_of(number, masked)
    born = _birth_date(number[6:14], today=today, masked=masked)
    return PersonId(
        number=number,
        kind=kind,
        birth_date=born,
        gender="M" if int(number[16]) % 2 else "F",
        region=number[:6],
    )


def parse_org_code(raw: str) -> OrgId:
    """Validate a unified social credit code (GB 32100-2015) and name its authority and kind."""
    code = _clean(raw)
    if len(code) != 18:
        raise InvalidInput("error.uscc.length", value=code, length=len(code))
    _check_uscc_chars(code)
    expected = uscc_check_char(code[:17])
    if code[17] != expected:
        raise InvalidInput("error.uscc.checksum", value=code, expected=expected)
    authority = _AUTHORITIES.get(code[0])
    if authority is None:
        raise InvalidInput("error.uscc.authority", value=code, authority=code[0])
    category = _CATEGORIES.get((code[0], code[1]))
    if category is None:
        raise InvalidInput("error.uscc.category", value=code, authority=code[0], category=code[1])
    if not code[2:8].isdigit():
        raise InvalidInput("error.uscc.region", value=code, region=code[2:8])
    return OrgId(code=code, authority=authority[0], kind=category[0])


def normalise_phone(raw: str) -> str:
    """A mainland mobile as 11 digits or a landline as ``0AREA-NUMBER``; ``+86`` is accepted."""
    text = unicodedata.normalize("NFKC", raw).strip()
    if not text or not _PHONE_CHARS.fullmatch(text):
        raise InvalidInput("error.phone.invalid", value=mask_phone(text))
    try:
        parsed = phonenumbers.parse(text, "CN")
    except phonenumbers.NumberParseException:
        raise InvalidInput("error.phone.invalid", value=mask_phone(text)) from None
    national = phonenumbers.national_significant_number(parsed)
    if (
        parsed.country_code != 86
        or parsed.extension
        or not phonenumbers.is_valid_number_for_region(parsed, "CN")
    ):
        raise InvalidInput("error.phone.invalid", value=mask_phone(national))
    kind = phonenumbers.number_type(parsed)
    if kind == phonenumbers.PhoneNumberType.MOBILE and len(national) == 11:
        return national
    if kind == phonenumbers.PhoneNumberType.FIXED_LINE:
        area = phonenumbers.length_of_geographical_area_code(parsed)
        if area:
            return f"0{national[:area]}-{national[area:]}"
    raise InvalidInput("error.phone.invalid", value=mask_phone(national))
