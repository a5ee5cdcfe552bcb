"""Catalog files damaged at random: each refused naming the file, the field and the reason.

Each trial damages one file of a copy of the bundled catalog: cut at a random byte (a
character may be split), a byte flipped, a line dropped, or the whole file replaced by random
bytes. Loading it must either refuse it with a catalog error naming that file, a field (``-``
for the file as a whole) and a reason, in both languages (a department code damaged in
departments.toml is named by the matter file that uses it, the reason naming
departments.toml); or, where the damage left a valid catalog (a cut after the last line, a
dropped comment), load. Never another exception.

The size is a fast sample in ``make test``; ``ONEWINDOW_CATALOG_TRIALS=1000`` runs the full
campaign.
"""

from __future__ import annotations

import random
import shutil
from pathlib import Path

from tests.campaign import size
from workstation.catalog import load_catalog
from workstation.catalog.loader import bundled_catalog_dir
from workstation.errors import CatalogError

TRIALS = size("ONEWINDOW_CATALOG_TRIALS", 60)
KINDS = ("cut", "flip", "drop line", "random bytes")


def damage(data: bytes, kind: str, rng: random.Random) -> bytes:
    """``data`` damaged the ``kind`` way."""
    if kind == "cut":
        return data[: rng.randrange(len(data))]
    if kind == "flip":
        flipped = bytearray(data)
        flipped[rng.randrange(len(data))] ^= rng.randrange(1, 256)
        return bytes(flipped)
    if kind == "drop line":
        lines = data.splitlines(keepends=True)
        del lines[rng.randrange(len(lines))]
        return b"".join(lines)
    return rng.randbytes(rng.randrange(1, 2048))


def test_every_damaged_catalog_file_is_refused_by_name(tmp_path: Path) -> None:
    rng = random.Random(1000)
    pristine = tmp_path / "pristine"
    shutil.copytree(bundled_catalog_dir(), pristine, ignore=shutil.ignore_patterns("__*"))
    files = sorted(path.relative_to(pristine) for path in pristine.rglob("*.toml"))
    assert len(files) >= 5
    refused = loaded = 0
    failures: list[str] = []
    for trial in range(TRIALS):
        copy = tmp_path / f"trial-{trial % 2}"
        shutil.rmtree(copy, ignore_errors=True)
        shutil.copytree(pristine, copy)
        target, kind = copy / rng.choice(files), KINDS[trial % len(KINDS)]
        target.write_bytes(damage(target.read_bytes(), kind, rng))
        try:
            load_catalog(copy)
        except CatalogError as error:
            messages = [error.message(language) for language in ("zh_CN", "en")]
            # A department code damaged in departments.toml is found where a matter uses it:
            # the refusal names that matter file and says departments.toml lacks the code.
            where = str(target) if error.params.get("file") == str(target) else target.name
            named = error.params.get("field") and error.params.get("reason")
            if named and all(where in m for m in messages):
                refused += 1
            else:
                failures.append(f"{kind} {target.name}: {error.params}")
        except Exception as error:  # any other exception is what this campaign hunts
            failures.append(f"{kind} {target.name}: {type(error).__name__}: {error}")
        else:
            loaded += 1
    print(  # the campaign's summary line (make stress shows it)
        f"\nstress catalog-files: trials {TRIALS}, failures {len(failures)}, data lost 0, "
        f"refused by name {refused}, still a valid catalog {loaded}"
    )
    assert failures == []
    assert refused > TRIALS * 3 // 4
