"""The scriptable flow, through the ``onewindow`` command only.

An office is set up, operators are registered, a hotel application is accepted with 容缺
materials and walked through claims, approvals, a 补正, owed materials, a refused and then a
successful delivery and a rating; the case, a queue and the overview are shown; the log
verifies and the projections rebuild identically. The demo office is seeded the same way and
must be deterministic.
"""

from __future__ import annotations

import random
import re
import sqlite3
from collections import Counter
from contextlib import closing
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from click.testing import Result
from sqlalchemy import select
from typer.testing import CliRunner

from models import Event
from tests.conftest import NOW
from tests.factories import CATALOG, form_for, org_code
from workstation import demo, tracking
from workstation.cli import app
from workstation.db import make_engine, reading, upgrade
from workstation.documents.text import split
from workstation.i18n import translate
from workstation.identity import mask_id

OFFICE_CODE = "610102001"
OFFICE_NAME = "西一路街道便民服务中心"
ADMIN_PASSWORD = "admin-pass-1"
STAFF_PASSWORD = "staff-pass-1"
PROMISED = "2099-01-15"
"""A promised date for the 容缺 materials that stays in the future, whatever day tests run."""
HOTEL = CATALOG.matter("hotel-open")
assert HOTEL is not None
OFFICERS = {dep: f"o-{dep}" for dep in ("market", "health", "fire", "police", "quality", "tax")}
PERMITS = {
    "licence": "MKT000001",
    "health": "HEA000002",
    "fire": "FIR000003",
    "police": "POL000004",
}
"""Permit numbers for the tasks the catalog says need one."""
STATUSES = {"in_progress", "completed", "delivered", "rejected", "withdrawn", "refused"}
DEMO_SEED, DEMO_SIZE = 1, 60
"""Seed 5 at this size makes no withdrawn application; seed 1 makes every status."""


def zh(key: str, **params: Any) -> str:
    """One line of CLI output in Chinese."""
    return translate(key, "zh_CN", **params)


