"""Acceptance: tampering with the SQLite file behind the app's back is caught by ``verify``.

A log with several applications and decisions is written through the services; the engine is
disposed, and the file is then edited with the standard library's ``sqlite3`` module, as an
attacker with the file (but without any private key) would. A fresh engine then runs
``verify_log``: every change of an event's body, signature, order or presence, and every
re-keyed column, must be reported at the right event with a sensible reason. Projections
edited behind the app's back are caught by ``rebuild.check``.
"""

from __future__ import annotations

import hashlib
import json
import random
import sqlite3
from collections.abc import Callable, Iterator
from contextlib import closing, contextmanager
from dataclasses import dataclass, replace
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest
from click.testing import Result
from typer.testing import CliRunner

from tests.conftest import NOW, Hall
from tests.factories import person_id, request_for
from workstation import rebuild
from workstation.cli import app
from workstation.crypto import canonical
from workstation.db import make_engine, reading, writing
from workstation.i18n import translate
from workstation.services import intake, tasks
from workstation.services.applicants import ApplicantInput
from workstation.verify import VerifyReport, verify_log

ORIGIN = "610102001"
"""The hall's office code: the origin of every event of the log."""
SETUP_EVENTS = 14
"""office.opened, catalog.published and twelve operator.registered events."""
WORK_EVENTS = 9
"""Events ``build_log`` appends after the set-up."""
TOTAL = SETUP_EVENTS + WORK_EVENTS


@dataclass(frozen=True)
class Log:
    """The tampering target: the SQLite file, the hall's key directory and landmark rows."""

    db_file: Path
    key_dir: Path
    hotel: str
    """Tracking number of the hotel application (fire approved, police open)."""
    positions: dict[str, int]
    """first / middle / before_newest / newest → row id."""


def _person(seed: int, name: str) -> ApplicantInput:
    return ApplicantInput(
        "person", person_id(random.Random(seed)), name, "13812345678", "西一路2号"
    )


def build_log(hall: Hall) -> Log:
    """Nine events of work after the set-up: intake, approvals, a supplement, a rejection."""
    clock = iter(NOW + timedelta(minutes=m) for m in range(WORK_EVENTS))
    dibao = request_for("subsistence-allowance")

    def accept(request: intake.IntakeRequest) -> str:
        with writing(hall.engine) as s:
            return intake.accept(s, actor=hall.clerk, request=request, now=next(clock)).tracking_no

    def approve(department: str, task_id: str, permit: str = "") -> None:
        with writing(hall.engine) as s:
            actor = hall.officer(department)
            tasks.approve(s, actor=actor, task_id=task_id, permit_no=permit, now=next(clock))

    hotel = accept(request_for("hotel-open", defer=True))
    first = accept(replace(dibao, applicant=_person(1, "张三")))
    approve("market", f"{hotel}/licence", "MKT000001")
    second = accept(replace(dibao, applicant=_person(2, "李四")))
    approve("village-committee", f"{first}/village")
    with writing(hall.engine) as s:
        tasks.request_supplement(
            s,
            actor=hall.officer("health"),
            task_id=f"{hotel}/health",
            materials=["hygiene-rules"],
            reason="材料不清晰",
            now=next(clock),
        )
    with writing(hall.engine) as s:
        tasks.reject(
            s,
            actor=hall.officer("village-committee"),
            task_id=f"{second}/village",
            reason="不符合法定条件",
            now=next(clock),
        )
    accept(replace(dibao, applicant=_person(3, "王五")))
    approve("fire", f"{hotel}/fire", "FIRE0001")
    db_file = Path(str(hall.engine.url.database))
    hall.engine.dispose()  # from here on the file is edited behind the app's back
    with closing(sqlite3.connect(db_file)) as con:
        rows = con.execute("SELECT id, type, payload FROM event ORDER BY id").fetchall()
    assert len(rows) == TOTAL
    assert [r[0] for r in rows] == list(range(1, TOTAL + 1))
    ids = {"first": rows[0][0], "before_newest": rows[-2][0], "newest": rows[-1][0]}
    accepted = [r for r in rows if r[1] == "application.accepted"]
    ids["middle"] = next(r[0] for r in accepted if first.encode() in r[2])
    assert rows[0][1] == "office.opened"
    assert ids["middle"] == SETUP_EVENTS + 2
    assert rows[-2][1] == "application.accepted"
    assert rows[-1][1] == "task.approved"
    return Log(db_file, hall.key_dir, hotel, ids)


