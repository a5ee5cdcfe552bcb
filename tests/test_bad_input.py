"""Acceptance: bad input gets a clear message in the operator's language and changes nothing.

Through the ``onewindow`` command on a real hall database: a wrong ID check digit, an
impossible birth date, an unknown matter, a broken catalog, a wrong password or operator and a
bad setting. For each, the whole SQLite file is dumped before and after (``iterdump``, without
the audit trail, which records refused logins by design) and must be identical; the message is
the exact translation, in Chinese and in English, and never a traceback. The service-level
equivalents run on both backends and count the rows of every table.
"""

from __future__ import annotations

import random
import shutil
import sqlite3
import tomllib
from collections.abc import Iterator
from contextlib import closing
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import pytest
from click.testing import Result
from sqlalchemy import func, select
from sqlmodel import SQLModel
from typer.testing import CliRunner

from tests.conftest import NOW, PASSWORD, Hall
from tests.factories import CATALOG, form_for, person_id, request_for
from workstation.catalog import load_catalog
from workstation.catalog.loader import bundled_catalog_dir, reason
from workstation.cli import app
from workstation.db import reading, writing
from workstation.errors import CatalogError, InvalidInput, NotFound, WorkstationError
from workstation.i18n import translate
from workstation.identity import mask_id, person_id_check_digit
from workstation.services import intake
from workstation.services.applicants import ApplicantInput

LANGUAGES = ("zh_CN", "en")
AUDIT_TABLE = "auditentry"
"""The audit trail's table (SQLModel names it after the class ``AuditEntry``)."""

GOOD_ID = person_id(random.Random(1))
WRONG_CHECK_ID = GOOD_ID[:17] + next(c for c in "0123456789X" if c != GOOD_ID[17])
BAD_BIRTH_17 = "610102" + "19990230" + "123"
BAD_BIRTH_ID = BAD_BIRTH_17 + person_id_check_digit(BAD_BIRTH_17)
UNKNOWN_MATTER = "no-such-matter"


@dataclass(frozen=True)
class Office:
    """The hall's SQLite file and key directory, driven through the CLI."""

    db_file: Path
    key_dir: Path

    def run(self, *args: str, **env: str) -> Result:
        """``onewindow *args`` as the clerk (unless ``env`` says otherwise)."""
        environ = {
            "ONEWINDOW_DATABASE_URL": f"sqlite:///{self.db_file}",
            "ONEWINDOW_KEY_DIR": str(self.key_dir),
            "ONEWINDOW_OPERATOR": "clerk",
            "ONEWINDOW_PASSWORD": PASSWORD,
            **env,
        }
        result = CliRunner().invoke(app, list(args), env=environ)
        assert "Traceback" not in result.output
        assert result.exception is None or isinstance(result.exception, SystemExit), repr(
            result.exception
        )
        return result

    def dump(self) -> list[str]:
        """The whole database as SQL, except the audit trail's rows."""
        with closing(sqlite3.connect(self.db_file)) as con:
            lines = list(con.iterdump())
        return [line for line in lines if not line.startswith(f'INSERT INTO "{AUDIT_TABLE}"')]

    def audit(self) -> list[tuple[str, str, str]]:
        """(actor, action, detail) of every audit entry, oldest first."""
        with closing(sqlite3.connect(self.db_file)) as con:
            query = f"SELECT actor, action, detail FROM {AUDIT_TABLE} ORDER BY id"
            return [tuple(row) for row in con.execute(query)]


@pytest.fixture
def office(sqlite_hall: Hall) -> Office:
    return Office(Path(str(sqlite_hall.engine.url.database)), sqlite_hall.key_dir)


def accept_args(
    id_number: str = GOOD_ID, matter: str = "subsistence-allowance", name: str = "张三"
) -> list[str]:
    """A complete ``onewindow accept`` of a person's matter; only the given parts vary."""
    spec = CATALOG.matter("subsistence-allowance")
    assert spec is not None
    args = ["accept", "--matter", matter, "--id", id_number, "--name", name]
    args += ["--phone", "13812345678", "--address", "西一路2号", "--all-required"]
    for code, value in form_for(spec).items():
        args += ["--field", f"{code}={value}"]
    return args


