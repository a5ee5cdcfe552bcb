"""A demo township office: every role, the demo catalog, applications in every state.

Everything is derived from the seed and the given time (keys included), so two runs with
the same seed on the same day produce the same office.
"""

from __future__ import annotations

import hashlib
import heapq
import random
from contextlib import suppress
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy import Engine, func, select
from sqlmodel import Session, col

from models import Event, Office, Operator, Task
from workstation import datakey
from workstation.catalog import load_catalog
from workstation.catalog.schema import Matter
from workstation.crypto import Signer
from workstation.db import writing
from workstation.errors import Conflict, WorkstationError
from workstation.identity import person_id_check_digit, uscc_check_char
from workstation.services import cases, enrolment, intake, office, tasks
from workstation.services.applicants import ApplicantInput
from workstation.services.auth import Actor, handles_personal_data

PASSWORD = "demo1234"
"""Password of every demo operator (shown on the demo login screen, and only there)."""
OFFICE = office.OfficeSpec("610102001", "西一路街道便民服务中心", "township")
COUNTY = office.OfficeSpec("610102", "新城区", "county")

_SURNAMES = "王李张刘陈杨赵黄周吴徐孙胡朱高林何郭马罗梁宋郑谢韩唐冯于董萧程曹袁邓许傅沈曾彭吕"
_GIVEN = [
    "伟",
    "芳",
    "娜",
    "敏",
    "静",
    "丽",
    "强",
    "磊",
    "军",
    "洋",
    "勇",
    "艳",
    "杰",
    "娟",
    "涛",
    "明",
    "超",
    "秀英",
    "霞",
    "平",
    "刚",
    "桂英",
    "建华",
    "玉兰",
    "志强",
    "晓东",
    "海燕",
]
_ORGS = [
    "西安好客旅馆有限公司",
    "新城区悦来客栈",
    "长安食府餐饮有限公司",
    "西一路便民超市",
    "秦岭山货农民专业合作社",
    "幸福村股份经济合作社",
    "古城青年旅舍有限公司",
    "鑫源商贸有限公司",
    "老街面馆",
    "和顺家政服务中心",
]
_STREETS = ["西一路", "东新街", "尚德路", "解放路", "西五路", "北大街", "革命路"]
_MOBILE_PREFIXES = [
    "138",
    "139",
    "135",
    "137",
    "150",
    "152",
    "158",
    "186",
    "187",
    "133",
    "189",
    "131",
]
_REGIONS = ["610102", "610103", "610104", "610111", "610112", "610113"]


@dataclass
class DemoResult:
    """What ``seed`` made."""

    applications: int
    events: int
    created: bool
    """False when the demo office was already there (nothing was added)."""
    operators: list[tuple[str, str, str]] = field(default_factory=list)
    """(user name, full name, role) of every demo operator."""


def _signer(seed: int, username: str) -> Signer:
    digest = hashlib.sha256(f"onewindow-demo:{seed}:{username}".encode()).digest()
    return Signer(Ed25519PrivateKey.from_private_bytes(digest))


def _people(catalog_departments: list[str]) -> list[tuple[str, str, str, list[str]]]:
    people: list[tuple[str, str, str, list[str]]] = [
        ("admin", "陈管理", "admin", []),
        ("clerk", "王芳", "clerk", []),
        ("clerk2", "刘洋", "clerk", []),
        ("super", "李强", "supervisor", []),
        ("audit", "赵敏", "auditor", []),
    ]
    for index, code in enumerate(catalog_departments):
        name = _SURNAMES[index % len(_SURNAMES)] + _GIVEN[index % len(_GIVEN)]
        people.append((f"{code}-officer"[:40], name, "officer", [code]))
    return people


