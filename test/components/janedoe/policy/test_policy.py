import pyarrow as pa
import pytest
import yaml
from janedoe.errors import JaneDoeInputError, NotFoundError
from janedoe.policy import (
    GeneralizeRule,
    HashRule,
    KeepRule,
    NoiseRule,
    NullRule,
    PartialRule,
    Policy,
    PseudonymizeRule,
    load_policy,
    parse_mask_rule,
    parse_policy,
    role_rules,
    starter_policy_yaml,
)

ISSUE_POLICY = """\
version: 1
secret_env: JANEDOE_SECRET        # where the key for pseudonyms and hashes comes from
default: error
tables:
  customers:
    columns:
      email:  {mask: partial_email}
      ssn:    {mask: partial, prefix: 0, padding: "***-**-", suffix: 4}
      name:   {mask: pseudonymize, kind: name}
      phone:  {mask: fake, kind: phone_number, locale: en_US}
      salary: {mask: noise, ratio: 0.1}
      birth:  {mask: generalize, to: year}
      age:    {mask: generalize, step: 10}
      notes:  {mask: "null"}
      id:     {mask: hash}
      city:   {mask: keep}
"""


def _line_of(text: str, needle: str) -> int:
    return next(number for number, line in enumerate(text.splitlines(), 1) if needle in line)


def _error(text: str) -> str:
    with pytest.raises(JaneDoeInputError) as error:
        parse_policy(text, "policy.yaml")
    message = str(error.value)
    assert "\n" not in message
    return message


def test_the_issue_policy_parses_into_rules():
    policy = parse_policy(ISSUE_POLICY, "policy.yaml")
    columns = policy.tables["customers"].columns
    assert columns["ssn"].mask == PartialRule(mask="partial", prefix=0, padding="***-**-", suffix=4)
    assert columns["name"].mask == PseudonymizeRule(mask="pseudonymize", kind="name")
    assert columns["salary"].mask == NoiseRule(mask="noise", ratio=0.1)
    assert columns["birth"].mask == GeneralizeRule(mask="generalize", to="year")
    assert columns["notes"].mask == NullRule(mask="null")
    assert columns["id"].mask == HashRule(mask="hash")
    assert columns["city"].mask == KeepRule()
    assert policy.secret_env == "JANEDOE_SECRET" and policy.default == "error"


def test_dump_is_the_flat_yaml_shape_and_round_trips():
    policy = parse_policy(ISSUE_POLICY)
    dumped = policy.model_dump(mode="json")
    assert dumped["tables"]["customers"]["columns"]["ssn"] == {
        "mask": "partial", "prefix": 0, "padding": "***-**-", "suffix": 4
    }
    assert parse_policy(yaml.safe_dump(dumped)) == policy
    assert Policy.model_validate(dumped) == policy


def test_unknown_rule_names_file_line_and_field():
    text = ISSUE_POLICY.replace("{mask: partial_email}", "{mask: foo}")
    line = _line_of(text, "mask: foo")
    assert _error(text) == f"policy.yaml:{line}: tables.customers.columns.email.mask: unknown rule 'foo'"


def test_unknown_parameter_is_an_error():
    text = ISSUE_POLICY.replace("suffix: 4}", "suffix: 4, sufix: 3}")
    message = _error(text)
    assert message.startswith(f"policy.yaml:{_line_of(text, 'sufix')}: tables.customers.columns.ssn.sufix:")
    assert "unknown parameter" in message


def test_wrong_parameter_type_names_the_parameter():
    text = ISSUE_POLICY.replace("ratio: 0.1", "ratio: lots")
    assert _error(text).startswith(f"policy.yaml:{_line_of(text, 'lots')}: tables.customers.columns.salary.ratio:")


def test_missing_required_parameter():
    text = ISSUE_POLICY.replace("{mask: pseudonymize, kind: name}", "{mask: pseudonymize}")
    assert _error(text).endswith("tables.customers.columns.name.kind: missing required field")


def test_rule_level_checks():
    assert "exactly one of ratio" in _error(ISSUE_POLICY.replace("ratio: 0.1", "ratio: 0.1, interval: 2 days"))
    assert "interval must look like" in _error(ISSUE_POLICY.replace("ratio: 0.1", "interval: soon"))
    assert "not a valid RE2" in _error(ISSUE_POLICY.replace("{mask: keep}", "{mask: regex_replace, pattern: '('}"))
    reversed_range = ISSUE_POLICY.replace("{mask: keep}", "{mask: random_int, min: 5, max: 1}")
    assert "min must not be greater" in _error(reversed_range)
    assert "algorithm" in _error(ISSUE_POLICY.replace("{mask: hash}", "{mask: hash, algorithm: md4}"))
    too_long = ISSUE_POLICY.replace("{mask: hash}", "{mask: hash, algorithm: md5, length: 33}")
    assert "at most 32 for md5" in _error(too_long)


