from __future__ import annotations

import pytest

from locus_nb import ConfigError, connect
from locus_nb.notebook._settings import MOCK_COMPARTMENT, parse_bool

REAL_LOOKING = "ocid1.compartment.oc1..aaaaaaaa6k2vxq3lrsx7yq3k5q2sy4f3ytbk2yuz6w2xk3h5ncbkzq4a7nla"
MOCK = {"LOCUS_NB_TARGET": "mock"}  # the embedded mock, asked for (as `locus-nb run --mock` and the test session do)


def test_no_profile_means_embedded_mock():
    conn = connect(env=MOCK)
    assert conn.target == "mock" and conn.store is False and conn.compartment == MOCK_COMPARTMENT
    assert "embedded mock" in conn.describe()


def test_env_is_read_and_parameters_win(oci_files):
    env = {"OCI_PROFILE": "DEFAULT", "OCI_REGION": "eu-frankfurt-1", "OCI_COMPARTMENT": REAL_LOOKING,
           "OCI_RESPONSES_STORE": "1", "OCI_CONFIG_FILE": str(oci_files.config)}
    conn = connect(env=env)
    assert (conn.target, conn.region, conn.store) == ("oci", "eu-frankfurt-1", True)
    assert connect(region="us-chicago-1", store="false", env=env).region == "us-chicago-1"
    assert connect(store="false", env=env).store is False


def test_endpoint_without_credentials_is_unsigned():
    conn = connect(endpoint="http://127.0.0.1:9/openai/v1/", env={})
    assert conn.target == "endpoint" and conn.endpoint == "http://127.0.0.1:9/openai/v1"
    assert type(conn.model().auth).__name__ == "NoAuth"


def test_endpoint_with_a_profile_signs_requests_to_it(oci_files):
    """The OCI code path (profile signing, compartment) against any endpoint, e.g. a verifying mock."""
    env = {"OCI_PROFILE": "DEFAULT", "OCI_CONFIG_FILE": str(oci_files.config), "OCI_COMPARTMENT": REAL_LOOKING}
    conn = connect(endpoint="http://127.0.0.1:9/openai/v1/", env=env)
    assert conn.target == "endpoint" and "signed with profile 'DEFAULT'" in conn.describe()
    model = conn.model()
    assert type(model.auth).__name__ == "APIKeyAuth" and model.base_url == "http://127.0.0.1:9/openai/v1"
    with pytest.raises(ConfigError, match="compartment"):
        connect(endpoint="http://127.0.0.1:9/openai/v1", env={**env, "OCI_COMPARTMENT": ""})
    with pytest.raises(ConfigError, match="NOPE"):
        connect(endpoint="http://127.0.0.1:9/openai/v1", env={**env, "OCI_PROFILE": "NOPE"})


def test_describe_masks_the_compartment(oci_files):
    text = connect(profile="DEFAULT", compartment=REAL_LOOKING, config_file=str(oci_files.config), env={}).describe()
    assert REAL_LOOKING not in text and "…7nla" in text and "us-phoenix-1" in text  # the profile's region


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


PROJECT = "ocid1.generativeaiproject.oc1.us-chicago-1.amaaaaaaprojectlocusnbtest0001"


@pytest.mark.parametrize("unset", [None, "", "None", "null", "  "])
def test_papermill_unset_forms_fall_back_to_env(unset):
    conn = connect(profile=unset, store=unset, region=unset, env={**MOCK, "OCI_RESPONSES_STORE": "yes", "OCI_REGION": "uk-london-1"})
    assert conn.target == "mock" and conn.store is True and conn.region == "uk-london-1"


@pytest.mark.parametrize("region", ["us-gov-ashburn-1", "uk-gov-london-1", "eu-frankfurt-1"])
def test_region_names_with_realm_parts_are_accepted(region):
    assert connect(region=region, env=MOCK).region == region


