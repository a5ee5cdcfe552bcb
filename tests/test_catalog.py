"""The catalog is data: the demo catalog is complete, and a broken file is named precisely."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from workstation.catalog import load_catalog, load_matter_file
from workstation.catalog.loader import bundled_catalog_dir
from workstation.errors import CatalogError


def test_demo_catalog_has_the_hotel_routing_of_the_seed() -> None:
    hotel = load_catalog().matter("hotel-open")
    assert hotel is not None and hotel.name.zh == "开办旅馆"
    assert {t.code for t in hotel.initial_tasks()} == {"licence", "health", "fire"}
    deps = {t.code: set(t.depends_on) for t in hotel.tasks}
    assert deps["police"] == {"fire"}
    assert deps["quality"] == deps["tax"] == {"licence"}
    assert (
        hotel.task("police").permit is not None
        and hotel.task("police").permit.zh == "特种行业许可证"
    )


def test_subsistence_allowance_crosses_levels() -> None:
    catalog = load_catalog()
    dibao = catalog.matter("subsistence-allowance")
    assert dibao is not None and dibao.name.zh == "最低生活保障"
    chain = [(t.code, catalog.department(t.department).level) for t in dibao.tasks]  # type: ignore[union-attr]
    assert chain == [("village", "village"), ("township", "township"), ("county", "county")]
    assert [t.depends_on for t in dibao.tasks] == [(), ("village",), ("township",)]


def test_demo_catalog_has_common_matters_of_a_township_hall() -> None:
    matters = load_catalog().matters
    assert len(matters) >= 6
    assert {m.applicant_kind for m in matters} == {"person", "organisation"}
    assert sum(any(mat.deferrable for mat in m.materials) for m in matters) >= 3


@pytest.fixture
def catalog_copy(tmp_path: Path) -> Path:
    target = tmp_path / "catalog"
    shutil.copytree(bundled_catalog_dir(), target, ignore=shutil.ignore_patterns("__*"))
    return target


def _edit(path: Path, old: str, new: str) -> None:
    text = path.read_text("utf-8")
    assert old in text, old
    path.write_text(text.replace(old, new, 1), "utf-8")


BROKEN = [
    # (what to change in hotel-open.toml, expected field, words of the reason in en and zh)
    ('depends_on = ["fire"]', 'depends_on = ["fire", "police"]', "tasks", "cycle", "循环依赖"),
    ('depends_on = ["fire"]', 'depends_on = ["nowhere"]', "tasks", "“nowhere”", "不存在"),
    (
        'applicant_kind = "organisation"',
        'applicant_kind = "robot"',
        "applicant_kind",
        "person",
        "只能是",
    ),
    ("time_limit_days = 25", 'time_limit_days = "soon"', "time_limit_days", "whole number", "整数"),
    ("time_limit_days = 25", "time_limit_days = 0", "time_limit_days", "at least 1", "不能小于 1"),
    ('code = "hotel-open"', 'code = "Hotel Open"', "code", "does not match", "格式不对"),
]


@pytest.mark.parametrize(("old", "new", "field", "reason", "reason_zh"), BROKEN)
def test_broken_matter_names_file_field_and_reason(
    catalog_copy: Path, old: str, new: str, field: str, reason: str, reason_zh: str
) -> None:
    path = catalog_copy / "matters" / "hotel-open.toml"
    _edit(path, old, new)
    with pytest.raises(CatalogError) as raised:
        load_catalog(catalog_copy)
    params = raised.value.params
    assert params["file"] == str(path)
    assert params["field"] == field
    assert reason in raised.value.message("en")
    assert reason_zh in raised.value.message("zh_CN")
    assert str(path) in raised.value.message("zh_CN")


def test_unknown_department_is_named(catalog_copy: Path) -> None:
    path = catalog_copy / "matters" / "hotel-open.toml"
    _edit(path, 'department = "police"', 'department = "secret-police"')
    with pytest.raises(CatalogError) as raised:
        load_catalog(catalog_copy)
    assert raised.value.params["field"].startswith("tasks.")
    assert "secret-police" in raised.value.message("en")


def test_optional_material_cannot_be_deferrable(catalog_copy: Path) -> None:
    path = catalog_copy / "matters" / "medical-insurance.toml"
    text = path.read_text("utf-8")
    path.write_text(text.replace("required = false", "required = false\ndeferrable = true", 1))
    with pytest.raises(CatalogError) as raised:
        load_matter_file(path)
    assert raised.value.params["field"].startswith("materials.")
    assert "容缺" in raised.value.message("zh_CN") and "容缺" in raised.value.message("en")


@pytest.mark.parametrize(
    "content", ["code = \n", b"\xff\xfe garbage", "", 'code = "x"\n[[tasks]]\ncode = 1\n']
)
def test_truncated_or_random_files_are_refused(catalog_copy: Path, content: str | bytes) -> None:
    path = catalog_copy / "matters" / "hotel-open.toml"
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content, "utf-8")
    with pytest.raises(CatalogError) as raised:
        load_catalog(catalog_copy)
    assert raised.value.params["file"] == str(path)
    assert raised.value.params["reason"]


def test_duplicate_matter_code_across_files(catalog_copy: Path) -> None:
    shutil.copy(catalog_copy / "matters" / "hotel-open.toml", catalog_copy / "matters" / "z.toml")
    with pytest.raises(CatalogError) as raised:
        load_catalog(catalog_copy)
    assert "hotel-open" in raised.value.message("zh_CN")


def test_missing_directory_and_departments(tmp_path: Path) -> None:
    with pytest.raises(CatalogError):
        load_catalog(tmp_path / "absent")
    (tmp_path / "matters").mkdir()
    with pytest.raises(CatalogError) as raised:
        load_catalog(tmp_path)
    assert raised.value.params["file"].endswith("departments.toml")
