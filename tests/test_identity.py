"""Tests of person IDs, unified social credit codes, phone numbers and masks."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st
from stdnum.cn import ric, uscc

from workstation.errors import InvalidInput
from workstation.identity import (
    ORG_AUTHORITIES,
    ORG_KINDS,
    PROVINCES,
    OrgId,
    PersonId,
    mask_id,
    mask_phone,
    normalise_phone,
    parse_org_code,
    parse_person_id,
    person_id_check_digit,
    uscc_check_char,
)

TODAY = date(2025, 6, 1)
USCC_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"


def person_id(first17: str) -> str:
    """A full ID: our check digit, cross-checked against python-stdnum's."""
    check = person_id_check_digit(first17)
    assert check == ric.calc_check_digit(first17 + "0")
    return first17 + check


def org_code(first17: str) -> str:
    """A full USCC: our check character, cross-checked against python-stdnum's."""
    check = uscc_check_char(first17)
    assert check == uscc.calc_check_digit(first17 + "0")
    return first17 + check


def refused(key: str) -> pytest.RaisesExc[InvalidInput]:
    """Expect an InvalidInput with exactly this message key."""
    return pytest.raises(InvalidInput, match=rf"^{key}\b")


# --- check characters -------------------------------------------------------------------


def test_check_digit_of_the_gb11643_example() -> None:
    assert person_id_check_digit("11010519491231002") == "X"
    assert person_id_check_digit("44052418800101001") == "4"


@given(st.text("0123456789", min_size=17, max_size=17))
def test_check_digit_agrees_with_stdnum(first17: str) -> None:
    assert person_id_check_digit(first17) == ric.calc_check_digit(first17 + "0")


@given(st.text(USCC_ALPHABET, min_size=17, max_size=17))
def test_uscc_check_char_agrees_with_stdnum(first17: str) -> None:
    assert uscc_check_char(first17) == uscc.calc_check_digit(first17 + "0")


def test_check_helpers_refuse_bad_input() -> None:
    with refused("error.id.format"):
        person_id_check_digit("1101051949123100")
    with refused("error.id.format"):
        person_id_check_digit("1101051949123100A")
    with refused("error.uscc.format"):
        uscc_check_char("91110000600037I41")
    with refused("error.uscc.length"):
        uscc_check_char("9111")


# --- person IDs: accepted ---------------------------------------------------------------


def test_resident_id_with_x_check_digit() -> None:
    parsed = parse_person_id("11010519491231002X", today=TODAY)
    assert parsed == PersonId(
        number="11010519491231002X",
        kind="resident",
        birth_date=date(1949, 12, 31),
        gender="F",
        region="110105",
    )


@pytest.mark.parametrize(
    "typed",
    ["11010519491231002x", " 110105 19491231 002X ", "１１０１０５１９４９１２３１００２ｘ"],
)
def test_resident_id_is_normalised(typed: str) -> None:
    assert parse_person_id(typed, today=TODAY).number == "11010519491231002X"


def test_male_resident_id() -> None:
    number = person_id("61010319850612003")
    parsed = parse_person_id(number, today=TODAY)
    assert (parsed.gender, parsed.birth_date, parsed.region) == ("M", date(1985, 6, 12), "610103")


def test_fifteen_digit_id_is_upgraded() -> None:
    parsed = parse_person_id("110105491231002", today=TODAY)
    assert parsed.number == "11010519491231002X"
    assert parsed.kind == "resident_15"
    assert parsed.birth_date == date(1949, 12, 31)
    assert parsed.gender == "F"
    assert ric.is_valid(parsed.number)


def test_fifteen_digit_male() -> None:
    parsed = parse_person_id("610103720315131", today=TODAY)
    assert parsed.number == person_id("61010319720315131")
    assert (parsed.gender, parsed.birth_date) == ("M", date(1972, 3, 15))


@pytest.mark.parametrize("region", ["810000", "820000", "830000"])
def test_hong_kong_macao_taiwan_permit(region: str) -> None:
    number = person_id(region + "19940823002")
    parsed = parse_person_id(number, today=TODAY)
    assert (parsed.kind, parsed.region, parsed.gender) == ("hmt_permit", region, "F")
    assert not ric.is_valid(number)  # stdnum's region table does not know the permits


def test_hmt_permit_needs_the_whole_region_code() -> None:
    with refused("error.id.hmt_region"):
        parse_person_id(person_id("810100" + "19940823002"), today=TODAY)


