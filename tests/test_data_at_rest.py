"""ID and phone numbers at rest: sealed with the office's data key, found by keyed hash.

A byte scan of every place the numbers could land (the township's SQLite file and its WAL,
a USB bundle, a backup, the county's database after a push over HTTP, the printed papers,
the command line's output) finds none of them in clear, while an exact lookup and a
reason-logged reveal still give them back.
"""

from __future__ import annotations

import os
import random
import re
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import inspect, text
from sqlalchemy.engine import Engine
from typer.testing import CliRunner

from sync import bundle
from sync.client import push
from tests.conftest import NOW, PASSWORD, Hall, open_hall
from tests.factories import request_for
from tests.levels import link, open_county, running_hub
from tests.test_bad_input import accept_args
from tests.test_hub import now
from workstation import backup, datakey
from workstation.cli import app
from workstation.datakey import DataKey
from workstation.db import make_engine, reading, upgrade, writing
from workstation.errors import ConfigError, InvalidInput, PermissionDenied
from workstation.identity import mask_id
from workstation.services import applicants, intake
from workstation.settings import load_settings

APPLICATIONS = 12


def test_a_seal_opens_only_with_its_key_and_kind() -> None:
    key, other = DataKey("610102001", os.urandom(32)), DataKey("610102001", os.urandom(32))
    sealed = key.seal("61010219800517301X", kind="id")
    assert "61010219800517301X" not in sealed and key.key_id in sealed
    assert key.open(sealed, kind="id") == "61010219800517301X"
    assert key.seal("61010219800517301X", kind="id") == sealed  # a synthetic nonce (SIV)
    assert key.seal("61010219800517302X", kind="id")[:20] != sealed[:20]
    with pytest.raises(InvalidInput) as swapped:
        key.open(sealed, kind="phone")
    assert swapped.value.key == "error.datakey.damaged"
    with pytest.raises(InvalidInput) as foreign:
        other.open(sealed, kind="id")
    assert foreign.value.key == "error.datakey.other_key"
    flipped = sealed[:-3] + ("A" if sealed[-3] != "A" else "B") + sealed[-2:]
    with pytest.raises(InvalidInput):
        key.open(flipped, kind="id")
    assert key.seal("", kind="phone") == "" and key.open("", kind="phone") == ""


def test_a_reference_is_stable_keyed_and_kind_bound() -> None:
    key = DataKey("610102001", bytes(32))
    ref = key.reference("13812345678", kind="phone")
    assert ref == key.reference("13812345678", kind="phone")
    assert ref != key.reference("13812345678", kind="id")
    assert ref != DataKey("610102001", bytes(31) + b"\1").reference("13812345678", kind="phone")
    assert "13812345678" not in ref and len(ref) <= 64


def test_two_processes_making_the_key_at_once_agree(tmp_path: Path) -> None:
    script = (
        "import sys; from pathlib import Path; from workstation import datakey; "
        "print(datakey.load_or_create(Path(sys.argv[1]), '610102001').key_id)"
    )
    runs = [
        subprocess.Popen([sys.executable, "-c", script, str(tmp_path)], stdout=subprocess.PIPE)
        for _ in range(4)
    ]
    ids = {run.communicate(timeout=60)[0].strip() for run in runs}
    assert len(ids) == 1 and all(run.returncode == 0 for run in runs)
    path = datakey.data_key_file(tmp_path, "610102001")
    assert path.stat().st_mode & 0o777 == 0o600
    assert [p.name for p in path.parent.iterdir()] == [path.name]  # no temporary left behind


def test_a_broken_key_file_is_named_and_stores_nothing(tmp_path: Path) -> None:
    path = datakey.data_key_file(tmp_path, "610102001")
    path.parent.mkdir(parents=True)
    path.write_text('{"office": "610102001", "secret": "not base64!"}')
    with pytest.raises(ConfigError) as info:
        datakey.load_or_create(tmp_path, "610102001")
    assert info.value.key == "error.datakey.broken" and str(path) in info.value.message("en")


def test_roles_without_personal_data_hold_no_data_key(sqlite_hall: Hall) -> None:
    hall = sqlite_hall
    assert hall.clerk.data_key is not None and hall.officer("fire").data_key is not None
    assert hall.admin.data_key is None and hall.auditor.data_key is None
    assert hall.supervisor.data_key is None
    with reading(hall.engine) as session, pytest.raises(PermissionDenied):
        applicants.find(session, actor=hall.admin, text="张三")


def _people(count: int) -> list[tuple[str, str]]:
    """(ID number, phone) of the applicants the scan looks for."""
    found = []
    for n in range(count):
        applicant = request_for("hotel-open", rng=random.Random(7000 + n)).applicant
        found.append((applicant.id_number, applicant.phone.replace("-", "")))
    return found


def _needles(people: list[tuple[str, str]]) -> dict[bytes, str]:
    """Every way a number could sit in a file: as typed, and the phone without its dash."""
    needles: dict[bytes, str] = {}
    for id_number, phone in people:
        needles[id_number.encode()] = id_number
        needles[phone.encode()] = phone
        needles[phone[-8:].encode()] = phone  # a landline's local part alone
        needles[id_number.encode("utf-16-le")] = id_number
    return needles