class _Simulator:
    """Plays a few weeks of a hall in time order: intake, decisions, supplements, delivery."""

    def __init__(
        self, session: Session, rng: random.Random, actors: dict[str, Actor], now: datetime
    ) -> None:
        self.session, self.rng, self.actors, self.now = session, rng, actors, now
        self.queue: list[tuple[datetime, int, str, str]] = []
        self.counter = 0
        self.applications = 0
        self.catalog = load_catalog()
        self.applicants: list[ApplicantInput] = []

    def at(self, when: datetime, action: str, subject: str) -> None:
        if when < self.now:
            self.counter += 1
            heapq.heappush(self.queue, (when, self.counter, action, subject))

    def office_hours(self, day: date) -> datetime:
        minutes = self.rng.randrange(8 * 60 + 30, 17 * 60 + 30)
        return datetime.combine(day, time(minutes // 60, minutes % 60), self.now.tzinfo)

    def later(self, start: datetime, days: float) -> datetime:
        return self.office_hours((start + timedelta(days=days)).date())

    def applicant(self, kind: str) -> ApplicantInput:
        reuse = [a for a in self.applicants if a.kind == kind]
        if reuse and self.rng.random() < 0.25:
            return self.rng.choice(reuse)
        rng = self.rng
        address = f"西安市新城区{rng.choice(_STREETS)}{rng.randrange(1, 300)}号"
        phone = f"{rng.choice(_MOBILE_PREFIXES)}{rng.randrange(10**8):08d}"
        if kind == "person":
            born = date(1940, 1, 1) + timedelta(days=rng.randrange(365 * 65))
            first17 = f"{rng.choice(_REGIONS)}{born:%Y%m%d}{rng.randrange(1000):03d}"
            number = first17 + person_id_check_digit(first17)
            name = rng.choice(_SURNAMES) + rng.choice(_GIVEN)
        else:
            prefix = rng.choice(["91", "91", "92", "93", "N2"])
            alphabet = "0123456789ABCDEFGHJKLMNPQRTUWXY"
            first17 = prefix + "610102" + "".join(rng.choice(alphabet) for _ in range(9))
            number, name = first17 + uscc_check_char(first17), rng.choice(_ORGS)
        applicant = ApplicantInput(kind, number, name, phone, address)
        self.applicants.append(applicant)
        return applicant

    def form(self, matter: Matter, when: datetime) -> dict[str, str]:
        values: dict[str, str] = {}
        for spec in matter.fields:
            if spec.kind == "choice":
                values[spec.code] = self.rng.choice(spec.choices)
            elif spec.kind == "integer":
                values[spec.code] = str(self.rng.randrange(1, 40))
            elif spec.kind == "decimal":
                values[spec.code] = f"{self.rng.uniform(1, 500):.2f}"
            elif spec.kind == "date":
                values[spec.code] = (
                    when.date() + timedelta(days=self.rng.randrange(5, 60))
                ).isoformat()
            else:
                values[spec.code] = f"{spec.name.zh}（演示）"[: spec.max_length]
        return values

    def run(self, count: int, days: int) -> None:
        for index in range(count):
            start = self.office_hours(self.now.date() - timedelta(days=self.rng.randrange(1, days)))
            self.at(start, "accept", str(index))
        while self.queue:
            when, _, action, subject = heapq.heappop(self.queue)
            # A step may find its case moved on (withdrawn or rejected) before it came up.
            with suppress(Conflict):
                getattr(self, f"_{action}")(when, subject)

    def _accept(self, when: datetime, _: str) -> None:
        clerk = self.actors[self.rng.choice(["clerk", "clerk2"])]
        matter = self.rng.choice(self.catalog.matters)
        applicant = self.applicant(matter.applicant_kind)
        if self.rng.random() < 0.03:
            intake.refuse(
                self.session,
                actor=clerk,
                applicant=applicant,
                matter_code=matter.code,
                reason="申请事项不属于本中心受理范围",
                now=when,
            )
            self.applications += 1
            return
        deferred = {}
        if self.rng.random() < 0.3:
            deferred = {
                m.code: when.date() + timedelta(days=self.rng.randrange(3, 15))
                for m in matter.materials
                if m.deferrable
            }
        request = intake.IntakeRequest(
            applicant,
            matter.code,
            tuple(m.code for m in matter.materials if m.required and m.code not in deferred),
            deferred,
            self.form(matter, when),
        )
        result = intake.accept(self.session, actor=clerk, request=request, now=when)
        self.applications += 1
        for code, promised in deferred.items():
            if self.rng.random() < 0.8:
                self.at(
                    self.office_hours(promised - timedelta(days=1)),
                    "material",
                    f"{result.tracking_no}|{code}",
                )
        for planned in result.fan_out.tasks:
            if planned.opens_at_once:
                self.schedule_decision(f"{result.tracking_no}/{planned.code}", when, matter)
        if self.rng.random() < 0.02:
            self.at(self.later(when, self.rng.uniform(1, 6)), "withdraw", result.tracking_no)

    def schedule_decision(self, task_id: str, opened: datetime, matter: Matter) -> None:
        spec = matter.task(task_id.split("/", 1)[1])
        self.at(
            self.later(opened, spec.time_limit_days * self.rng.uniform(0.2, 1.6)), "decide", task_id
        )

    def _decide(self, when: datetime, task_id: str) -> None:
        task = tasks.get_task(self.session, task_id)
        if task.state != "open":
            return
        application = tasks.application_of(self.session, task)
        matter = intake.matter(self.session, application.matter_code)
        officer = self.actors[f"{task.department_code}-officer"[:40]]
        roll = self.rng.random()
        if roll < 0.08 and not task.reason:
            material = self.rng.choice(matter.materials).code
            tasks.request_supplement(
                self.session,
                actor=officer,
                task_id=task_id,
                materials=[material],
                reason="材料不清晰，请补正",
                now=when,
            )
            if self.rng.random() < 0.85:
                self.at(self.later(when, self.rng.uniform(1, 6)), "supplement", task_id)
        elif roll < 0.11:
            tasks.reject(
                self.session, actor=officer, task_id=task_id, reason="不符合法定条件", now=when
            )
        else:
            spec = matter.task(task.task_code)
            permit = (
                f"{task.department_code[:3].upper()}{self.rng.randrange(10**6):06d}"
                if spec.permit
                else ""
            )
            opened = tasks.approve(
                self.session, actor=officer, task_id=task_id, permit_no=permit, now=when
            )
            for code in opened:
                self.schedule_decision(f"{task.tracking_no}/{code}", when, matter)
            if (
                tasks.application_of(self.session, task).status == "completed"
                and self.rng.random() < 0.8
            ):
                self.at(self.later(when, self.rng.uniform(0.5, 4)), "deliver", task.tracking_no)

    def _supplement(self, when: datetime, task_id: str) -> None:
        cases.record_supplement(self.session, actor=self.actors["clerk"], task_id=task_id, now=when)
        application = tasks.application_of(self.session, tasks.get_task(self.session, task_id))
        self.schedule_decision(task_id, when, intake.matter(self.session, application.matter_code))

    def _material(self, when: datetime, subject: str) -> None:
        number, code = subject.split("|")
        # Delivery may have collected it already, or the case ended: then nothing is owed.
        with suppress(WorkstationError):
            cases.record_material(
                self.session,
                actor=self.actors["clerk"],
                tracking_no=number,
                material=code,
                now=when,
            )

    def _deliver(self, when: datetime, number: str) -> None:
        for row in cases.owed_materials(self.session, number):
            if row.status == "owed":
                cases.record_material(
                    self.session,
                    actor=self.actors["clerk"],
                    tracking_no=number,
                    material=row.material_code,
                    now=when,
                )
        cases.deliver(self.session, actor=self.actors["clerk"], tracking_no=number, now=when)
        if self.rng.random() < 0.7:
            score = self.rng.choices([5, 4, 3, 2, 1], weights=[70, 18, 7, 3, 2])[0]
            cases.rate(
                self.session,
                actor=self.actors["clerk"],
                tracking_no=number,
                score=score,
                comment="" if score > 3 else "等待时间较长",
                now=when,
            )

    def _withdraw(self, when: datetime, number: str) -> None:
        if cases.get_application(self.session, number).status == "in_progress":
            cases.withdraw(
                self.session,
                actor=self.actors["clerk"],
                tracking_no=number,
                reason="申请人主动撤回",
                now=when,
            )

    def claim_some(self) -> None:
        """Leave some open tasks claimed, as at any moment of a working day."""
        open_tasks = self.session.scalars(
            select(Task).where(col(Task.state) == "open").order_by(col(Task.id))
        )
        for task in open_tasks:
            if self.rng.random() < 0.3:
                officer = self.actors[f"{task.department_code}-officer"[:40]]
                tasks.claim(
                    self.session, actor=officer, task_id=task.id, now=self.now - timedelta(hours=1)
                )


def seed(
    engine: Engine,
    *,
    key_dir: Path,
    seed: int = 2026,
    count: int = 300,
    now: datetime,
    days: int = 45,
) -> DemoResult:
    """Create the demo office once; a second call only lists the demo operators again."""
    catalog = load_catalog()
    people = _people([d.code for d in catalog.departments])
    operators = [(u, n, r) for u, n, r, _ in people]
    with writing(engine) as session:
        existing = session.scalars(select(Office).where(col(Office.local) == True)).first()  # noqa: E712
        if existing is not None:
            if session.get(Operator, (OFFICE.code, "clerk2")) is None:
                raise Conflict("error.already_initialised")
            events = session.scalar(select(func.count()).select_from(Event)) or 0
            return DemoResult(0, events, False, operators)
        start = now - timedelta(days=days + 1)
        admin = office.init_office(
            session,
            key_dir=key_dir,
            office=OFFICE,
            parent=COUNTY,
            admin_username="admin",
            admin_name="陈管理",
            admin_password=PASSWORD,
            now=start,
            demo=True,
            signer=_signer(seed, "admin"),
        )
        enrolment.register_office_key(
            session, actor=admin, key_dir=key_dir, now=start, signer=_signer(seed, "office")
        )
        office.publish_catalog(session, actor=admin, catalog=catalog, now=start)
        actors = {"admin": admin}
        secret = hashlib.sha256(f"onewindow-demo:{seed}:data-key".encode()).digest()
        data_key = datakey.load_or_create(key_dir, OFFICE.code, secret=secret)
        for username, name, role, departments in people[1:]:
            signer = _signer(seed, username)
            office.add_operator(
                session,
                actor=admin,
                key_dir=key_dir,
                username=username,
                name=name,
                role=role,
                departments=departments,
                password=PASSWORD,
                now=start,
                signer=signer,
            )
            key = data_key if handles_personal_data(role) else None
            actors[username] = Actor(
                username, name, role, OFFICE.code, tuple(departments), signer, data_key=key
            )
        simulator = _Simulator(session, random.Random(seed), actors, now)
        simulator.run(count, days)
        simulator.claim_some()
        events = session.scalar(select(func.count()).select_from(Event)) or 0
    return DemoResult(simulator.applications, events, True, operators)
