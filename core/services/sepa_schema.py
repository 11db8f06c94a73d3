"""Every SEPA file is checked against the official pain.001.001.03 XML Schema before it leaves.

The schema is the ISO 20022 one that the sepaxml package ships; xmlschema validates against
it. A file the schema refuses is never written: the bank would reject the whole file.
"""

from __future__ import annotations

from functools import cache
from importlib.resources import files

import xmlschema

from core.domain.sepa import SepaError

SCHEMA = "pain.001.001.03"


@cache
def schema() -> xmlschema.XMLSchema:
    """The parsed schema; parsing takes a second, so a process does it once."""
    with files("sepaxml").joinpath("schemas", f"{SCHEMA}.xsd").open("rb") as source:
        return xmlschema.XMLSchema(source)


def validate_pain001(xml: bytes) -> None:
    """Raise SepaError naming the first problem and where, unless `xml` is a valid pain.001."""
    error = next(iter(schema().iter_errors(xml)), None)
    if error is not None:
        raise SepaError(f"not a valid {SCHEMA} file at {error.path}: {error.reason}")