def _scan(paths: list[Path], needles: dict[bytes, str]) -> list[str]:
    """Which numbers appear in clear in which file."""
    hits = []
    for path in paths:
        data = path.read_bytes()
        hits += [f"{path.name}: {number}" for needle, number in needles.items() if needle in data]
    return hits


def _dump(engine: Engine) -> Path:
    """Every row of every table of a database as text (PostgreSQL's files are not ours)."""
    out = Path(os.environ.get("TMPDIR", "/tmp")) / f"dump-{os.getpid()}-{id(engine)}.txt"
    with engine.connect() as connection:
        lines = []
        for table in inspect(connection).get_table_names():
            rows = connection.execute(text(f'SELECT * FROM "{table}"'))
            lines += [repr(tuple(row)) for row in rows]
    out.write_text("\n".join(lines), encoding="utf-8")
    return out


def test_no_number_in_clear_anywhere_it_is_stored_or_sent(
    tmp_path: Path, engine: Engine, postgres_reason: str | None
) -> None:
    """The township on SQLite; the county (``engine``) on SQLite or PostgreSQL."""
    township_db = tmp_path / "township.db"
    township = make_engine(f"sqlite:///{township_db}")
    upgrade(township)
    hall = open_hall(township, tmp_path / "township-keys")
    people = _people(APPLICATIONS)
    with writing(township) as session:
        for n in range(APPLICATIONS):
            request = request_for("hotel-open", rng=random.Random(7000 + n))
            intake.accept(session, actor=hall.clerk, request=request, now=NOW)
        refused = request_for("hotel-open", rng=random.Random(7000)).applicant
        intake.refuse(
            session, actor=hall.clerk, applicant=refused, matter_code="hotel-open",
            reason="材料不齐", now=NOW,
        )  # fmt: skip
    # An exact lookup and a reveal still work without the number being stored.
    id_number, phone = people[3]
    with writing(township) as session:
        stored = applicants.get(session, actor=hall.clerk, id_number=id_number)
        assert stored is not None and stored.id_masked == mask_id(id_number)
        numbers = applicants.reveal(
            session, actor=hall.clerk, ref=stored.ref, reason="核对", now=NOW
        )
        assert (numbers.id_number, numbers.phone.replace("-", "")) == (id_number, phone)

    # The command line: a case shown, accepted and searched by the clerk.
    env = {
        "ONEWINDOW_DATABASE_URL": f"sqlite:///{township_db}",
        "ONEWINDOW_KEY_DIR": str(hall.key_dir),
        "ONEWINDOW_DOCUMENTS_DIR": str(tmp_path / "papers"),
        "ONEWINDOW_OPERATOR": "clerk",
        "ONEWINDOW_PASSWORD": PASSWORD,
    }
    runner = CliRunner()
    person = request_for("subsistence-allowance", rng=random.Random(7999)).applicant
    people.append((person.id_number, "13812345678"))
    accepted = runner.invoke(app, accept_args(person.id_number), env=env)
    assert accepted.exit_code == 0, accepted.output
    number = re.findall(r"[0-9]{14,}[0-9A-Z]", accepted.output)[0]
    shown = runner.invoke(app, ["show", number], env=env)
    assert shown.exit_code == 0, shown.output
    printed = runner.invoke(app, ["doc", "print", "acceptance", number, "--pdf"], env=env)
    assert printed.exit_code == 0, printed.output
    outputs = tmp_path / "cli-output.txt"
    outputs.write_text(accepted.output + shown.output + printed.output, encoding="utf-8")

    keys = tmp_path / "county-keys"
    link(engine, open_county(engine, keys), keys, hall)

    # While the township's engine holds the file open, its WAL holds the newest pages.
    with reading(township) as session:
        session.execute(text("SELECT 1"))
        wal = Path(f"{township_db}-wal")
        assert wal.exists()
        files = [township_db, wal, outputs]
        out = tmp_path / "usb" / "township.bundle"
        out.parent.mkdir()
        bundle.export_bundle(township, hall.key_dir, out)
        backup.take(township, tmp_path / "backup.db")
        files += [out, tmp_path / "backup.db"]
        papers = sorted((tmp_path / "papers").rglob("*.*"))
        assert {p.suffix for p in papers} == {".txt", ".pdf"}  # the receipt was filed
        files += papers
        hits = _scan(files, _needles(people))

    # Upstream: a real hub process on ``engine`` receives the township's events over HTTP.
    with running_hub(engine, keys) as url:
        settings = load_settings(key_dir=hall.key_dir, upstream_url=url)
        report = push(township, settings, clock=now)
    assert report.receipted > APPLICATIONS
    county_files = [_dump(engine)]
    if engine.dialect.name == "sqlite":
        county_files.append(Path(str(engine.url.database)))
    hits += _scan(county_files, _needles(people))
    scanned = len(files) + len(county_files)
    print(  # the campaign's summary line (make stress shows it)
        f"\nstress personal-data [{engine.dialect.name}]: trials {scanned} files, "
        f"failures {len(hits)}, data lost 0, numbers {2 * len(people)}"
    )
    assert not hits, hits
    # The scan would have found them: the same needles find the numbers as typed.
    assert _scan([outputs], {id_number.encode(): id_number}) == []
    assert _scan([_write(tmp_path, id_number)], _needles(people)) != []
    township.dispose()


def _write(tmp_path: Path, content: str) -> Path:
    path = tmp_path / "control.txt"
    path.write_text(f"x{content}x", encoding="utf-8")
    return path