def test_oci_target_rejects_a_region_the_sdk_does_not_know(oci_files):
    with pytest.raises(ConfigError, match="'us-chicgo-1' is not an OCI region the oci SDK knows"):
        connect(profile="DEFAULT", region="us-chicgo-1", compartment=REAL_LOOKING, config_file=str(oci_files.config),
                env={})


def test_bad_project():
    with pytest.raises(ConfigError, match=r"project 'ocid1.compartment.'… is not a generativeaiproject OCID; expected ocid1.generativeaiproject.oc1.<region>."):
        connect(project=REAL_LOOKING, env={})


def test_bad_endpoint():
    with pytest.raises(ConfigError, match="endpoint must be an http"):
        connect(endpoint="localhost:8000", env={})


def test_missing_config_file_is_named(tmp_path):
    with pytest.raises(ConfigError, match="OCI config file .* not found: create it with `oci setup config`"):
        connect(profile="DEFAULT", compartment=REAL_LOOKING, env={"OCI_CONFIG_FILE": str(tmp_path / "none")})


def test_missing_profile_is_named(oci_files):
    with pytest.raises(ConfigError, match="profile 'PROD' not found"):
        connect(profile="PROD", compartment=REAL_LOOKING, env={"OCI_CONFIG_FILE": str(oci_files.config)})


def test_api_key_targets_oci_with_bearer_and_is_never_displayed(monkeypatch):
    from locus_nb._auth import BearerAuth

    monkeypatch.delenv("OCI_CONFIG_FILE", raising=False)
    key = "sk-genai-0123456789abcdef"
    conn = connect(compartment=REAL_LOOKING, project=PROJECT, env={"OCI_GENAI_API_KEY": key})
    assert conn.target == "oci" and "GenAI API key" in conn.describe()
    for text in (str(conn), repr(conn), conn.describe()):
        assert key not in text and REAL_LOOKING not in text and PROJECT not in text
    model = conn.model()
    assert isinstance(model.auth, BearerAuth) and model.project_id == PROJECT
    assert key not in repr(model)


def test_model_for_oci_profiles_signs_with_the_profile(oci_files):
    from locus_nb._auth import APIKeyAuth, SessionTokenAuth

    env = {"OCI_CONFIG_FILE": str(oci_files.config), "OCI_COMPARTMENT": REAL_LOOKING}
    api_key_model = connect(profile="DEFAULT", env=env).model()
    session_model = connect(profile="SESSION", env=env).model()
    assert isinstance(api_key_model.auth, APIKeyAuth) and isinstance(session_model.auth, SessionTokenAuth)
    assert session_model.compartment_id == REAL_LOOKING
    assert session_model.base_url == "https://inference.generativeai.us-chicago-1.oci.oraclecloud.com/openai/v1"


def test_repr_masks_the_compartment():
    assert REAL_LOOKING not in repr(connect(compartment=REAL_LOOKING, env=MOCK))