def test_foreign_permanent_residence_id() -> None:
    # 9 + province of issue (11 Beijing) + nationality (840 USA) + birth date + sequence.
    number = person_id("911840" + "19800101" + "123")
    parsed = parse_person_id(number, today=TODAY)
    assert (parsed.kind, parsed.birth_date, parsed.gender) == (
        "foreign_permanent",
        date(1980, 1, 1),
        "M",
    )
    assert parsed.region == "911840"


def test_taiwan_province_resident() -> None:
    assert parse_person_id(person_id("71000019800101002"), today=TODAY).kind == "resident"


def test_new_district_unknown_to_stdnum_is_accepted() -> None:
    # 440309 Longhua district, Shenzhen (2016): not in python-stdnum's table.
    number = person_id("44030920100101001")
    assert not ric.is_valid(number)
    assert parse_person_id(number, today=TODAY).region == "440309"


def test_born_today_is_accepted() -> None:
    number = person_id("330106" + TODAY.strftime("%Y%m%d") + "002")
    assert parse_person_id(number, today=TODAY).birth_date == TODAY


def test_leap_day_birth() -> None:
    number = person_id("33010620000229002")
    assert parse_person_id(number, today=TODAY).birth_date == date(2000, 2, 29)


# --- person IDs: refused ----------------------------------------------------------------


def test_wrong_check_digit_says_what_it_should_be() -> None:
    with pytest.raises(InvalidInput) as caught:
        parse_person_id("110105194912310021", today=TODAY)
    assert caught.value.key == "error.id.checksum"
    assert caught.value.params["expected"] == "X"
    assert caught.value.params["value"] == "1101**********0021"


def test_impossible_birth_date() -> None:
    with refused("error.id.birth_date"):
        parse_person_id(person_id("61010319990230002"), today=TODAY)


def test_impossible_birth_date_in_fifteen_digits() -> None:
    with refused("error.id.birth_date"):
        parse_person_id("610103990230002", today=TODAY)


def test_future_birth_date() -> None:
    tomorrow = TODAY + timedelta(days=1)
    with refused("error.id.future_birth"):
        parse_person_id(person_id("610103" + tomorrow.strftime("%Y%m%d") + "002"), today=TODAY)


def test_birth_before_1900() -> None:
    # The example of GB 11643 itself: born 1880.
    with refused("error.id.birth_too_early"):
        parse_person_id("440524188001010014", today=TODAY)


