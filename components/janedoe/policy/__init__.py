"""The policy file: which masking rule each column gets, plus the sections other areas read (k-anonymity, dp,
synthetic data, roles). Validated with pydantic; errors name the file, the line and the field.
"""

from janedoe.policy.dp_section import BoundsColumnFields, DpSection
from janedoe.policy.kanon_section import (
    ColumnRole,
    DateHierarchyRule,
    HierarchyRule,
    IntervalHierarchyRule,
    KAnonymityColumnFields,
    KAnonymitySection,
    MaskRightHierarchyRule,
)
from janedoe.policy.loading import load_policy, parse_policy
from janedoe.policy.mask_rules import (
    RULE_NAMES,
    ConstantRule,
    FakeRule,
    GeneralizeRule,
    HashRule,
    KeepRule,
    KeyedPermutationRule,
    MaskRule,
    NoiseRule,
    NullRule,
    PartialEmailRule,
    PartialRule,
    PseudonymizeRule,
    RandomDateRule,
    RandomInRule,
    RandomIntRule,
    RegexReplaceRule,
    ShuffleRule,
)
from janedoe.policy.model import ColumnPolicy, Policy, TablePolicy, parse_mask_rule, role_rules
from janedoe.policy.roles_section import RoleSection
from janedoe.policy.starter import ColumnSuggestion, starter_policy_yaml, suggest_column
from janedoe.policy.synthetic_section import SyntheticColumnFields, SyntheticSection

__all__ = [
    "load_policy",
    "parse_policy",
    "parse_mask_rule",
    "role_rules",
    "Policy",
    "TablePolicy",
    "ColumnPolicy",
    "MaskRule",
    "RULE_NAMES",
    "PartialRule",
    "PartialEmailRule",
    "FakeRule",
    "PseudonymizeRule",
    "HashRule",
    "NoiseRule",
    "RandomIntRule",
    "RandomDateRule",
    "RandomInRule",
    "GeneralizeRule",
    "ShuffleRule",
    "ConstantRule",
    "NullRule",
    "KeepRule",
    "RegexReplaceRule",
    "KeyedPermutationRule",
    "KAnonymitySection",
    "KAnonymityColumnFields",
    "ColumnRole",
    "HierarchyRule",
    "IntervalHierarchyRule",
    "MaskRightHierarchyRule",
    "DateHierarchyRule",
    "DpSection",
    "BoundsColumnFields",
    "SyntheticColumnFields",
    "SyntheticSection",
    "RoleSection",
    "starter_policy_yaml",
    "suggest_column",
    "ColumnSuggestion",
]
