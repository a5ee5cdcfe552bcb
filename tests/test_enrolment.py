"""Office keys and enrolment: a township registers its key, the county enrols it from its card."""

from __future__ import annotations

import json
import stat
from dataclasses import replace
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.engine import Engine
from sqlmodel import col
from typer.testing import CliRunner

from models import Event, Office
from tests.conftest import NOW, PASSWORD, Hall
from tests.levels import COUNTY, events, open_county, township_card
from workstation import crypto, officekey, rebuild
from workstation.cli import app
from workstation.db import make_engine, reading, upgrade, writing
from workstation.errors import (
    ConfigError,
    Conflict,
    InvalidInput,
    NotFound,
    PermissionDenied,
    WorkstationError,
)
from workstation.i18n import translate
from workstation.services import enrolment
from workstation.services.enrolment import OfficeCard
from workstation.verify import verify_log


def test_the_township_key_is_registered_once_and_kept_private(township: Hall) -> None:
    card = township_card(township)
    path = officekey.office_key_file(township.key_dir, card.code)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    signer = officekey.load(township.key_dir, card.code)
    assert (signer.key_id, signer.public_key.hex()) == (card.key_id, card.public_key)
    with reading(township.engine) as session:
        here = session.get(Office, card.code)
        assert here is not None and here.key_id == card.key_id
        last = session.scalars(select(Event).order_by(col(Event.id).desc())).first()
        assert last is not None and (last.type, last.actor) == ("office.key_registered", "admin")
        assert verify_log(session).ok
        assert rebuild.check(session) == []
    before = events(township.engine)
    with pytest.raises(Conflict) as again, writing(township.engine) as session:
        enrolment.register_office_key(
            session, actor=township.admin, key_dir=township.key_dir, now=NOW
        )
    assert again.value.key == "error.office_key.registered"
    with pytest.raises(PermissionDenied), writing(township.engine) as session:
        enrolment.register_office_key(
            session, actor=township.clerk, key_dir=township.key_dir, now=NOW
        )
    assert events(township.engine) == before


def test_a_broken_office_key_file_is_named(township: Hall) -> None:
    card = township_card(township)
    path = officekey.office_key_file(township.key_dir, card.code)
    path.write_text(json.dumps({"office": card.code, "private_key": "not base64!"}))
    with pytest.raises(ConfigError) as broken:
        officekey.load(township.key_dir, card.code)
    assert broken.value.key == "error.office_key.broken" and str(path) in broken.value.message("en")
    with pytest.raises(ConfigError) as missing:
        officekey.load(township.key_dir, "999999")
    assert missing.value.key == "error.office_key.missing"


def test_the_county_enrols_revokes_and_re_enrols_the_township(
    engine: Engine, tmp_path: Path, township: Hall
) -> None:
    admin = open_county(engine, tmp_path / "county-keys")
    card = township_card(township)
    with writing(engine) as session:
        enrolment.enrol(session, actor=admin, card=card, now=NOW)
    with reading(engine) as session:
        [row] = enrolment.enrolled(session)
        assert (row.code, row.parent_code, row.key_id, row.public_key, row.revoked_at) == (
            card.code,
            COUNTY.code,
            card.key_id,
            card.public_key,
            None,
        )
    refused(engine, lambda s: enrolment.enrol(s, actor=admin, card=card, now=NOW),
            Conflict, "error.enrol.exists")  # fmt: skip
    with writing(engine) as session:
        enrolment.revoke(session, actor=admin, code=card.code, reason="机器丢失", now=NOW)
    refused(engine, lambda s: enrolment.revoke(s, actor=admin, code=card.code, reason="再",
                                               now=NOW),
            Conflict, "error.enrol.revoked")  # fmt: skip
    refused(engine, lambda s: enrolment.revoke(s, actor=admin, code="123456789", reason="x",
                                               now=NOW),
            NotFound, "error.enrol.unknown")  # fmt: skip
    # A new machine, a new key: enrolled again after the revocation.
    fresh = crypto.Signer.generate()
    new_card = replace(card, key_id=fresh.key_id, public_key=fresh.public_key.hex())
    with writing(engine) as session:
        enrolment.enrol(session, actor=admin, card=new_card, now=NOW)
    with reading(engine) as session:
        [row] = enrolment.enrolled(session)
        assert (row.key_id, row.revoked_at) == (fresh.key_id, None)
        assert verify_log(session).ok
        assert rebuild.check(session) == []