@pytest.mark.parametrize("province", ["00", "10", "16", "20", "24", "30", "38", "47", "55", "72"])
def test_unknown_province(province: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        parse_person_id(person_id(province + "010519800101002"), today=TODAY)
    assert caught.value.key == "error.id.region"
    assert caught.value.params["province"] == province


def test_fifteen_digit_unknown_province() -> None:
    with refused("error.id.region"):
        parse_person_id("990105491231002", today=TODAY)


@pytest.mark.parametrize("typed", ["", "1101051949123100", "11010519491231002X1", "1234567890"])
def test_wrong_length(typed: str) -> None:
    with refused("error.id.length"):
        parse_person_id(typed, today=TODAY)


@pytest.mark.parametrize(
    "typed", ["1101051949123100AX", "11010519491231002Y", "11010549123100A", "X10105194912310021"]
)
def test_not_digits(typed: str) -> None:
    with refused("error.id.format"):
        parse_person_id(typed, today=TODAY)


def test_error_does_not_leak_the_number() -> None:
    with pytest.raises(InvalidInput) as caught:
        parse_person_id("610103199902300023", today=TODAY)
    assert "19990230" not in caught.value.params["value"]


# --- person IDs: properties -------------------------------------------------------------

PROVINCE_CODES = sorted(PROVINCES - {"81", "82", "83"}) + [f"9{d}" for d in "0123456789"]


@st.composite
def valid_first17(draw: st.DrawFn) -> str:
    """The first 17 digits of an acceptable resident or foreigner's ID."""
    province = draw(st.sampled_from(PROVINCE_CODES))
    district = draw(st.text("0123456789", min_size=4, max_size=4))
    born = draw(st.dates(min_value=date(1900, 1, 1), max_value=TODAY))
    sequence = draw(st.text("0123456789", min_size=3, max_size=3))
    return province + district + born.strftime("%Y%m%d") + sequence


@given(valid_first17())
def test_any_valid_id_is_accepted(first17: str) -> None:
    number = person_id(first17)
    parsed = parse_person_id(number, today=TODAY)
    assert parsed.number == number
    assert parsed.birth_date.strftime("%Y%m%d") == first17[6:14]
    assert parsed.gender == ("M" if int(first17[16]) % 2 else "F")
    assert parsed.kind == ("foreign_permanent" if first17[0] == "9" else "resident")


@given(valid_first17(), st.integers(0, 17), st.sampled_from("0123456789X"))
def test_any_single_change_is_refused(first17: str, position: int, replacement: str) -> None:
    number = person_id(first17)
    if position < 17 and replacement == "X":
        replacement = "0"
    changed = number[:position] + replacement + number[position + 1 :]
    if changed == number:
        return
    with pytest.raises(InvalidInput):
        parse_person_id(changed, today=TODAY)


@given(valid_first17().filter(lambda f: f[0] != "9" and f[:2] not in {"71"}))
def test_fifteen_digit_form_upgrades_to_the_eighteen(first17: str) -> None:
    if not "1900" <= first17[6:10] <= "1999":
        return
    fifteen = first17[:6] + first17[8:]
    parsed = parse_person_id(fifteen, today=TODAY)
    assert parsed.number == person_id(first17)
    assert parsed.kind == "resident_15"


# --- unified social credit codes --------------------------------------------------------


@pytest.mark.parametrize(
    ("first17", "authority", "kind"),
    [
        ("91110000600037341", "market_regulation", "enterprise"),
        ("91350100M000100Y4", "market_regulation", "enterprise"),
        ("92440300MA5F12345", "market_regulation", "sole_trader"),
        ("93610124MA6U54321", "market_regulation", "farmer_cooperative"),
        ("N2610124MF0012345", "agriculture", "village_collective"),
        ("N1610124MF0054321", "agriculture", "group_collective"),
        ("N3610124MF0000017", "agriculture", "township_collective"),
        ("51610000MJ2900123", "civil_affairs", "social_organisation"),
        ("52610000MJ2900456", "civil_affairs", "private_non_enterprise"),
        ("53100000500021676", "civil_affairs", "foundation"),
        ("12610000435200123", "establishment", "public_institution"),
        ("11610000016000123", "establishment", "government_agency"),
        ("31610000MD0123456", "justice", "law_firm"),
        ("71610000MC0123456", "religion", "religious_venue"),
        ("81610000MC0123456", "trade_union", "grassroots_trade_union"),
        ("A1100000MB0123456", "military_establishment", "military_public_institution"),
        ("Y1610000MG0123456", "other", "other"),
    ],
)
def test_org_code_accepted(first17: str, authority: str, kind: str) -> None:
    code = org_code(first17)
    assert parse_org_code(code) == OrgId(code=code, authority=authority, kind=kind)


def test_real_enterprise_codes() -> None:
    assert parse_org_code("91110000600037341L").kind == "enterprise"
    assert parse_org_code("91350100M000100Y43").kind == "enterprise"


def test_village_collective_that_stdnum_refuses() -> None:
    code = org_code("N2610124MF0012345")
    assert not uscc.is_valid(code)
    assert parse_org_code(code).kind == "village_collective"


@pytest.mark.parametrize(
    "typed",
    ["91110000 600037341l", " 9111-0000-6000-3734-1L ", "９１１１００００６０００３７３４１Ｌ"],
)
def test_org_code_is_normalised(typed: str) -> None:
    assert parse_org_code(typed).code == "91110000600037341L"


@pytest.mark.parametrize("bad", "IOZSV")
def test_org_code_forbidden_letter(bad: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        parse_org_code("9111000060003" + bad + "341L")
    assert caught.value.key == "error.uscc.format"
    assert (caught.value.params["char"], caught.value.params["position"]) == (bad, 14)


def test_org_code_punctuation_refused() -> None:
    with refused("error.uscc.format"):
        parse_org_code("91110000600037341*")


def test_org_code_wrong_check_char() -> None:
    with pytest.raises(InvalidInput) as caught:
        parse_org_code("91110000600037341M")
    assert caught.value.key == "error.uscc.checksum"
    assert caught.value.params["expected"] == "L"


@pytest.mark.parametrize("typed", ["", "9111000060003734", "91110000600037341L0"])
def test_org_code_wrong_length(typed: str) -> None:
    with refused("error.uscc.length"):
        parse_org_code(typed)


@pytest.mark.parametrize("first17", ["B1110000600037341", "0111000060003734X", "E1610000MG0123456"])
def test_org_code_unknown_authority(first17: str) -> None:
    with refused("error.uscc.authority"):
        parse_org_code(org_code(first17))


@pytest.mark.parametrize("first17", ["94110000600037341", "54610000MJ2900123", "Y2610000MG0123456"])
def test_org_code_unknown_category(first17: str) -> None:
    with refused("error.uscc.category"):
        parse_org_code(org_code(first17))


def test_org_code_region_must_be_digits() -> None:
    with refused("error.uscc.region"):
        parse_org_code(org_code("91A10000600037341"))


# GB 32100-2015 appendix A, written out again here as an independent oracle.
CATEGORY_PAIRS = {
    ("1", "1"), ("1", "2"), ("1", "3"), ("1", "9"), ("2", "1"), ("2", "9"),
    ("3", "1"), ("3", "2"), ("3", "3"), ("3", "4"), ("3", "5"), ("3", "9"),
    ("4", "1"), ("4", "9"), ("5", "1"), ("5", "2"), ("5", "3"), ("5", "9"),
    ("6", "1"), ("6", "2"), ("6", "9"), ("7", "1"), ("7", "2"), ("7", "9"),
    ("8", "1"), ("8", "9"), ("9", "1"), ("9", "2"), ("9", "3"),
    ("A", "1"), ("A", "9"), ("N", "1"), ("N", "2"), ("N", "3"), ("N", "9"), ("Y", "1"),
}  # fmt: skip
USCC_PREFIXES = sorted(authority + category for authority, category in CATEGORY_PAIRS)


@st.composite
def valid_org_first17(draw: st.DrawFn) -> str:
    """The first 17 characters of an acceptable USCC."""
    prefix = draw(st.sampled_from(USCC_PREFIXES))
    region = draw(st.text("0123456789", min_size=6, max_size=6))
    body = draw(st.text(USCC_ALPHABET, min_size=9, max_size=9))
    return prefix + region + body


@given(valid_org_first17())
def test_any_valid_org_code_is_accepted(first17: str) -> None:
    code = org_code(first17)
    parsed = parse_org_code(code)
    assert parsed.code == code
    assert parsed.kind in ORG_KINDS
    assert parsed.authority in ORG_AUTHORITIES


@given(valid_org_first17(), st.integers(0, 17), st.sampled_from(USCC_ALPHABET))
def test_any_single_org_change_is_refused(first17: str, position: int, replacement: str) -> None:
    code = org_code(first17)
    changed = code[:position] + replacement + code[position + 1 :]
    if changed == code:
        return
    with pytest.raises(InvalidInput):
        parse_org_code(changed)


def test_org_kind_names_cover_the_standard() -> None:
    assert len(ORG_KINDS) == len(CATEGORY_PAIRS)
    assert ORG_KINDS["village_collective"] == (
        "村级集体经济组织",
        "Village collective economic organisation",
    )
    assert all(zh and en for zh, en in ORG_KINDS.values())
    assert all(zh and en for zh, en in ORG_AUTHORITIES.values())


# --- phones -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("typed", "canonical"),
    [
        ("13812345678", "13812345678"),
        ("138 1234 5678", "13812345678"),
        ("138-1234-5678", "13812345678"),
        ("+86 138 1234 5678", "13812345678"),
        ("+8613812345678", "13812345678"),
        ("0086 13812345678", "13812345678"),
        ("１９９１２３４５６７８", "19912345678"),
        ("029-88886666", "029-88886666"),
        ("02988886666", "029-88886666"),
        ("0371 66668888", "0371-66668888"),
        ("(010) 6552 9988", "010-65529988"),
        ("+86 29 8888 6666", "029-88886666"),
        ("0898-66668888", "0898-66668888"),
    ],
)
def test_phone_accepted(typed: str, canonical: str) -> None:
    assert normalise_phone(typed) == canonical


@pytest.mark.parametrize(
    "typed",
    [
        "",
        "12345",
        "23812345678",
        "1381234567",
        "138123456789",
        "88886666",
        "10086",
        "400-810-8888",
        "+852 9123 4567",
        "+1 202 555 0100",
        "029-88886666-123",
        "138abcd5678",
        "1-800-FLOWERS",
    ],
)
def test_phone_refused(typed: str) -> None:
    with refused("error.phone.invalid"):
        normalise_phone(typed)


# --- masks ------------------------------------------------------------------------------


def test_mask_id() -> None:
    assert mask_id("610103198506120034") == "6101**********0034"
    assert mask_id("91110000600037341L") == "9111**********341L"
    assert mask_id("12345678") == "********"
    assert mask_id("") == ""


def test_mask_phone() -> None:
    assert mask_phone("13812345678") == "138****5678"
    assert mask_phone("029-88886666") == "029-****6666"
    assert mask_phone("0371-6666888") == "0371-***6888"
    assert mask_phone("1234") == "****"


@given(valid_first17())
def test_mask_keeps_length_and_hides_the_birth_date(first17: str) -> None:
    masked = mask_id(person_id(first17))
    assert len(masked) == 18
    assert masked[4:14] == "*" * 10