def test_top_level_errors():
    assert _error(ISSUE_POLICY.replace("default: error", "default: maybe")).startswith("policy.yaml:3: default:")
    assert _error(ISSUE_POLICY.replace("version: 1", "version: 2")).startswith("policy.yaml:1: version:")
    assert "unknown parameter" in _error(ISSUE_POLICY + "colour: blue\n")


def test_invalid_yaml_names_its_line():
    text = ISSUE_POLICY.replace("{mask: keep}", "{mask: keep")
    message = _error(text)
    assert message.startswith("policy.yaml:") and "invalid YAML" in message


def test_empty_and_non_mapping_policies():
    assert "empty policy" in _error("")
    assert "mapping" in _error("- a\n- b\n")


def test_load_policy_missing_file(tmp_path):
    with pytest.raises(JaneDoeInputError, match="no such policy file"):
        load_policy(tmp_path / "nope.yaml")
    path = tmp_path / "p.yaml"
    path.write_text(ISSUE_POLICY.replace("{mask: hash}", "{mask: hashh}"))
    with pytest.raises(JaneDoeInputError, match=rf"^{path}:{_line_of(ISSUE_POLICY, 'id:')}: "):
        load_policy(path)


def test_column_fields_of_other_areas_sit_beside_the_rule():
    text = ISSUE_POLICY.replace(
        "{mask: generalize, step: 10}", "{mask: generalize, step: 10, role: quasi_identifier, bounds: [0, 120]}"
    )
    column = parse_policy(text).tables["customers"].columns["age"]
    assert column.role == "quasi_identifier" and column.bounds == (0, 120)
    assert column.mask == GeneralizeRule(mask="generalize", step=10)
    assert "role" in _error(ISSUE_POLICY.replace("step: 10}", "step: 10, role: boss}"))


def test_shorthand_forms():
    assert parse_mask_rule("hash") == HashRule(mask="hash")
    assert parse_mask_rule({"mask": None}) == NullRule(mask="null")
    text = ISSUE_POLICY.replace("city:   {mask: keep}", "city:")
    assert parse_policy(text).tables["customers"].columns["city"].mask == NullRule(mask="null")  # never keep
    text = ISSUE_POLICY.replace("city:   {mask: keep}", "city:   {role: quasi_identifier}")
    assert parse_policy(text).tables["customers"].columns["city"].mask == KeepRule()


ROLES = """
roles:
  owner: {raw: true}
  support:
    tables:
      customers:
        email: {mask: hash}
  analyst: {}
"""


def test_role_rules_override_the_columns_rules():
    policy = parse_policy(ISSUE_POLICY + ROLES)
    assert role_rules(policy, "owner", "customers") is None
    support = role_rules(policy, "support", "customers")
    assert support["email"] == HashRule(mask="hash")
    assert support["ssn"] == policy.tables["customers"].columns["ssn"].mask
    analyst = role_rules(policy, "analyst", "customers")
    assert analyst == {name: column.mask for name, column in policy.tables["customers"].columns.items()}
    with pytest.raises(NotFoundError):
        role_rules(policy, "stranger", "customers")


def test_role_rules_are_validated_as_mask_rules():
    text = ISSUE_POLICY + ROLES.replace("email: {mask: hash}", "email: {mask: blur}")
    line = _line_of(text, "mask: blur")
    assert _error(text) == f"policy.yaml:{line}: roles.support.tables.customers.email.mask: unknown rule 'blur'"
    text = ISSUE_POLICY + ROLES.replace("email: {mask: hash}", "email: {mask: hash, salt: 1}")
    assert "roles.support.tables.customers.email.salt: unknown parameter" in _error(text)
    assert "not in the policy's tables" in _error(ISSUE_POLICY + ROLES.replace("      customers:", "      orders:"))


def test_starter_policy_suggests_rules_by_name_and_values_and_parses():
    sample = pa.record_batch(
        {
            "customer_id": pa.array([1, 2, 3]),
            "contact_info": pa.array(["a.b@example.com", "c@example.org", "dd@x.io"]),
            "code": pa.array(["123-45-6789", "287-65-4321", "555-55-5555"]),  # 9xx areas are not SSNs
            "Date Of Birth": pa.array(["1990-01-01", "1980-02-02", "1970-03-03"]),
            "colour": pa.array(["red", "green", "blue"]),
            "null": pa.array(["x", "y", "z"]),
        }
    )
    text = starter_policy_yaml("people", sample.schema, sample, "people.csv")
    policy = parse_policy(text)
    columns = policy.tables["people"].columns
    assert columns["customer_id"].mask.mask == "keyed_permutation"
    assert columns["contact_info"].mask == PseudonymizeRule(mask="pseudonymize", kind="email")
    assert columns["code"].mask == PseudonymizeRule(mask="pseudonymize", kind="ssn")
    assert columns["Date Of Birth"].mask == GeneralizeRule(mask="generalize", to="year")
    assert columns["colour"].mask == KeepRule()
    assert set(columns) == set(sample.schema.names)
    column_lines = [line for line in text.splitlines() if line.startswith("      ")]
    assert len(column_lines) == sample.num_columns and all("  # " in line for line in column_lines)