@pytest.fixture
def log(sqlite_hall: Hall) -> Log:
    """The hall's log, written and closed; its SQLite file is ready to be tampered with."""
    return build_log(sqlite_hall)


# ── helpers: the attacker's sqlite3 and the defender's verify ─────────────────────────────────


@contextmanager
def raw(db_file: Path) -> Iterator[sqlite3.Connection]:
    """A plain stdlib connection to the file, committed and closed at the end."""
    con = sqlite3.connect(db_file)
    try:
        with con:
            yield con
    finally:
        con.close()


def row(db_file: Path, row_id: int) -> dict[str, Any]:
    """One event row as a dict of its columns."""
    with closing(sqlite3.connect(db_file)) as con:
        con.row_factory = sqlite3.Row
        found = con.execute("SELECT * FROM event WHERE id = ?", (row_id,)).fetchone()
    assert found is not None, row_id
    return dict(found)


def verify_file(db_file: Path) -> VerifyReport:
    """``verify_log`` through a fresh engine on the (possibly tampered) file."""
    engine = make_engine(f"sqlite:///{db_file}")
    try:
        with reading(engine) as s:
            return verify_log(s)
    finally:
        engine.dispose()


def assert_problem(
    report: VerifyReport, *, row_id: int, seq: int, reason: str, missing: int = 0, **params: Any
) -> None:
    """The report fails at exactly this event, for exactly this reason.

    ``missing``: rows removed from before ``row_id``; every remaining row before it verified
    (problems come in storage order, so none before the first means all of those verified).
    """
    assert report.ok is False
    problem = report.problem
    assert problem is not None
    assert (problem.origin, problem.seq, problem.row_id) == (ORIGIN, seq, row_id)
    assert problem.reason == reason
    assert problem.params == params
    assert report.checked >= row_id - 1 - missing


def cli(log: Log, *args: str, **env: str) -> Result:
    """Run ``onewindow`` on the log's file; asserts the run ended without a traceback."""
    environ = {
        "ONEWINDOW_DATABASE_URL": f"sqlite:///{log.db_file}",
        "ONEWINDOW_KEY_DIR": str(log.key_dir),
        **env,
    }
    result = CliRunner().invoke(app, list(args), env=environ)
    assert "Traceback" not in result.output
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    return result


def failed_line(language: str, *, row_id: int, seq: int, reason: str, **params: Any) -> str:
    """The line ``onewindow verify`` prints for a problem, in ``language``."""
    message = translate(
        "verify.failed",
        language,
        origin=ORIGIN,
        seq=seq,
        row=row_id,
        reason=translate(reason, language, **params),
    )
    return translate("cli.error", language, message=message)


POSITIONS = ["first", "middle", "before_newest"]


# ── control: the untouched log ──────────────────────────────────────────────────────────────


def test_untouched_log_verifies(log: Log) -> None:
    report = verify_file(log.db_file)
    assert report.ok is True
    assert report.problem is None
    assert report.checked == TOTAL


def test_cli_verify_and_rebuild_check_pass_on_untouched_log(log: Log) -> None:
    result = cli(log, "verify")
    assert result.exit_code == 0
    assert result.output == translate("verify.ok", "zh_CN", count=TOTAL) + "\n"
    result = cli(log, "verify", ONEWINDOW_LANGUAGE="en")
    assert result.exit_code == 0
    assert result.output == translate("verify.ok", "en", count=TOTAL) + "\n"
    assert f"{TOTAL} events" in result.output
    result = cli(log, "rebuild", "--check")
    assert result.exit_code == 0
    assert result.output == translate("rebuild.ok", "zh_CN", count=TOTAL) + "\n"
    assert verify_file(log.db_file).ok  # the CLI changed nothing


# ── (a) body ─────────────────────────────────────────────────────────────────────────────────


def _rename_office(env: dict[str, Any]) -> None:
    assert env["body"]["office"]["name"] == "西一路街道便民服务中心"
    env["body"]["office"]["name"] = "东一路街道便民服务中心"