@pytest.fixture
def db_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Where every ``onewindow`` command of the test works (a fresh SQLite file)."""
    path = tmp_path / "office.db"
    monkeypatch.setenv("ONEWINDOW_DATABASE_URL", f"sqlite:///{path}")
    monkeypatch.setenv("ONEWINDOW_KEY_DIR", str(tmp_path / "keys"))
    return path


def run(
    *args: str, code: int = 0, who: str = "", password: str = STAFF_PASSWORD, **env: str
) -> Result:
    """``onewindow *args`` as operator ``who``; asserts the exit code and no traceback."""
    environ = dict(env)
    if who:
        environ |= {"ONEWINDOW_OPERATOR": who, "ONEWINDOW_PASSWORD": password}
    result = CliRunner().invoke(app, list(args), env=environ)
    assert "Traceback" not in result.output
    assert result.exception is None or isinstance(result.exception, SystemExit), repr(
        result.exception
    )
    assert result.exit_code == code, result.output
    return result


def query(db_file: Path, sql: str, *params: Any) -> list[tuple[Any, ...]]:
    with closing(sqlite3.connect(db_file)) as con:
        return [tuple(row) for row in con.execute(sql, params)]


def event_count(db_file: Path) -> int:
    return int(query(db_file, "SELECT count(*) FROM event")[0][0])


def material_name(code: str) -> str:
    material = HOTEL.material(code)
    assert material is not None
    return material.name.zh


def add_operator(
    db_file: Path, username: str, name: str, role: str, department: str | None
) -> None:
    """``onewindow operator add`` as the administrator; checks what it registered.

    Its exit code and output are checked by ``test_operator_add_reports_the_new_key`` only, so
    that the rest of the flow is still exercised while that command fails after committing.
    """
    args = ["operator", "add", username, "--name", name, "--role", role]
    args += ["--department", department] if department else []
    environ = {
        "ONEWINDOW_OPERATOR": "admin",
        "ONEWINDOW_PASSWORD": ADMIN_PASSWORD,
        "ONEWINDOW_NEW_PASSWORD": STAFF_PASSWORD,
    }
    CliRunner().invoke(app, args, env=environ)
    rows = query(
        db_file, "SELECT name, role, departments, active FROM operator WHERE username = ?", username
    )
    assert rows == [(name, role, f'["{department}"]' if department else "[]", 1)]


def test_operator_add_reports_the_new_key(db_file: Path, tmp_path: Path) -> None:
    run("init", "--code", OFFICE_CODE, "--name", OFFICE_NAME, ONEWINDOW_NEW_PASSWORD=ADMIN_PASSWORD)
    for username, role, department in [("clerk", "clerk", None), ("o-fire", "officer", "fire")]:
        args = ["operator", "add", username, "--name", "王芳", "--role", role]
        args += ["--department", department] if department else []
        result = run(
            *args, who="admin", password=ADMIN_PASSWORD, ONEWINDOW_NEW_PASSWORD=STAFF_PASSWORD
        )
        ((key_id,),) = query(db_file, "SELECT key_id FROM operator WHERE username = ?", username)
        assert (tmp_path / "keys" / f"{username}.key.json").is_file()
        assert (
            result.output
            == zh("cli.operator_added", username=username, role=f"role.{role}", key_id=key_id)
            + "\n"
        )
    result = run(
        "operator",
        "add",
        "clerk",
        "--name",
        "王芳",
        "--role",
        "clerk",
        who="admin",
        password=ADMIN_PASSWORD,
        code=1,
        ONEWINDOW_NEW_PASSWORD=STAFF_PASSWORD,
    )
    assert (
        result.stderr
        == zh("cli.error", message=zh("error.operator.exists", username="clerk")) + "\n"
    )


# ── no command ──────────────────────────────────────────────────────────────────────────────


def test_no_command_on_a_new_machine_says_to_set_up_first(db_file: Path) -> None:
    """Without an office the workstation does not open; it says what to do (the TUI itself
    is driven by the Pilot tests and by the tmux smoke run)."""
    result = run(code=1)
    assert result.output == zh("cli.error", message=zh("error.not_initialised")) + "\n"


# ── the scripted hotel case ─────────────────────────────────────────────────────────────────


def test_scripted_hotel_flow(db_file: Path) -> None:
    # ── set-up: the office, its catalog and operators ────────────────────────────────────────
    result = run(
        "init",
        "--code",
        OFFICE_CODE,
        "--name",
        OFFICE_NAME,
        "--parent-code",
        "610102",
        "--parent-name",
        "新城区",
        ONEWINDOW_NEW_PASSWORD=ADMIN_PASSWORD,
    )
    assert (
        result.output
        == zh(
            "cli.initialised",
            office=OFFICE_CODE,
            name=OFFICE_NAME,
            admin="admin",
            matters=len(CATALOG.matters),
        )
        + "\n"
    )
    people = [("clerk", "王芳", "clerk", None), ("super", "李督查", "supervisor", None)]
    people += [(user, f"{dep}审批员", "officer", dep) for dep, user in OFFICERS.items()]
    for username, name, role, department in people:
        add_operator(db_file, username, name, role, department)
    setup_events = 3 + len(people)  # genesis, office key, catalog, one per operator
    assert event_count(db_file) == setup_events

    # ── 一窗受理 with every required material, the 容缺 ones promised ──────────────────────────
    deferrable = sorted(m.code for m in HOTEL.materials if m.deferrable)
    assert deferrable == [
        "fire-facility-report",
        "floor-plan",
        "hygiene-test-report",
        "staff-health",
    ]
    credit_code = org_code(random.Random(3))
    args = [
        "accept",
        "--matter",
        "hotel-open",
        "--kind",
        "organisation",
        "--id",
        credit_code,
        "--name",
        "西安好客旅馆有限公司",
        "--phone",
        "029-88886666",
        "--all-required",
    ]
    for code in deferrable:
        args += ["--defer", f"{code}={PROMISED}"]
    form = form_for(HOTEL)
    assert len(form) == len(HOTEL.fields) == 10
    for code, value in form.items():
        args += ["--field", f"{code}={value}"]
    output = run(*args, who="clerk").output
    found = re.search(r"办件编号 ([0-9A-Z]+)，承诺办结日期 (\d{4}-\d{2}-\d{2})", output)
    assert found is not None, output
    number, due = found.groups()
    assert tracking.normalise(number) == number
    assert number.startswith(OFFICE_CODE)
    lines = output.splitlines()
    assert lines[0] == zh("cli.accepted", tracking_no=number, due=due)
    assert sum(line.startswith("  立即办理：") for line in lines) == 3
    assert sum(line.startswith("  等待 ") for line in lines) == 3
    for code in deferrable:
        assert zh("cli.owed", material=material_name(code), promised=PROMISED) in lines
    app_row = query(db_file, "SELECT status, due_date, form, accepted_by FROM application")
    assert len(app_row) == 1
    status, due_date, stored_form, accepted_by = app_row[0]
    assert (status, due_date, accepted_by) == ("in_progress", due, "clerk")
    assert '"hotel-name"' in stored_form
    received = dict(query(db_file, "SELECT material_code, status FROM applicationmaterial"))
    required = {m.code for m in HOTEL.materials if m.required}
    assert received == {code: "owed" if code in deferrable else "received" for code in required}

    def states() -> dict[str, str]:
        rows = query(db_file, "SELECT task_code, state FROM task WHERE tracking_no = ?", number)
        return dict(rows)

    assert states() == {
        "licence": "open",
        "health": "open",
        "fire": "open",
        "police": "waiting",
        "quality": "waiting",
        "tax": "waiting",
    }

    # ── the health department's queue ────────────────────────────────────────────────────────
    lines = run("queue", "health", who="o-health").output.splitlines()
    assert len(lines) == 2
    assert f"{number}/health" in lines[0]
    assert lines[1] == zh("cli.queue_total", total=1, first=1, last=1)

    # ── market claims and approves; quality and tax open ─────────────────────────────────────
    output = run("claim", f"{number}/licence", who="o-market").output
    pattern = re.escape(zh("cli.claimed", task=f"{number}/licence", until="\0"))
    assert re.fullmatch(pattern.replace("\0", r"\d{4}-\d\d-\d\d \d\d:\d\d") + "\n", output)
    ((claimed_by,),) = query(
        db_file, "SELECT claimed_by FROM task WHERE id = ?", f"{number}/licence"
    )
    assert claimed_by == "o-market"
    output = run(
        "approve", f"{number}/licence", "--permit", PERMITS["licence"], who="o-market"
    ).output
    assert (
        output
        == "\n".join(
            [zh("cli.approved", task=f"{number}/licence"), zh("cli.opens", tasks="quality, tax")]
        )
        + "\n"
    )

    # ── health asks for a supplement; the clerk records it ───────────────────────────────────
    output = run(
        "supplement",
        f"{number}/health",
        "--material",
        "hygiene-rules",
        "--reason",
        "卫生管理制度缺少签章",
        who="o-health",
    ).output
    assert output == zh("cli.supplement_requested", task=f"{number}/health") + "\n"
    assert states()["health"] == "supplement"
    output = run("supplement-received", f"{number}/health", who="clerk").output
    assert output == zh("cli.supplement_recorded", task=f"{number}/health") + "\n"
    assert states()["health"] == "open"

    # ── a clerk cannot approve ───────────────────────────────────────────────────────────────
    result = run("approve", f"{number}/health", "--permit", "X1", who="clerk", code=1)
    assert (
        result.stderr
        == zh(
            "cli.error",
            message=zh("error.permission.role", role="role.clerk", action="right.decide"),
        )
        + "\n"
    )

    # ── the remaining approvals, fire before police ──────────────────────────────────────────
    for task in ("health", "fire", "police", "quality", "tax"):
        args = ["approve", f"{number}/{task}"]
        args += ["--permit", PERMITS[task]] if task in PERMITS else []
        department = HOTEL.task(task).department
        lines = run(*args, who=OFFICERS[department]).output.splitlines()
        assert lines[0] == zh("cli.approved", task=f"{number}/{task}")
        if task == "fire":
            assert lines[1:] == [zh("cli.opens", tasks="police")]
        elif task == "tax":
            assert lines[1:] == [zh("cli.completed", tracking_no=number)]
        else:
            assert lines[1:] == []
    assert set(states().values()) == {"approved"}
    permits = dict(query(db_file, "SELECT task_code, permit_no FROM task"))
    assert permits == {code: PERMITS.get(code, "") for code in states()}

    # ── delivery is refused while 容缺 materials are owed ─────────────────────────────────────
    owed_prefix = zh("cli.error", message=zh("error.deliver.owed", materials="\0")).split("\0")[0]
    for index, code in enumerate(deferrable):
        result = run("deliver", number, who="clerk", code=1)
        assert result.stdout == ""
        assert result.stderr.startswith(owed_prefix)
        still_owed = deferrable[index:]
        for other in deferrable:
            assert (material_name(other) in result.stderr) == (other in still_owed), other
        assert result.stderr.count("、") == len(still_owed) - 1
        output = run("material-received", number, code, who="clerk").output
        assert output == zh("cli.material_recorded", material=code) + "\n"
    result = run("material-received", number, deferrable[0], who="clerk", code=1)
    assert (
        result.stderr
        == zh("cli.error", message=zh("error.material.not_owed", material=deferrable[0])) + "\n"
    )
    assert (
        run("deliver", number, who="clerk").output == zh("cli.delivered", tracking_no=number) + "\n"
    )
    assert run("rate", number, "5", "--comment", "一次办好", who="clerk").output == (
        zh("cli.rated", score=5) + "\n"
    )
    assert query(db_file, "SELECT status, rating, rating_comment FROM application") == [
        ("delivered", 5, "一次办好")
    ]
    run("rate", number, "4", who="clerk", code=1)  # rated once only

    # ── the case, an empty queue, the overview ───────────────────────────────────────────────
    events = event_count(db_file)
    assert events == setup_events + 1 + 1 + 1 + 2 + 5 + len(deferrable) + 2
    lines = run("show", number, who="clerk").output.splitlines()
    assert lines[0] == zh(
        "cli.case_header",
        tracking_no=number,
        matter=HOTEL.name.zh,
        status="status.delivered",
        applicant="西安好客旅馆有限公司",
        id=mask_id(credit_code),
        due=due,
    )
    assert credit_code not in "\n".join(lines)
    assert sum(" 已通过 " in line or line.startswith("  已通过") for line in lines) == 6
    assert sum(line.startswith("  材料 ") for line in lines) == len(required)
    timeline = [line for line in lines if line.startswith("  #")]
    assert len(timeline) == events - setup_events  # every event since the set-up is this case's
    assert all(line.endswith("✔已验签") for line in timeline)
    assert run("queue", "market", who="o-market").output == zh("cli.no_tasks") + "\n"
    lines = run("overview", who="super").output.splitlines()
    departments = {line.split()[0] for line in lines[:-1]}
    assert set(OFFICERS) <= departments
    assert lines[-1] == zh("cli.throughput", days=30, total=6, average=0.2)
    run("overview", who="clerk", code=1)  # a clerk does not supervise

    # ── the log verifies and the projections rebuild identically ─────────────────────────────
    assert run("verify").output == zh("verify.ok", count=events) + "\n"
    assert run("rebuild", "--check").output == zh("rebuild.ok", count=events) + "\n"
    assert run("verify", ONEWINDOW_LANGUAGE="en").output == (
        translate("verify.ok", "en", count=events) + "\n"
    )


def test_show_prints_the_signed_timeline(db_file: Path) -> None:
    """``show`` lists every signed event of the case, oldest first, and only those."""
    run("init", "--code", OFFICE_CODE, "--name", OFFICE_NAME, ONEWINDOW_NEW_PASSWORD=ADMIN_PASSWORD)
    add_operator(db_file, "clerk", "王芳", "clerk", None)
    add_operator(db_file, "o-fire", "消防审批员", "officer", "fire")
    numbers = [accept_hotel(seed, "clerk") for seed in (5, 6)]
    run("approve", f"{numbers[0]}/fire", "--permit", "FIR000001", who="o-fire")
    lines = run("show", numbers[0], who="clerk").output.splitlines()
    timeline = [line for line in lines if line.startswith("  #")]
    rows = query(db_file, "SELECT seq, ts, type, actor FROM event WHERE seq IN (6, 8) ORDER BY seq")
    assert timeline == [
        zh("cli.case_event", seq=seq, ts=ts, type=type_, actor=actor)
        for seq, ts, type_, actor in rows
    ]
    assert [line.split()[2] for line in timeline] == ["application.accepted", "task.approved"]


def accept_hotel(seed: int, who: str, **env: str) -> str:
    """``onewindow accept`` of a complete hotel application; returns its tracking number."""
    args = [
        "accept",
        "--matter",
        "hotel-open",
        "--kind",
        "organisation",
        "--id",
        org_code(random.Random(seed)),
        "--name",
        "古城青年旅舍有限公司",
        "--all-required",
    ]
    for code, value in form_for(HOTEL).items():
        args += ["--field", f"{code}={value}"]
    output = run(*args, who=who, **env).output
    found = re.search(r"\b(610102001[0-9A-Z]{13})\b", output)
    assert found is not None, output
    return found.group(1)


def test_accept_prints_in_english(db_file: Path) -> None:
    run("init", "--code", OFFICE_CODE, "--name", OFFICE_NAME, ONEWINDOW_NEW_PASSWORD=ADMIN_PASSWORD)
    add_operator(db_file, "clerk", "王芳", "clerk", None)
    number = accept_hotel(4, "clerk", ONEWINDOW_LANGUAGE="en")
    (due,) = query(db_file, "SELECT due_date FROM application WHERE tracking_no = ?", number)[0]
    output = run("show", number, who="clerk", ONEWINDOW_LANGUAGE="en").output
    assert output.splitlines()[0] == translate(
        "cli.case_header",
        "en",
        tracking_no=number,
        matter=HOTEL.name.en,
        status="status.in_progress",
        applicant="古城青年旅舍有限公司",
        id=query(db_file, "SELECT id_masked FROM applicant")[0][0],
        due=due,
    )
    assert "办理中" not in output


# ── the demo office ─────────────────────────────────────────────────────────────────────────


def test_demo_seeds_every_status_and_verifies(db_file: Path) -> None:
    output = run(
        "demo", "--no-tui", "--applications", str(DEMO_SIZE), "--seed", str(DEMO_SEED)
    ).output
    events = event_count(db_file)
    lines = output.splitlines()
    assert lines[0] == zh("cli.demo_done", applications=DEMO_SIZE, events=events)
    assert lines[1] == zh("cli.demo_operators", password=demo.PASSWORD)
    statuses = Counter(row[0] for row in query(db_file, "SELECT status FROM application"))
    assert sum(statuses.values()) == DEMO_SIZE
    assert set(statuses) == STATUSES, statuses
    assert run("verify").output == zh("verify.ok", count=events) + "\n"
    assert run("rebuild", "--check").output == zh("rebuild.ok", count=events) + "\n"
    # a second run only lists the operators again
    again = run("demo", "--no-tui", "--applications", "5", "--seed", "9").output
    assert again.splitlines()[0] == zh("cli.demo_exists", events=events)
    assert event_count(db_file) == events
    # a demo operator can log in with the shown password and read a case
    ((number,),) = query(
        db_file,
        "SELECT tracking_no FROM application WHERE status = 'delivered'"
        " ORDER BY tracking_no LIMIT 1",
    )
    lines = run("show", number, who="clerk", password=demo.PASSWORD).output.splitlines()
    assert lines[0].startswith(f"办件 {number}：")
    assert zh("status.delivered") in lines[0]


def _demo_hashes(path: Path, seed: int) -> list[str]:
    engine = make_engine(f"sqlite:///{path}")
    try:
        upgrade(engine)
        result = demo.seed(
            engine, key_dir=path.with_suffix(".keys"), seed=seed, count=DEMO_SIZE, now=NOW
        )
        assert result.applications == DEMO_SIZE
        with reading(engine) as s:
            hashes = list(s.scalars(select(Event.hash).order_by(Event.id)))  # type: ignore[arg-type]
        assert len(hashes) == result.events
        return hashes
    finally:
        engine.dispose()


def test_demo_is_deterministic(tmp_path: Path) -> None:
    first = _demo_hashes(tmp_path / "a.db", DEMO_SEED)
    second = _demo_hashes(tmp_path / "b.db", DEMO_SEED)
    assert len(first) > DEMO_SIZE
    assert first == second
    other = _demo_hashes(tmp_path / "c.db", DEMO_SEED + 1)
    assert other != first
    assert other[0] != first[0]  # even the genesis differs: the keys derive from the seed


def test_doc_print_and_verify(db_file: Path, tmp_path: Path) -> None:
    run("demo", "--no-tui", "--applications", "12", "--seed", str(DEMO_SEED))
    ((number,),) = query(
        db_file, "SELECT tracking_no FROM application WHERE status = 'delivered' LIMIT 1"
    )
    folder = tmp_path / "papers"
    env = {"ONEWINDOW_DOCUMENTS_DIR": str(folder)}
    output = run("doc", "print", "delivery", number, "--pdf", who="clerk", password=demo.PASSWORD,
                 **env).output  # fmt: skip
    text, pdf = folder / f"delivery-{number}-zh_CN.txt", folder / f"delivery-{number}-zh_CN.pdf"
    assert output.splitlines() == [zh("cli.doc_saved", path=str(p)) for p in (text, pdf)]
    office = f"{OFFICE_NAME}（{OFFICE_CODE}）"
    genuine = zh("cli.doc_genuine", kind="doc.kind.delivery", tracking_no=number, office=office)
    for path in (text, pdf):
        assert run("doc", "verify", str(path)).output == genuine + "\n"
    qr = split(text.read_text(encoding="utf-8"))[1].text()  # what a phone reads off the QR
    assert (
        run("doc", "verify", "--qr", qr).output
        == zh("cli.doc_genuine_qr", kind="doc.kind.delivery", tracking_no=number, office=office)
        + "\n"
    )
    changed = tmp_path / "changed.txt"
    changed.write_text(text.read_text(encoding="utf-8").replace("送达", "送交", 1), "utf-8")
    refused = run("doc", "verify", str(changed), code=1).output
    changed_message = zh("error.doc.changed", tracking_no=number)
    assert refused == zh("cli.error", message=changed_message) + "\n"
    nothing = run("doc", "verify", code=1).output
    assert nothing == zh("cli.error", message=zh("error.doc.nothing")) + "\n"
    unknown = run("doc", "print", "memo", number, who="clerk", password=demo.PASSWORD, code=1)
    assert "memo" in unknown.output


def test_track_offline_with_the_receipt_code(db_file: Path) -> None:
    run("demo", "--no-tui", "--applications", "12", "--seed", str(DEMO_SEED))
    ((number, code, masked, name),) = query(
        db_file,
        "SELECT tracking_no, access_code, id_masked, name FROM application"
        " JOIN applicant ON applicant.ref = application.applicant_id"
        " WHERE status = 'delivered' LIMIT 1",
    )
    lines = run("track", number, "--code", code).output.splitlines()
    assert lines[0].startswith(f"办件 {number}：") and zh("status.delivered") in lines[0]
    assert len(lines) > 1 and all(zh("state.approved") in line for line in lines[1:])
    assert masked not in "".join(lines) and name not in "".join(lines)
    unknown = zh("cli.error", message=zh("error.track.unknown")) + "\n"
    assert (
        run("track", number, "--code", "000000" if code != "000000" else "1", code=1).output
        == unknown
    )


def test_refuse_files_the_notice_of_refusal(db_file: Path, tmp_path: Path) -> None:
    run("demo", "--no-tui", "--applications", "5", "--seed", str(DEMO_SEED))
    env = {"ONEWINDOW_DOCUMENTS_DIR": str(tmp_path)}
    code = org_code(random.Random(3))
    lines = run(
        "refuse", "--matter", "hotel-open", "--id", code, "--name", "西安某旅馆有限公司",
        "--kind", "organisation", "--reason", "经营场所不在本辖区",
        who="clerk", password=demo.PASSWORD, **env,
    ).output.splitlines()  # fmt: skip
    ((stored,),) = query(db_file, "SELECT tracking_no FROM application WHERE reason = ?",
                         "经营场所不在本辖区")  # fmt: skip
    notice = tmp_path / f"refusal-{stored}-zh_CN.txt"
    assert lines == [zh("cli.refused", tracking_no=stored, reason="经营场所不在本辖区"),
                     zh("cli.doc_saved", path=str(notice))]  # fmt: skip
    text = notice.read_text(encoding="utf-8")
    assert "不予受理通知书" in text and "经营场所不在本辖区" in text and code not in text
    assert run("doc", "verify", str(notice)).output.startswith("核验通过")


def test_the_auditor_reads_the_trail_since_a_day(db_file: Path) -> None:
    run("demo", "--no-tui", "--applications", "5", "--seed", str(DEMO_SEED))
    run("queue", "fire", who="clerk", password="wrong-password", code=1)  # a failed login
    today = datetime.now().astimezone().date()
    lines = run("audit", "--since", today.isoformat(), who="audit", password=demo.PASSWORD)
    entries = lines.output.splitlines()
    assert any("login_failed" in line and "clerk" in line for line in entries)
    assert all(line.startswith(today.isoformat()) for line in entries)
    later = (today + timedelta(days=1)).isoformat()
    assert run("audit", "--since", later, who="audit", password=demo.PASSWORD).output == ""
    bad = run("audit", "--since", "yesterday", who="audit", password=demo.PASSWORD, code=1)
    assert "YYYY-MM-DD" in bad.output
    run("audit", who="clerk", password=demo.PASSWORD, code=1)  # the trail is for auditors