def error_line(language: str, key: str, **params: Any) -> str:
    """What the CLI prints for an error: the translated message inside ``cli.error``."""
    return translate("cli.error", language, message=translate(key, language, **params))


def assert_refused(office: Office, args: list[str], key: str, **params: Any) -> None:
    """In both languages: exit 1, exactly the translated line, and the database unchanged."""
    before = office.dump()
    assert sum(line.startswith('INSERT INTO "event"') for line in before) >= 14
    for language in LANGUAGES:
        result = office.run(*args, ONEWINDOW_LANGUAGE=language)
        assert result.exit_code == 1, result.output
        assert result.stdout == ""
        assert result.stderr == error_line(language, key, **params) + "\n"
        assert office.dump() == before


# ── control: the same command with good input changes the database ──────────────────────────


def test_good_accept_changes_the_database(office: Office) -> None:
    before = office.dump()
    result = office.run(*accept_args())
    assert result.exit_code == 0, result.output
    prefix = translate("cli.accepted", "zh_CN", tracking_no="\0", due="").split("\0")[0]
    assert prefix == "已受理。办件编号 "
    assert result.output.startswith(prefix)
    after = office.dump()
    assert after != before
    assert len(after) > len(before)
    assert office.audit() == []


# ── applicant and matter ────────────────────────────────────────────────────────────────────


def test_wrong_id_check_digit(office: Office) -> None:
    assert WRONG_CHECK_ID != GOOD_ID and WRONG_CHECK_ID[:17] == GOOD_ID[:17]
    assert_refused(
        office,
        accept_args(WRONG_CHECK_ID),
        "error.id.checksum",
        value=mask_id(WRONG_CHECK_ID),
        expected=GOOD_ID[17],
    )


def test_wrong_id_check_digit_message_text(office: Office) -> None:
    result = office.run(*accept_args(WRONG_CHECK_ID))
    assert result.exit_code == 1
    assert result.stderr == (
        f"错误：身份证号码校验位不对:最后一位应为 {GOOD_ID[17]}。请逐位核对号码。\n"
    )
    assert WRONG_CHECK_ID not in result.output  # the ID is never echoed in full


def test_impossible_birth_date(office: Office) -> None:
    assert_refused(
        office,
        accept_args(BAD_BIRTH_ID),
        "error.id.birth_date",
        value=mask_id(BAD_BIRTH_ID),
        birth="19990230",
    )
    assert "19990230" in office.run(*accept_args(BAD_BIRTH_ID)).stderr


def test_unknown_matter(office: Office) -> None:
    assert_refused(
        office, accept_args(matter=UNKNOWN_MATTER), "error.matter.unknown", code=UNKNOWN_MATTER
    )


def test_unknown_matter_without_all_required(office: Office) -> None:
    args = ["accept", "--matter", UNKNOWN_MATTER, "--id", GOOD_ID, "--name", "张三"]
    assert_refused(office, args, "error.matter.unknown", code=UNKNOWN_MATTER)


# ── log-in ──────────────────────────────────────────────────────────────────────────────────


@pytest.mark.parametrize(
    ("operator", "password"),
    [("clerk", "wrong-password"), ("nobody", PASSWORD), ("clerk", PASSWORD.upper())],
    ids=["wrong_password", "unknown_operator", "password_case"],
)
def test_wrong_credentials(office: Office, operator: str, password: str) -> None:
    before = office.dump()
    assert office.audit() == []
    for number, language in enumerate(LANGUAGES, start=1):
        result = office.run(
            *accept_args(),
            ONEWINDOW_LANGUAGE=language,
            ONEWINDOW_OPERATOR=operator,
            ONEWINDOW_PASSWORD=password,
        )
        assert result.exit_code == 1
        assert result.stderr == error_line(language, "error.auth") + "\n"
        assert password not in result.output
        assert office.dump() == before
        assert office.audit() == [(operator, "login_failed", "error.auth")] * number


def test_wrong_password_adds_exactly_one_audit_entry(office: Office) -> None:
    before = office.dump()
    result = office.run(*accept_args(), ONEWINDOW_PASSWORD="wrong-password")
    assert result.exit_code == 1
    assert result.stderr == "错误：操作员或密码不正确。\n"
    assert office.audit() == [("clerk", "login_failed", "error.auth")]
    assert office.dump() == before


