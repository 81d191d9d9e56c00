from __future__ import annotations

import pytest

from locus_nb import ConfigError, connect
from locus_nb._settings import MOCK_COMPARTMENT, parse_bool

REAL_LOOKING = "ocid1.compartment.oc1..aaaaaaaa6k2vxq3lrsx7yq3k5q2sy4f3ytbk2yuz6w2xk3h5ncbkzq4a7nla"


def test_no_profile_means_embedded_mock():
    conn = connect(env={})
    assert conn.target == "mock" and conn.store is False and conn.compartment == MOCK_COMPARTMENT
    assert "embedded mock" in conn.describe()


def test_env_is_read_and_parameters_win(oci_files):
    env = {"OCI_PROFILE": "DEFAULT", "OCI_REGION": "eu-frankfurt-1", "OCI_COMPARTMENT": REAL_LOOKING,
           "OCI_RESPONSES_STORE": "1", "OCI_CONFIG_FILE": str(oci_files.config)}
    conn = connect(env=env)
    assert (conn.target, conn.region, conn.store) == ("oci", "eu-frankfurt-1", True)
    assert connect(region="us-chicago-1", store="false", env=env).region == "us-chicago-1"
    assert connect(store="false", env=env).store is False


def test_endpoint_wins_over_profile():
    conn = connect(endpoint="http://127.0.0.1:9/openai/v1/", env={"OCI_PROFILE": "X"})
    assert conn.target == "endpoint" and conn.endpoint == "http://127.0.0.1:9/openai/v1"


def test_describe_masks_the_compartment(oci_files):
    text = connect(profile="DEFAULT", compartment=REAL_LOOKING, config_file=str(oci_files.config), env={}).describe()
    assert REAL_LOOKING not in text and "…7nla" in text and "us-chicago-1" in text


@pytest.mark.parametrize("value, expected", [(True, True), ("true", True), ("True", True), ("1", True), (1, True),
                                              ("yes", True), (False, False), ("false", False), ("0", False), ("off", False)])
def test_bool_forms(value, expected):
    assert parse_bool(value, "store") is expected


@pytest.mark.parametrize("value", ["maybe", "2", 2, 1.5, [], "tru"])
def test_bad_bool_is_rejected_with_a_message(value):
    with pytest.raises(ConfigError, match="store must be a boolean"):
        connect(store=value, env={})


@pytest.mark.parametrize("region", ["chicago", "US-CHICAGO-1", "us_chicago_1", "us-chicago"])
def test_bad_region(region):
    with pytest.raises(ConfigError, match="not an OCI region"):
        connect(region=region, env={})


@pytest.mark.parametrize("bad", ["ocid1.user.oc1..aaaaaaaaaaaaaaaaaaaaaaaaaaaaa", "compartment-1", "ocid1.compartment.oc1..short"])
def test_bad_compartment(bad):
    with pytest.raises(ConfigError, match="not a compartment OCID") as info:
        connect(compartment=bad, env={})
    assert bad not in str(info.value) or len(bad) <= 18


def test_oci_without_compartment():
    with pytest.raises(ConfigError, match="OCI_COMPARTMENT"):
        connect(profile="DEFAULT", env={})


def test_wrong_parameter_type():
    with pytest.raises(ConfigError, match="region must be a string"):
        connect(region=42, env={})
