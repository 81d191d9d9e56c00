"""OCIDs and region names: the shape one must have (`check_ocid`, `check_region`). It depends only on the error
root, so the client and the notebook settings share it without importing each other. How an OCID is shown is
`_redact.mask_ocid`."""

from __future__ import annotations

import re
from collections.abc import Iterable

from ._errors import ConfigError

__all__ = ["REGION_SHAPE", "check_ocid", "check_region"]

# Region names: us-chicago-1, eu-frankfurt-1, uk-gov-london-1, …
REGION_SHAPE = re.compile(r"^[a-z]{2,3}(?:-[a-z]+)+-\d{1,2}$")


def check_ocid(value: str, name: str, kinds: Iterable[str], *, min_unique: int = 20) -> str:
    """`value` if it has the shape of an OCID of one of `kinds`, else a ConfigError (value not echoed whole).

    Real unique parts are 60 characters; `min_unique` lets a caller accept short test ids.
    """
    kinds = tuple(kinds)
    pattern = rf"^ocid1\.(?:{'|'.join(kinds)})\.oc\d+\.[a-z0-9-]*\.[a-z0-9]{{{min_unique},}}$"
    if not isinstance(value, str) or not re.match(pattern, value):
        shown = (repr(value[:18]) + ("…" if len(value) > 18 else "")) if isinstance(value, str) else repr(value)
        region = "" if kinds[0] in ("compartment", "tenancy") else "<region>"  # regional resources carry one
        raise ConfigError(
            f"{name} {shown} is not a {kinds[0]} OCID; expected ocid1.{kinds[0]}.oc1.{region}.<unique id> "
            "(copy it from the OCI console)"
        )
    return value


def check_region(region: str, *, known: bool, name: str = "region") -> str:
    """`region` if it has a region name's shape and, with `known`, is a region the installed `oci`
    SDK knows (for an OCI URL: catches typos); else a ConfigError naming `name`."""
    if not isinstance(region, str) or not REGION_SHAPE.match(region):
        raise ConfigError(f"{name} {region!r} is not an OCI region name; expected something like us-chicago-1")
    if known:
        from oci.regions_definitions import REGIONS  # the SDK is imported only for OCI URLs

        if region not in REGIONS:
            raise ConfigError(
                f"{name} {region!r} is not an OCI region the oci SDK knows (check the spelling, e.g. "
                "us-chicago-1; for a brand-new region upgrade oci, or give the endpoint URL itself: endpoint= to "
                "connect(), base_url= to the model)"
            )
    return region