def test_missing_credentials(office: Office) -> None:
    before = office.dump()
    for language in LANGUAGES:
        result = office.run(*accept_args(), ONEWINDOW_LANGUAGE=language, ONEWINDOW_PASSWORD="")
        assert result.exit_code == 1
        assert result.stderr == error_line(language, "cli.need_credentials") + "\n"
    assert office.dump() == before
    assert office.audit() == []


# ── settings ────────────────────────────────────────────────────────────────────────────────


@pytest.mark.parametrize(
    "command", [["verify"], accept_args(), []], ids=["verify", "accept", "none"]
)
def test_bad_language_setting(office: Office, command: list[str]) -> None:
    before = office.dump()
    result = office.run(*command, ONEWINDOW_LANGUAGE="fr")
    assert result.exit_code == 2
    lines = result.output.splitlines()
    assert len(lines) == 1
    assert lines[0].startswith("错误：设置 ONEWINDOW_LANGUAGE 有误：")
    assert "'zh_CN' or 'en'" in lines[0]
    assert result.stdout == ""
    assert office.dump() == before
    assert office.audit() == []


def test_bad_numeric_setting_names_it(office: Office) -> None:
    before = office.dump()
    result = office.run(*accept_args(), ONEWINDOW_CLAIM_HOURS="0")
    assert result.exit_code == 2
    (line,) = result.output.splitlines()
    assert line.startswith("错误：设置 ONEWINDOW_CLAIM_HOURS 有误：")
    assert office.dump() == before


# ── broken catalogs ─────────────────────────────────────────────────────────────────────────


@pytest.fixture
def catalog_copy(tmp_path: Path) -> Path:
    """A copy of the bundled catalog, to break."""
    target = tmp_path / "catalog"
    shutil.copytree(bundled_catalog_dir(), target)
    return target


def _edit(path: Path, old: str, new: str) -> None:
    text = path.read_text("utf-8")
    assert text.count(old) == 1, old
    path.write_text(text.replace(old, new), "utf-8")


def test_intact_catalog_copy_checks(office: Office, catalog_copy: Path) -> None:
    catalog = load_catalog()
    result = office.run("catalog", "check", str(catalog_copy))
    assert result.exit_code == 0
    counts = {"departments": len(catalog.departments), "matters": len(catalog.matters)}
    assert counts["matters"] == 8
    assert result.output == translate("cli.catalog_ok", "zh_CN", **counts) + "\n"


def test_catalog_with_toml_syntax_error(office: Office, catalog_copy: Path) -> None:
    path = catalog_copy / "matters" / "hotel-open.toml"
    _edit(path, "time_limit_days = 25\n", "time_limit_days = = 25\n")
    with pytest.raises(tomllib.TOMLDecodeError) as syntax:
        tomllib.loads(path.read_text("utf-8"))
    assert_refused(
        office,
        ["catalog", "check", str(catalog_copy)],
        "error.catalog",
        file=str(path),
        field="-",
        reason=reason("bad_toml", detail=str(syntax.value)),
    )


def test_catalog_with_unknown_department(office: Office, catalog_copy: Path) -> None:
    path = catalog_copy / "matters" / "hotel-open.toml"
    _edit(path, 'department = "tax"\n', 'department = "customs"\n')
    index = [t.code for t in CATALOG.matter("hotel-open").tasks].index("tax")  # type: ignore[union-attr]
    assert_refused(
        office,
        ["catalog", "check", str(catalog_copy)],
        "error.catalog",
        file=str(path),
        field=f"tasks.{index}.department",
        reason=reason("unknown_department", code="customs"),
    )


def test_catalog_with_missing_departments_file(office: Office, catalog_copy: Path) -> None:
    path = catalog_copy / "departments.toml"
    path.unlink()
    assert_refused(
        office,
        ["catalog", "check", str(catalog_copy)],
        "error.catalog",
        file=str(path),
        field="-",
        reason=reason("file_not_found"),
    )


def _make_cycle(catalog_copy: Path) -> Path:
    """fire now depends on police, which depends on fire."""
    path = catalog_copy / "matters" / "hotel-open.toml"
    _edit(path, 'code = "fire"\n', 'code = "fire"\ndepends_on = ["police"]\n')
    return path