def refused(engine: Engine, call: object, error: type[WorkstationError], key: str) -> None:
    """``call(session)`` is refused with ``error``/``key`` and the log does not grow."""
    before = events(engine)
    with pytest.raises(error) as info, writing(engine) as session:
        call(session)  # type: ignore[operator]
    assert info.value.key == key, info.value
    assert events(engine) == before


@pytest.mark.parametrize(
    ("change", "key"),
    [
        ({"code": "61-01"}, "error.office.code"),
        ({"level": "galaxy"}, "error.office.level"),
        ({"level": "county"}, "error.enrol.level"),
        ({"code": COUNTY.code}, "error.enrol.self"),
        ({"public_key": "zz" * 32}, "error.office_card.key"),
        ({"public_key": "ab" * 31}, "error.office_card.key"),
        ({"key_id": "0" * 16}, "error.office_card.key_id"),
        ({"name": "\x07"}, "error.field.control"),
    ],
)
def test_a_bad_card_is_refused_and_changes_nothing(
    engine: Engine, tmp_path: Path, change: dict[str, str], key: str
) -> None:
    admin = open_county(engine, tmp_path / "county-keys")
    signer = crypto.Signer.generate()
    card = OfficeCard("610102001", "西一路街道", "township", signer.key_id, signer.public_key.hex())
    bad = replace(card, **change)
    refused(engine, lambda s: enrolment.enrol(s, actor=admin, card=bad, now=NOW),
            InvalidInput, key)  # fmt: skip


@pytest.mark.parametrize(
    ("text", "key"),
    [
        ("not json at all", "error.office_card.not_json"),
        ("[1, 2]", "error.office_card.fields"),
        ('{"code": "610102001"}', "error.office_card.fields"),
    ],
)
def test_a_file_that_is_not_a_card_is_refused(text: str, key: str) -> None:
    with pytest.raises(InvalidInput) as info:
        OfficeCard.from_json(text)
    assert info.value.key == key
    assert info.value.message("zh_CN") != info.value.message("en")


def test_the_cli_writes_the_card_and_the_county_enrols_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, township: Hall
) -> None:
    county_db = tmp_path / "county.db"
    county_engine = make_engine(f"sqlite:///{county_db}")
    upgrade(county_engine)
    open_county(county_engine, tmp_path / "county-keys")
    card_file = tmp_path / "card.json"

    def run(*args: str, at: tuple[Path, Path, str]) -> str:
        database, keys, who = at
        env = {
            "ONEWINDOW_DATABASE_URL": f"sqlite:///{database}",
            "ONEWINDOW_KEY_DIR": str(keys),
            "ONEWINDOW_OPERATOR": who,
            "ONEWINDOW_PASSWORD": PASSWORD,
            "ONEWINDOW_LANGUAGE": "zh_CN",
        }
        result = CliRunner().invoke(app, list(args), env=env)
        assert "Traceback" not in result.output
        return result.output

    township_db = Path(str(township.engine.url.database))
    township_at = (township_db, township.key_dir, "admin")
    county_at = (county_db, tmp_path / "county-keys", "county-admin")
    out = run("office", "card", "--out", str(card_file), at=township_at)
    assert translate("error.office_key.unregistered", "zh_CN") in out
    out = run("office", "key", at=township_at)
    assert "密钥编号" in out
    run("office", "card", "--out", str(card_file), at=township_at)
    card = OfficeCard.from_json(card_file.read_text("utf-8"))

    before = events(county_engine)
    out = run("office", "enroll", "610102999", "--public-key", str(card_file), at=county_at)
    assert translate("error.office_card.code", "zh_CN", code="610102999", card=card.code) in out
    missing = str(tmp_path / "nope.json")
    out = run("office", "enroll", card.code, "--public-key", missing, at=county_at)
    assert "nope.json" in out
    assert events(county_engine) == before

    out = run("office", "enroll", card.code, "--public-key", str(card_file), at=county_at)
    assert card.key_id in out and events(county_engine) == before + 1
    out = run("office", "list", at=county_at)
    assert card.code in out and "有效" in out
    run("office", "revoke", card.code, "--reason", "机器丢失", at=county_at)
    assert "已吊销" in run("office", "list", at=county_at)