def _rename_applicant(env: dict[str, Any]) -> None:
    assert env["body"]["applicant"]["name"] == "张三"
    env["body"]["applicant"]["name"] = "张五"


def _postpone_due(env: dict[str, Any]) -> None:
    due = date.fromisoformat(env["body"]["due"])
    env["body"]["due"] = (due + timedelta(days=1)).isoformat()


BODY_EDITS: dict[str, Callable[[dict[str, Any]], None]] = {
    "first": _rename_office,
    "middle": _rename_applicant,
    "before_newest": _postpone_due,
}
"""One small, canonical-looking edit per position: a name, a name, a due date."""


def _edited_payload(log: Log, row_id: int, position: str) -> bytes:
    payload = row(log.db_file, row_id)["payload"]
    env = json.loads(payload)
    BODY_EDITS[position](env)
    edited = canonical(env)
    assert edited != payload
    assert len(edited) == len(payload) or position == "before_newest"
    return edited


@pytest.mark.parametrize("position", POSITIONS)
def test_body_edit_is_caught_by_hash(log: Log, position: str) -> None:
    row_id = log.positions[position]
    edited = _edited_payload(log, row_id, position)
    with raw(log.db_file) as con:
        con.execute("UPDATE event SET payload = ? WHERE id = ?", (edited, row_id))
    assert_problem(verify_file(log.db_file), row_id=row_id, seq=row_id, reason="verify.hash")


@pytest.mark.parametrize("position", POSITIONS)
def test_body_edit_with_recomputed_hash_is_caught_by_signature(log: Log, position: str) -> None:
    row_id = log.positions[position]
    edited = _edited_payload(log, row_id, position)
    with raw(log.db_file) as con:
        con.execute(
            "UPDATE event SET payload = ?, hash = ? WHERE id = ?",
            (edited, hashlib.sha256(edited).hexdigest(), row_id),
        )
    assert_problem(verify_file(log.db_file), row_id=row_id, seq=row_id, reason="verify.signature")


@pytest.mark.parametrize("position", POSITIONS)
def test_one_byte_of_body_changed(log: Log, position: str) -> None:
    """The first digit inside the body goes up by one: still canonical JSON, other bytes."""
    row_id = log.positions[position]
    payload = bytearray(row(log.db_file, row_id)["payload"])
    at = next(
        i for i in range(payload.index(b'"body":'), len(payload)) if chr(payload[i]).isdigit()
    )
    payload[at] = ord(str((int(chr(payload[at])) + 1) % 10))
    with raw(log.db_file) as con:
        con.execute("UPDATE event SET payload = ? WHERE id = ?", (bytes(payload), row_id))
    assert json.loads(payload)["seq"] == row_id
    assert_problem(verify_file(log.db_file), row_id=row_id, seq=row_id, reason="verify.hash")


@pytest.mark.parametrize("position", POSITIONS)
def test_signed_time_changed_in_payload_only(log: Log, position: str) -> None:
    """One byte of the signed ``ts`` (2nd → 3rd): the ts column no longer matches."""
    row_id = log.positions[position]
    payload = bytearray(row(log.db_file, row_id)["payload"])
    at = payload.index(b'"ts":"2026-11-0') + len(b'"ts":"2026-11-0')
    assert payload[at : at + 1] == b"2"
    payload[at] = ord("3")
    with raw(log.db_file) as con:
        con.execute("UPDATE event SET payload = ? WHERE id = ?", (bytes(payload), row_id))
    assert_problem(
        verify_file(log.db_file), row_id=row_id, seq=row_id, reason="verify.column", column="ts"
    )


@pytest.mark.parametrize("position", POSITIONS)
def test_payload_rewritten_non_canonically(log: Log, position: str) -> None:
    row_id = log.positions[position]
    payload = row(log.db_file, row_id)["payload"]
    spaced = json.dumps(json.loads(payload), ensure_ascii=False, sort_keys=True).encode()
    with raw(log.db_file) as con:
        con.execute(
            "UPDATE event SET payload = ?, hash = ? WHERE id = ?",
            (spaced, hashlib.sha256(spaced).hexdigest(), row_id),
        )
    assert_problem(
        verify_file(log.db_file), row_id=row_id, seq=row_id, reason="verify.not_canonical"
    )