def test_catalog_with_dependency_cycle_is_refused(office: Office, catalog_copy: Path) -> None:
    path = _make_cycle(catalog_copy)
    before = office.dump()
    for language in LANGUAGES:
        result = office.run("catalog", "check", str(catalog_copy), ONEWINDOW_LANGUAGE=language)
        assert result.exit_code == 1
        (line,) = result.output.splitlines()
        assert line.startswith(translate("cli.error", language, message=""))
        assert str(path) in line
    assert office.dump() == before
    with pytest.raises(CatalogError) as info:
        load_catalog(catalog_copy)
    assert info.value.params["file"] == str(path)


def test_catalog_cycle_message_names_the_field(catalog_copy: Path) -> None:
    """The cycle is in the routing: the message must name ``tasks``, not ``-``."""
    _make_cycle(catalog_copy)
    with pytest.raises(CatalogError) as info:
        load_catalog(catalog_copy)
    assert info.value.params["field"].split(".")[0] == "tasks", info.value.params


def test_catalog_cycle_reason_in_the_operators_language(office: Office, catalog_copy: Path) -> None:
    """The reason comes from the locales: a Chinese operator must not read English."""
    _make_cycle(catalog_copy)
    cycle = "fire → police → fire"
    for language in LANGUAGES:
        result = office.run("catalog", "check", str(catalog_copy), ONEWINDOW_LANGUAGE=language)
        assert result.exit_code == 1
        expected = translate("catalog.reason.cycle", language, cycle=cycle)
        assert expected in result.output, result.output


# ── the same refusals at the service layer, on SQLite and PostgreSQL ─────────────────────────


def row_counts(hall: Hall) -> dict[str, int]:
    """Rows of every table, plus the hashes of the log in order."""
    with reading(hall.engine) as s:
        counts = {
            table.name: s.scalar(select(func.count()).select_from(table)) or 0
            for table in SQLModel.metadata.sorted_tables
        }
    assert counts["event"] > 10 and counts["operator"] > 10
    return counts


def event_hashes(hall: Hall) -> list[str]:
    with reading(hall.engine) as s:
        return list(s.scalars(select(SQLModel.metadata.tables["event"].c.hash).order_by("id")))


@dataclass(frozen=True)
class Case:
    applicant_id: str
    matter: str
    error: type[WorkstationError]
    key: str
    params: dict[str, Any]


SERVICE_CASES = {
    "wrong_check_digit": Case(
        WRONG_CHECK_ID,
        "subsistence-allowance",
        InvalidInput,
        "error.id.checksum",
        {"value": mask_id(WRONG_CHECK_ID), "expected": GOOD_ID[17]},
    ),
    "impossible_birth_date": Case(
        BAD_BIRTH_ID,
        "subsistence-allowance",
        InvalidInput,
        "error.id.birth_date",
        {"value": mask_id(BAD_BIRTH_ID), "birth": "19990230"},
    ),
    "unknown_matter": Case(
        GOOD_ID, UNKNOWN_MATTER, NotFound, "error.matter.unknown", {"code": UNKNOWN_MATTER}
    ),
}


@pytest.fixture(params=sorted(SERVICE_CASES))
def case(request: pytest.FixtureRequest) -> Iterator[Case]:
    yield SERVICE_CASES[request.param]


def test_service_refuses_and_changes_nothing(hall: Hall, case: Case) -> None:
    base = request_for("subsistence-allowance")
    applicant = ApplicantInput("person", case.applicant_id, "张三", "13812345678", "西一路2号")
    request = replace(base, applicant=applicant, matter_code=case.matter)
    counts, hashes = row_counts(hall), event_hashes(hall)
    with pytest.raises(case.error) as info, writing(hall.engine) as s:
        intake.accept(s, actor=hall.clerk, request=request, now=NOW)
    assert type(info.value) is case.error
    assert info.value.key == case.key
    assert info.value.params == case.params
    for language in LANGUAGES:
        assert info.value.message(language) == translate(case.key, language, **case.params)
    assert row_counts(hall) == counts
    assert event_hashes(hall) == hashes
    # and the good request goes through, so the comparison above could have failed
    with writing(hall.engine) as s:
        intake.accept(s, actor=hall.clerk, request=base, now=NOW)
    after = row_counts(hall)
    assert after["event"] == counts["event"] + 1
    assert after["application"] == counts["application"] + 1
