"""Pydantic models of a catalog: departments and matters with their routing DAG."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator
from pydantic_core import PydanticCustomError

Code = Field(pattern=r"^[a-z][a-z0-9_-]{1,39}$")
Level = Literal["village", "township", "county", "city", "province", "national"]


class Names(BaseModel):
    """A name in both languages of the UI."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    zh: str = Field(min_length=1, max_length=80)
    en: str = Field(min_length=1, max_length=120)

    def get(self, language: str) -> str:
        """The name in ``language`` (``zh_CN`` or ``en``)."""
        return self.zh if language.startswith("zh") else self.en


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Department(_Strict):
    """An approving unit and the level of office it sits at."""

    code: str = Code
    name: Names
    level: Level


class Material(_Strict):
    """A document the matter asks for; a required one may be deferrable (容缺)."""

    code: str = Code
    name: Names
    required: bool = True
    deferrable: bool = False
    """容缺: may be missing at intake if the applicant promises a date."""

    @model_validator(mode="after")
    def _deferrable_needs_required(self) -> Material:
        if self.deferrable and not self.required:
            raise PydanticCustomError(
                "deferrable_optional", "an optional material cannot be deferrable"
            )
        return self


class FieldSpec(_Strict):
    """One field of the application form."""

    code: str = Code
    name: Names
    kind: Literal["text", "integer", "decimal", "date", "choice"] = "text"
    required: bool = True
    max_length: int = Field(default=200, ge=1, le=4000)
    choices: tuple[str, ...] = ()

    @model_validator(mode="after")
    def _choices_for_choice(self) -> FieldSpec:
        if (self.kind == "choice") != bool(self.choices):
            raise PydanticCustomError("choices", "choices are given exactly when kind is 'choice'")
        return self


class TaskSpec(_Strict):
    """One department task of the routing; it opens when all of ``depends_on`` are approved."""

    code: str = Code
    department: str = Code
    name: Names
    time_limit_days: int = Field(ge=1, le=365)
    depends_on: tuple[str, ...] = ()
    permit: Names | None = None
    """If set, approving needs the number of this permit or licence."""


class Matter(_Strict):
    """A kind of service: who may apply, what they bring, which departments decide."""

    code: str = Code
    version: int = Field(default=1, ge=1)
    name: Names
    applicant_kind: Literal["person", "organisation"]
    time_limit_days: int = Field(ge=1, le=365)
    supplement_days: int = Field(default=5, ge=1, le=60)
    """Working days an applicant has to bring what a 补正告知书 asks for."""
    materials: tuple[Material, ...] = Field(min_length=1)
    fields: tuple[FieldSpec, ...] = ()
    tasks: tuple[TaskSpec, ...] = Field(min_length=1)

    @field_validator("materials", "fields", "tasks")
    @classmethod
    def _unique_codes(
        cls, items: tuple[Material | FieldSpec | TaskSpec, ...]
    ) -> tuple[Material | FieldSpec | TaskSpec, ...]:
        seen: set[str] = set()
        for item in items:
            if item.code in seen:
                raise PydanticCustomError(
                    "duplicate_code", "code '{code}' appears twice", {"code": item.code}
                )
            seen.add(item.code)
        return items

    @field_validator("tasks")
    @classmethod
    def _routing_is_a_dag(cls, tasks: tuple[TaskSpec, ...]) -> tuple[TaskSpec, ...]:
        by_code = {task.code: task for task in tasks}
        for task in tasks:
            for dep in task.depends_on:
                if dep not in by_code:
                    raise PydanticCustomError(
                        "unknown_dependency",
                        "task '{task}' depends on unknown task '{dep}'",
                        {"task": task.code, "dep": dep},
                    )
        state: dict[str, int] = {}  # 1 = on the current path, 2 = done

        def visit(code: str, path: list[str]) -> None:
            if state.get(code) == 2:
                return
            if state.get(code) == 1:
                cycle = " → ".join([*path[path.index(code) :], code])
                raise PydanticCustomError("cycle", "routing has a cycle: {cycle}", {"cycle": cycle})
            state[code] = 1
            for dep in by_code[code].depends_on:
                visit(dep, [*path, code])
            state[code] = 2

        for task in tasks:
            visit(task.code, [])
        return tasks

    def material(self, code: str) -> Material | None:
        """The material with ``code``, if the matter has one."""
        return next((m for m in self.materials if m.code == code), None)

    def task(self, code: str) -> TaskSpec:
        """The task of the routing with ``code``."""
        return next(t for t in self.tasks if t.code == code)

    def initial_tasks(self) -> list[TaskSpec]:
        """Tasks with no dependencies: they open at intake, all at once."""
        return [t for t in self.tasks if not t.depends_on]

    def ready_after(self, approved: set[str]) -> list[TaskSpec]:
        """Tasks not yet approved whose every dependency is in ``approved``."""
        return [
            t
            for t in self.tasks
            if t.code not in approved and t.depends_on and set(t.depends_on) <= approved
        ]


class Catalog(_Strict):
    """Every department and matter of a catalog directory, cross-checked."""

    departments: tuple[Department, ...]
    matters: tuple[Matter, ...]

    def department(self, code: str) -> Department | None:
        """The department with ``code``, if any."""
        return next((d for d in self.departments if d.code == code), None)

    def matter(self, code: str) -> Matter | None:
        """The matter with ``code``, if any."""
        return next((m for m in self.matters if m.code == code), None)
