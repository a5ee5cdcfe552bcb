"""The matter catalog: TOML files validated by pydantic, loaded as data, never as code."""

from workstation.catalog.loader import load_catalog, load_matter_file
from workstation.catalog.schema import Catalog, Department, FieldSpec, Material, Matter, TaskSpec

__all__ = [
    "Catalog",
    "Department",
    "FieldSpec",
    "Material",
    "Matter",
    "TaskSpec",
    "load_catalog",
    "load_matter_file",
]