def test_unreadable_payload(log: Log) -> None:
    row_id = log.positions["middle"]
    payload = row(log.db_file, row_id)["payload"]
    with raw(log.db_file) as con:
        con.execute("UPDATE event SET payload = ? WHERE id = ?", (payload[:-1], row_id))
    assert_problem(verify_file(log.db_file), row_id=row_id, seq=row_id, reason="verify.unreadable")


# ── (b) signature ────────────────────────────────────────────────────────────────────────────


@pytest.mark.parametrize("bit", [0, 511])
@pytest.mark.parametrize("position", POSITIONS)
def test_signature_bit_flip(log: Log, position: str, bit: int) -> None:
    row_id = log.positions[position]
    signature = bytearray(row(log.db_file, row_id)["signature"])
    assert len(signature) == 64
    signature[bit // 8] ^= 1 << (bit % 8)
    with raw(log.db_file) as con:
        con.execute("UPDATE event SET signature = ? WHERE id = ?", (bytes(signature), row_id))
    assert_problem(verify_file(log.db_file), row_id=row_id, seq=row_id, reason="verify.signature")


@pytest.mark.parametrize("position", POSITIONS)
def test_signature_replaced_by_another_events(log: Log, position: str) -> None:
    row_id = log.positions[position]
    other = row(log.db_file, row_id + 1)
    assert other["signature"] != row(log.db_file, row_id)["signature"]
    with raw(log.db_file) as con:
        con.execute("UPDATE event SET signature = ? WHERE id = ?", (other["signature"], row_id))
    assert_problem(verify_file(log.db_file), row_id=row_id, seq=row_id, reason="verify.signature")


def test_signature_of_same_signer_does_not_fit_another_event(log: Log) -> None:
    """Two events signed by the same clerk: the signatures still do not transfer."""
    row_id = log.positions["before_newest"]
    mine = row(log.db_file, row_id)
    donor = row(log.db_file, log.positions["middle"])
    assert (
        (donor["actor"], donor["key_id"])
        == (mine["actor"], mine["key_id"])
        == ("clerk", mine["key_id"])
    )
    with raw(log.db_file) as con:
        con.execute("UPDATE event SET signature = ? WHERE id = ?", (donor["signature"], row_id))
    assert_problem(verify_file(log.db_file), row_id=row_id, seq=row_id, reason="verify.signature")


# ── (c) order ────────────────────────────────────────────────────────────────────────────────


def _content_columns(con: sqlite3.Connection) -> list[str]:
    """Every column of ``event`` but the id, as the file has them."""
    names = [info[1] for info in con.execute("PRAGMA table_info(event)")]
    assert {"payload", "signature", "hash", "seq", "prev_hash"} <= set(names)
    return [name for name in names if name != "id"]


def _swap_contents(con: sqlite3.Connection, a: int, b: int) -> None:
    """Swap every column but the id: the two events change places in storage order."""
    columns = _content_columns(con)
    cols = ", ".join(columns)
    first = con.execute(f"SELECT {cols} FROM event WHERE id = ?", (a,)).fetchone()
    second = con.execute(f"SELECT {cols} FROM event WHERE id = ?", (b,)).fetchone()
    con.execute("DELETE FROM event WHERE id IN (?, ?)", (a, b))
    marks = ", ".join("?" for _ in range(len(columns) + 1))
    con.execute(f"INSERT INTO event (id, {cols}) VALUES ({marks})", (a, *second))
    con.execute(f"INSERT INTO event (id, {cols}) VALUES ({marks})", (b, *first))


def _swap_ids(con: sqlite3.Connection, a: int, b: int) -> None:
    """Renumber the rows: a becomes b and b becomes a."""
    con.execute("UPDATE event SET id = -1 WHERE id = ?", (a,))
    con.execute("UPDATE event SET id = ? WHERE id = ?", (a, b))
    con.execute("UPDATE event SET id = ? WHERE id = -1", (b,))


@pytest.mark.parametrize("swap", [_swap_contents, _swap_ids], ids=["contents", "row_ids"])
@pytest.mark.parametrize("position", POSITIONS)
def test_two_neighbours_swapped(
    log: Log, position: str, swap: Callable[[sqlite3.Connection, int, int], None]
) -> None:
    a = log.positions[position]
    with raw(log.db_file) as con:
        swap(con, a, a + 1)
    assert row(log.db_file, a)["seq"] == a + 1
    assert_problem(
        verify_file(log.db_file), row_id=a, seq=a + 1, reason="verify.gap", expected=a, found=a + 1
    )


@pytest.mark.parametrize("position", POSITIONS)
def test_distant_events_swapped(log: Log, position: str) -> None:
    a = log.positions[position]
    b = log.positions["newest"] if position != "before_newest" else log.positions["middle"]
    low, high = min(a, b), max(a, b)
    with raw(log.db_file) as con:
        _swap_contents(con, low, high)
    assert_problem(
        verify_file(log.db_file),
        row_id=low,
        seq=high,
        reason="verify.gap",
        expected=low,
        found=high,
    )


@pytest.mark.parametrize("position", POSITIONS)
def test_signed_parts_swapped_but_columns_kept(log: Log, position: str) -> None:
    """Payload, signature and hash move; seq, type, actor … stay: the columns disagree."""
    a = log.positions[position]
    one, two = row(log.db_file, a), row(log.db_file, a + 1)
    with raw(log.db_file) as con:
        con.execute("UPDATE event SET hash = 'x' WHERE id = ?", (a,))  # hash is unique
        for target, source in ((a + 1, one), (a, two)):
            signed = (source["payload"], source["signature"], source["hash"])
            con.execute(
                "UPDATE event SET payload = ?, signature = ?, hash = ? WHERE id = ?",
                (*signed, target),
            )
    assert_problem(verify_file(log.db_file), row_id=a, seq=a, reason="verify.column", column="seq")


def test_event_moved_to_the_end(log: Log) -> None:
    """An event taken out of the middle and stored last leaves a gap where it was."""
    a = log.positions["middle"]
    with raw(log.db_file) as con:
        con.execute("UPDATE event SET id = ? WHERE id = ?", (TOTAL + 1, a))
    assert_problem(
        verify_file(log.db_file),
        row_id=a + 1,
        seq=a + 1,
        reason="verify.gap",
        missing=1,
        expected=a,
        found=a + 1,
    )


# ── (d) presence ─────────────────────────────────────────────────────────────────────────────


@pytest.mark.parametrize("position", POSITIONS)
def test_event_deleted(log: Log, position: str) -> None:
    gone = log.positions[position]
    with raw(log.db_file) as con:
        assert con.execute("DELETE FROM event WHERE id = ?", (gone,)).rowcount == 1
    assert_problem(
        verify_file(log.db_file),
        row_id=gone + 1,
        seq=gone + 1,
        reason="verify.gap",
        missing=1,
        expected=gone,
        found=gone + 1,
    )


def test_deleted_event_and_relinked_successor_still_caught(log: Log) -> None:
    """The attacker also points the successor's prev_hash column at the event before."""
    gone = log.positions["middle"]
    before = row(log.db_file, gone - 1)
    with raw(log.db_file) as con:
        con.execute("DELETE FROM event WHERE id = ?", (gone,))
        con.execute("UPDATE event SET prev_hash = ? WHERE id = ?", (before["hash"], gone + 1))
    assert_problem(
        verify_file(log.db_file),
        row_id=gone + 1,
        seq=gone + 1,
        reason="verify.column",
        missing=1,
        column="prev_hash",
    )


def test_newest_event_deleted(log: Log) -> None:
    """Cutting off the newest event is a removal of history too (the chain head still names it).

    The file's ``chainhead`` row still records seq 23 and its hash; a log that ends at 22
    does not reach it.
    """
    newest = log.positions["newest"]
    with raw(log.db_file) as con:
        con.execute("DELETE FROM event WHERE id = ?", (newest,))
        head = con.execute("SELECT seq FROM chainhead WHERE origin = ?", (ORIGIN,)).fetchone()
    assert head == (newest,)
    report = verify_file(log.db_file)
    assert report.ok is False, "deleting the newest event went unnoticed by verify"
    assert report.checked == newest - 1
    assert report.problem is not None
    assert (report.problem.origin, report.problem.seq) == (ORIGIN, newest - 1)
    assert report.problem.reason == "verify.head"
    assert report.problem.params == {"expected": newest, "found": newest - 1}


def test_cli_verify_fails_on_a_cut_off_log(log: Log) -> None:
    """The message names the origin and the reason, and reads well: no Python ``None``."""
    newest = log.positions["newest"]
    with raw(log.db_file) as con:
        con.execute("DELETE FROM event WHERE id = ?", (newest,))
    for language in ("zh_CN", "en"):
        result = cli(log, "verify", ONEWINDOW_LANGUAGE=language)
        assert result.exit_code == 1
        (line,) = result.stderr.splitlines()
        reason = translate("verify.head", language, expected=newest, found=newest - 1)
        assert line.startswith(translate("cli.error", language, message=""))
        assert ORIGIN in line
        assert line.endswith(reason)
        assert "None" not in line


def test_newest_event_deleted_is_caught_by_rebuild_check(log: Log) -> None:
    """The projections still hold what the deleted event did (and the chain head names it)."""
    with raw(log.db_file) as con:
        con.execute("DELETE FROM event WHERE id = ?", (log.positions["newest"],))
    result = cli(log, "rebuild", "--check")
    assert result.exit_code == 1
    assert translate("rebuild.differs", "zh_CN", table="task", stored=2, rebuilt=2) in result.output
    assert (
        translate("rebuild.differs", "zh_CN", table="chainhead", stored=1, rebuilt=1)
        in result.output
    )


# ── (e) re-keyed columns ─────────────────────────────────────────────────────────────────────

COLUMN_EDITS = [
    ("actor", "super"),
    ("subject", "610102001261102000099X"),
    ("type", "task.rejected"),
    ("ts", "2026-11-01T09:00:00.000+08:00"),
    ("key_id", "0123456789abcdef"),
    ("prev_hash", "f" * 64),
    ("alg", "sm2"),
]


@pytest.mark.parametrize(("column", "value"), COLUMN_EDITS, ids=[c for c, _ in COLUMN_EDITS])
@pytest.mark.parametrize("position", POSITIONS)
def test_column_changed_alone(log: Log, position: str, column: str, value: str) -> None:
    row_id = log.positions[position]
    assert row(log.db_file, row_id)[column] != value
    with raw(log.db_file) as con:
        con.execute(f"UPDATE event SET {column} = ? WHERE id = ?", (value, row_id))
    assert_problem(
        verify_file(log.db_file), row_id=row_id, seq=row_id, reason="verify.column", column=column
    )


# ── the CLI reports it ──────────────────────────────────────────────────────────────────────


def test_cli_verify_names_the_tampered_event(log: Log) -> None:
    row_id = log.positions["middle"]
    with raw(log.db_file) as con:
        con.execute("UPDATE event SET actor = 'admin' WHERE id = ?", (row_id,))
    for language in ("zh_CN", "en"):
        result = cli(log, "verify", ONEWINDOW_LANGUAGE=language)
        assert result.exit_code == 1
        line = failed_line(
            language, row_id=row_id, seq=row_id, reason="verify.column", column="actor"
        )
        assert result.output == line + "\n"
    assert f"第 {row_id} 号事件（行 {row_id}）" in cli(log, "verify").output


def test_cli_verify_fails_on_a_flipped_signature(log: Log) -> None:
    row_id = log.positions["before_newest"]
    with raw(log.db_file) as con:
        con.execute("UPDATE event SET signature = zeroblob(64) WHERE id = ?", (row_id,))
    result = cli(log, "verify")
    assert result.exit_code == 1
    assert result.stdout == ""
    expected = failed_line("zh_CN", row_id=row_id, seq=row_id, reason="verify.signature")
    assert result.stderr == expected + "\n"
    assert "签名无效" in result.stderr


def test_cli_verify_fails_on_a_deleted_event(log: Log) -> None:
    gone = log.positions["before_newest"]
    with raw(log.db_file) as con:
        con.execute("DELETE FROM event WHERE id = ?", (gone,))
    for language in ("zh_CN", "en"):
        result = cli(log, "verify", ONEWINDOW_LANGUAGE=language)
        assert result.exit_code == 1
        params = {"expected": gone, "found": gone + 1}
        line = failed_line(language, row_id=gone + 1, seq=gone + 1, reason="verify.gap", **params)
        assert result.stderr == line + "\n"


# ── projections edited behind the app's back ─────────────────────────────────────────────────

PROJECTION_EDITS = [
    ("task", "UPDATE task SET state = 'approved' WHERE id = '{hotel}/police'"),
    ("task", "UPDATE task SET decided_by = 'o-fire' WHERE id = '{hotel}/police'"),
    ("application", "UPDATE application SET status = 'delivered' WHERE tracking_no = '{hotel}'"),
    ("applicant", "UPDATE applicant SET name = '张五' WHERE name = '张三'"),
    ("operator", "UPDATE operator SET role = 'admin' WHERE username = 'clerk'"),
]


@pytest.mark.parametrize(("table", "sql"), PROJECTION_EDITS, ids=[t for t, _ in PROJECTION_EDITS])
def test_projection_edit_caught_by_rebuild_check(log: Log, table: str, sql: str) -> None:
    with raw(log.db_file) as con:
        assert con.execute(sql.format(hotel=log.hotel)).rowcount == 1
    engine = make_engine(f"sqlite:///{log.db_file}")
    try:
        with reading(engine) as s:
            differences = rebuild.check(s)
            assert verify_log(s).ok  # the log itself is untouched
    finally:
        engine.dispose()
    assert [d.table for d in differences] == [table]
    assert len(differences[0].only_stored) == 1
    assert len(differences[0].only_rebuilt) == 1


def test_chain_head_edit_caught_by_rebuild_check_and_verify(log: Log) -> None:
    with raw(log.db_file) as con:
        assert con.execute("UPDATE chainhead SET seq = 99").rowcount == 1
    engine = make_engine(f"sqlite:///{log.db_file}")
    try:
        with reading(engine) as s:
            differences = rebuild.check(s)
            report = verify_log(s)
    finally:
        engine.dispose()
    assert [(d.table, len(d.only_stored), len(d.only_rebuilt)) for d in differences] == [
        ("chainhead", 1, 1)
    ]
    assert report.checked == TOTAL
    assert report.problem is not None
    assert (report.problem.reason, report.problem.params) == (
        "verify.head",
        {"expected": 99, "found": TOTAL},
    )


def test_task_state_edit_named_by_rebuild_check(log: Log) -> None:
    task_id = f"{log.hotel}/fire"
    assert row_value(log, "SELECT state FROM task WHERE id = ?", task_id) == "approved"
    task_id = f"{log.hotel}/police"
    assert row_value(log, "SELECT state FROM task WHERE id = ?", task_id) == "open"
    with raw(log.db_file) as con:
        con.execute("UPDATE task SET state = 'approved' WHERE id = ?", (task_id,))
    engine = make_engine(f"sqlite:///{log.db_file}")
    try:
        with reading(engine) as s:
            (difference,) = rebuild.check(s)
    finally:
        engine.dispose()
    assert difference.table == "task"
    (stored,) = difference.only_stored
    (rebuilt,) = difference.only_rebuilt
    assert stored[0] == rebuilt[0] == task_id
    assert "approved" in stored and "approved" not in rebuilt
    assert "open" in rebuilt and "open" not in stored
    result = cli(log, "rebuild", "--check")
    assert result.exit_code == 1
    assert (
        result.output
        == translate("rebuild.differs", "zh_CN", table="task", stored=1, rebuilt=1) + "\n"
    )
    result = cli(log, "rebuild", "--check", ONEWINDOW_LANGUAGE="en")
    assert result.exit_code == 1
    assert (
        result.output
        == translate("rebuild.differs", "en", table="task", stored=1, rebuilt=1) + "\n"
    )
    assert row_value(log, "SELECT state FROM task WHERE id = ?", task_id) == "approved"


def row_value(log: Log, sql: str, *params: Any) -> Any:
    """One value from the file (read with the stdlib, as the attacker sees it)."""
    with closing(sqlite3.connect(log.db_file)) as con:
        found = con.execute(sql, params).fetchone()
    assert found is not None
    return found[0]
