"""Valid inputs built from the catalog, so tests follow the catalog instead of copying it."""

from __future__ import annotations

import random
from datetime import date

from workstation.catalog import load_catalog
from workstation.catalog.schema import Matter
from workstation.identity import person_id_check_digit, uscc_check_char
from workstation.services.applicants import ApplicantInput
from workstation.services.intake import IntakeRequest

CATALOG = load_catalog()


def person_id(rng: random.Random | None = None, *, born: date = date(1980, 5, 17)) -> str:
    """A valid 18-digit resident ID number (Xi'an Xincheng district)."""
    rng = rng or random.Random(1)
    first17 = f"610102{born:%Y%m%d}{rng.randrange(1000):03d}"
    return first17 + person_id_check_digit(first17)


def org_code(rng: random.Random | None = None, prefix: str = "91") -> str:
    """A valid unified social credit code (an enterprise by default)."""
    rng = rng or random.Random(1)
    alphabet = "0123456789ABCDEFGHJKLMNPQRTUWXY"
    first17 = prefix + "610102" + "".join(rng.choice(alphabet) for _ in range(9))
    return first17 + uscc_check_char(first17)


def form_for(matter: Matter) -> dict[str, str]:
    """A filled form: a plausible value for every field of the matter."""
    samples = {
        "text": "西安市新城区西一路1号",
        "integer": "3",
        "decimal": "12.5",
        "date": "2026-12-01",
    }
    return {
        f.code: (f.choices[0] if f.kind == "choice" else samples[f.kind]) for f in matter.fields
    }


def request_for(
    matter_code: str,
    *,
    rng: random.Random | None = None,
    defer: bool = False,
    promised: date = date(2026, 11, 20),
) -> IntakeRequest:
    """A complete, valid application for ``matter_code`` (容缺 items deferred if ``defer``)."""
    matter = CATALOG.matter(matter_code)
    assert matter is not None, matter_code
    rng = rng or random.Random(7)
    if matter.applicant_kind == "person":
        applicant = ApplicantInput("person", person_id(rng), "张三", "13812345678", "西一路2号")
    else:
        applicant = ApplicantInput(
            "organisation", org_code(rng), "西安好客旅馆有限公司", "029-88886666"
        )
    deferred = {m.code: promised for m in matter.materials if m.deferrable} if defer else {}
    received = tuple(m.code for m in matter.materials if m.required and m.code not in deferred)
    return IntakeRequest(applicant, matter_code, received, deferred, form_for(matter))
