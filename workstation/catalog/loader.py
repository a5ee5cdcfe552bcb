"""Read a catalog directory (``departments.toml`` and ``matters/*.toml``) into a Catalog."""

from __future__ import annotations

import tomllib
from collections.abc import Mapping
from importlib import resources
from pathlib import Path
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from workstation.catalog.schema import Catalog, Department, Matter
from workstation.errors import CatalogError
from workstation.i18n import keys, translate

M = TypeVar("M", bound=BaseModel)


def reason(kind: str, fallback: str = "", **params: Any) -> dict[str, str]:
    """Why a file is refused, in both UI languages (pydantic's English where we have no text)."""
    key = f"catalog.reason.{kind}"
    if key not in keys("en"):
        return {"zh": fallback or kind, "en": fallback or kind}
    values = {name: str(value) for name, value in params.items()}
    return {"zh": translate(key, "zh_CN", **values), "en": translate(key, "en", **values)}


def bundled_catalog_dir() -> Path:
    """The demo catalog shipped inside the package."""
    return Path(str(resources.files("workstation.catalog").joinpath("data")))


def _read_toml(path: Path) -> dict[str, Any]:
    try:
        return tomllib.loads(path.read_text("utf-8"))
    except FileNotFoundError:
        raise CatalogError(file=str(path), field="-", reason=reason("file_not_found")) from None
    except UnicodeDecodeError:
        raise CatalogError(file=str(path), field="-", reason=reason("not_utf8")) from None
    except tomllib.TOMLDecodeError as exc:
        raise CatalogError(
            file=str(path), field="-", reason=reason("bad_toml", detail=str(exc))
        ) from None


def _validate(model: type[M], data: Mapping[str, Any], path: Path) -> M:
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        field = ".".join(str(part) for part in first["loc"]) or "-"
        why = reason(first["type"], fallback=first["msg"], **first.get("ctx", {}))
        raise CatalogError(file=str(path), field=field, reason=why) from None


def load_matter_file(path: Path) -> Matter:
    """One matter file, validated; raises CatalogError naming file, field and reason."""
    return _validate(Matter, _read_toml(path), path)


def load_catalog(directory: Path | None = None) -> Catalog:
    """A whole catalog directory, every matter checked against the departments."""
    root = directory or bundled_catalog_dir()
    if not root.is_dir():
        raise CatalogError(file=str(root), field="-", reason=reason("not_a_directory"))
    dep_path = root / "departments.toml"
    raw = _read_toml(dep_path)
    departments = tuple(
        _validate(Department, item, dep_path) for item in _list(raw, "department", dep_path)
    )
    known = {d.code for d in departments}
    matters: list[Matter] = []
    seen: dict[str, Path] = {}
    for path in sorted((root / "matters").glob("*.toml")):
        matter = load_matter_file(path)
        if matter.code in seen:
            raise CatalogError(
                file=str(path),
                field="code",
                reason=reason("duplicate_matter", code=matter.code, other=str(seen[matter.code])),
            )
        seen[matter.code] = path
        for index, task in enumerate(matter.tasks):
            if task.department not in known:
                raise CatalogError(
                    file=str(path),
                    field=f"tasks.{index}.department",
                    reason=reason("unknown_department", code=task.department),
                )
        matters.append(matter)
    if not matters:
        raise CatalogError(file=str(root / "matters"), field="-", reason=reason("no_matters"))
    return Catalog(departments=departments, matters=tuple(matters))


def _list(raw: dict[str, Any], key: str, path: Path) -> list[dict[str, Any]]:
    items = raw.get(key)
    if not isinstance(items, list) or not items:
        raise CatalogError(file=str(path), field=key, reason=reason("list_required", key=key))
    return items