@pytest.mark.e2e
def test_the_mock_target_does_not_load_the_oci_sdk():
    import subprocess
    import sys

    code = ("import sys; from locus_nb import connect; connect(env={'LOCUS_NB_TARGET': 'mock'}); "
            "print('oci' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.strip()
    assert out == "False"


def test_model_keywords_override_the_connection():
    conn = connect(endpoint="http://127.0.0.1:9/openai/v1", env={})
    other = "ocid1.compartment.oc1..aaaaaaaaothercompartmentforthistest"
    model = conn.model(compartment_id=other, max_retries=0, store=True)
    assert model.compartment_id == other and model.max_retries == 0 and model.server_stateful is True
    assert model.base_url == "http://127.0.0.1:9/openai/v1"


# -- one rule for the region, whichever way in ----------------------------------------------------


def test_a_profiles_region_is_used_the_same_way_by_connect_and_by_the_model(oci_files, monkeypatch):
    """Profile DEFAULT says us-phoenix-1: connect() and OCIResponsesModel(profile=…) both call Phoenix."""
    from locus_nb import OCIResponsesModel

    monkeypatch.delenv("OCI_REGION", raising=False)
    conn = connect(profile="DEFAULT", compartment=REAL_LOOKING, config_file=str(oci_files.config), env={})
    direct = OCIResponsesModel("openai.gpt-4.1", profile="DEFAULT", config_file=str(oci_files.config),
                               compartment_id=REAL_LOOKING)
    phoenix = "https://inference.generativeai.us-phoenix-1.oci.oraclecloud.com/openai/v1"
    assert conn.region == direct.region == "us-phoenix-1"
    assert conn.model().base_url == direct.base_url == phoenix
    assert "  region:      us-phoenix-1  (from profile 'DEFAULT')" in conn.describe()


def test_region_precedence_is_parameter_then_environment_then_profile_then_default(oci_files):
    env = {"OCI_CONFIG_FILE": str(oci_files.config), "OCI_COMPARTMENT": REAL_LOOKING, "OCI_PROFILE": "DEFAULT"}
    frankfurt = {**env, "OCI_REGION": "eu-frankfurt-1"}
    cases = [
        (connect(region="uk-london-1", env=frankfurt), "uk-london-1", "the region parameter"),
        (connect(env=frankfurt), "eu-frankfurt-1", "OCI_REGION"),
        (connect(env=env), "us-phoenix-1", "profile 'DEFAULT'"),
        (connect(compartment=REAL_LOOKING, env={"OCI_GENAI_API_KEY": "sk-genai-0123456789"}), "us-chicago-1",
         "the default"),
    ]
    for conn, region, source in cases:
        assert conn.region == region and conn.model().region == region
        assert f"  region:      {region}  (from {source})" in conn.describe()


def test_the_mock_setup_text_is_unchanged():
    assert connect(env=MOCK).describe() == (
        "Connected to the embedded mock server (no OCI profile configured)\n"
        "  region:      us-chicago-1  (the local mock ignores it)\n"
        "  model:       openai.gpt-4.1\n"
        "  mode:        store=False: stateless, ZDR-safe\n"
        "  compartment: ocid1.compartment.oc1..…usnb"
    )


# -- connect(env=…) is all the environment there is ----------------------------------------------


def test_connect_env_is_all_the_environment_its_model_sees(oci_files, tmp_path, monkeypatch):
    """os.environ says one thing, env= another: the model and its auth follow env= only."""
    from locus_nb._auth import APIKeyAuth, NoAuth

    home = tmp_path / "home"
    (home / ".oci").mkdir(parents=True)
    (home / ".oci" / "config").write_text(oci_files.config.read_text())  # DEFAULT: an API-key profile, us-phoenix-1
    elsewhere = tmp_path / "elsewhere"  # DEFAULT here: a session profile in Tokyo
    elsewhere.write_text(f"[DEFAULT]\ntenancy=ocid1.tenancy.oc1..aaaaaaaaelsewhere\nregion=ap-tokyo-1\n"
                         f"key_file={oci_files.key_file}\nsecurity_token_file={oci_files.token_file}\n")
    other = "ocid1.compartment.oc1..aaaaaaaaosenvironcompartmentnotthisone"
    monkeypatch.setenv("HOME", str(home))
    for name, value in {"OCI_CONFIG_FILE": str(elsewhere), "OCI_REGION": "ap-tokyo-1", "OCI_COMPARTMENT": other,
                        "OCI_GENAI_API_KEY": "sk-os-environ-0123456789", "OCI_PROFILE": "NOPE"}.items():
        monkeypatch.setenv(name, value)

    model = connect(env={"OCI_PROFILE": "DEFAULT", "OCI_COMPARTMENT": REAL_LOOKING}).model()
    assert isinstance(model.auth, APIKeyAuth) and model.auth.profile == "DEFAULT"
    assert (model.region, model.compartment_id) == ("us-phoenix-1", REAL_LOOKING)
    assert model.base_url == "https://inference.generativeai.us-phoenix-1.oci.oraclecloud.com/openai/v1"

    model = connect(endpoint="http://127.0.0.1:9/openai/v1", env={}).model()
    assert isinstance(model.auth, NoAuth) and model.region == "us-chicago-1" and model.compartment_id == MOCK_COMPARTMENT

    # With an API key and no compartment in env=, os.environ's compartment is not borrowed either.
    with pytest.raises(ConfigError, match="OCI needs a compartment"):
        connect(env={"OCI_GENAI_API_KEY": "sk-genai-0123456789"})


def test_connect_reads_exactly_the_listed_variables():
    from collections.abc import Mapping

    from locus_nb.notebook._settings import ENV_VARS

    class Spy(Mapping):
        def __init__(self):
            self.asked = set()

        def __getitem__(self, key):
            self.asked.add(key)
            raise KeyError(key)

        def get(self, key, default=None):
            self.asked.add(key)
            return default

        def __contains__(self, key):
            self.asked.add(key)
            return False

        def __iter__(self):
            return iter(())

        def __len__(self):
            return 0

    spy = Spy()
    with pytest.raises(ConfigError, match="nothing says where to connect"):  # an empty environment names no target
        connect(env=spy)
    assert spy.asked == {*ENV_VARS, "JPY_SESSION_NAME"}  # and the one that says a Jupyter server started the kernel


def test_the_profile_is_read_once_from_connect_to_the_signer(oci_files, monkeypatch):
    import oci.config

    reads = []
    real = oci.config.from_file
    monkeypatch.setattr(oci.config, "from_file", lambda *a, **k: reads.append(a) or real(*a, **k))
    env = {"OCI_CONFIG_FILE": str(oci_files.config), "OCI_COMPARTMENT": REAL_LOOKING}
    connect(profile="SESSION", env=env).model()
    assert len(reads) == 1


# -- default_store ---------------------------------------------------------------------------------


def test_default_store_is_used_only_when_neither_parameter_nor_environment_sets_it():
    assert connect(env=MOCK).store is False
    assert connect(env=MOCK, default_store=True).store is True
    assert connect(store="None", env=MOCK, default_store=True).store is True
    assert connect(store=False, env=MOCK, default_store=True).store is False
    assert connect(env={**MOCK, "OCI_RESPONSES_STORE": "0"}, default_store=True).store is False
    with pytest.raises(ConfigError, match="default_store must be a boolean"):
        connect(env=MOCK, default_store="maybe")


# -- no silent fallback to the mock -----------------------------------------------------------------


def test_nothing_configured_is_refused_outside_jupyterlab_naming_how_to_ask_for_the_mock():
    with pytest.raises(ConfigError, match=r"nothing says where to connect: set OCI_PROFILE .* LOCUS_NB_TARGET=mock, "
                                          r"the parameter endpoint=\"mock\" .*`locus-nb run --mock`"):
        connect(env={})


def test_in_a_jupyter_server_kernel_nothing_configured_is_the_mock_and_the_setup_cell_says_so():
    conn = connect(env={"JPY_SESSION_NAME": "/home/learner/01_stateless.ipynb"})
    assert conn.target == "mock" and conn.describe().startswith(
        "Connected to the embedded mock server (no OCI profile configured)")


@pytest.mark.parametrize("env", [{"OCI_PROFILE": ""}, {"OCI_PROFILE": "  "}, {"OCI_GENAI_API_KEY": ""},
                                 {"LOCUS_NB_ENDPOINT": ""},
                                 {"OCI_PROFILE": "", "JPY_SESSION_NAME": "/home/learner/01_stateless.ipynb"}])
def test_an_empty_target_variable_is_an_unset_ci_secret_and_refused_even_in_jupyterlab(env):
    name = next(k for k in env if k != "JPY_SESSION_NAME")
    with pytest.raises(ConfigError, match=rf"^{name} is set but empty \(a CI secret that is not set\?\), so nothing "
                                          "says where to connect: set it, or ask for the embedded mock"):
        connect(env=env)


def test_an_empty_profile_parameter_is_refused_too():
    with pytest.raises(ConfigError, match="the profile parameter is set but empty"):
        connect(profile="", env={"JPY_SESSION_NAME": "x"})


@pytest.mark.parametrize("how", [dict(env=MOCK), dict(endpoint="mock", env={}), dict(env={"LOCUS_NB_ENDPOINT": "mock"}),
                                 dict(endpoint="MOCK", env={"OCI_PROFILE": ""}), dict(env={**MOCK, "OCI_PROFILE": ""})])
def test_the_mock_when_asked_for(how):
    conn = connect(**how)
    assert conn.target == "mock" and conn.endpoint is None and conn.compartment == MOCK_COMPARTMENT


@pytest.mark.parametrize("how, other", [
    (dict(env={**MOCK, "OCI_PROFILE": "DEFAULT"}), "a profile"),
    (dict(profile="DEFAULT", endpoint="mock", env={}), "a profile"),
    (dict(env={**MOCK, "OCI_GENAI_API_KEY": "sk-genai-0123456789"}), "a GenAI API key"),
    (dict(endpoint="http://127.0.0.1:9/openai/v1", env=MOCK), "the endpoint 'http://127.0.0.1:9/openai/v1'"),
])
def test_asking_for_the_mock_and_another_target_is_refused(how, other):
    with pytest.raises(ConfigError, match=rf"the embedded mock was asked for .*, but {other}.* is set too: unset one"):
        connect(**how)
    assert "sk-genai-0123456789" not in str(pytest.raises(ConfigError, connect, **how).value)


def test_locus_nb_target_takes_only_mock():
    with pytest.raises(ConfigError, match="LOCUS_NB_TARGET takes only 'mock'"):
        connect(env={"LOCUS_NB_TARGET": "oci"})


# -- papermill parameters the notebook does not declare ------------------------------------------

PARAMETERS_CELL = "# Parameters (papermill: -p name value)\nprofile = None\nregion = None  # e.g.\nstore = None\n"


def test_a_parameter_papermill_injected_that_the_notebook_does_not_declare_is_refused():
    from locus_nb.notebook._params import check_injected

    history = ["", PARAMETERS_CELL, '# Parameters\nregoin = "eu-frankfurt-1"\nstore = "true"\n', "conn = connect()"]
    with pytest.raises(ConfigError, match=r"^this notebook has no parameter 'regoin' \(did you mean 'region'\?\); "
                                          r"its parameters: profile, region, store\."):
        check_injected(history)
    check_injected(history[:2] + ['# Parameters\nregion = "eu-frankfurt-1"\n'])  # declared: fine
    check_injected(["", PARAMETERS_CELL, "connect()"])  # nothing injected (nbval, JupyterLab)
    check_injected(['# Parameters\nanything = 1\n'])  # no parameters cell to hold it to


def test_declared_parameters_are_read_from_assignments():
    from locus_nb.notebook._params import declared_parameters

    assert declared_parameters(PARAMETERS_CELL) == ["profile", "region", "store"]
    assert declared_parameters("a: int = 1\nb, c = 2, 3\n%time x = 1\n") == ["a", "b", "c"]


def test_a_password_in_the_endpoint_url_is_masked_in_repr_and_describe():
    conn = connect(endpoint="https://user:s3cret-pw@genai.example.com/openai/v1", env={})
    for text in (repr(conn), str(conn), conn.describe()):
        assert "s3cret-pw" not in text and "https://user:****@genai.example.com/openai/v1" in text
    assert conn.endpoint == "https://user:s3cret-pw@genai.example.com/openai/v1"  # the model still gets it


def test_a_profile_that_does_not_load_points_at_the_doctor(oci_files):
    with pytest.raises(ConfigError, match="profile 'PROD' not found") as info:
        connect(profile="PROD", compartment=REAL_LOOKING, env={"OCI_CONFIG_FILE": str(oci_files.config)})
    assert "`locus-nb doctor --profile PROD`" in info.value.hint
    assert "locus-nb doctor --profile PROD" in str(info.value)  # what the setup cell shows
