"""The policy's role-based (dynamic) masking part: top-level `roles:`, as PostgreSQL Anonymizer does it per role.

```yaml
roles:
  owner:   {raw: true}                                   # sees original values
  support:                                               # per table and column: the rule this role sees instead
    tables: {customers: {email: {mask: partial_email}}}  # of the column's default `mask`
  analyst: {}                                            # named, no overrides: every column's default `mask`
  researcher: {review_jobs: true}                        # may also submit review-mode jobs (they read raw rows)
```
A role the policy does not name sees nothing (`role_rules` raises NotFoundError; the API answers 403). Owned by the
API work; the root model in this brick imports it, validates each column rule as a mask rule, and `role_rules`
resolves a role's effective rules.
"""

from typing import Any

from pydantic import BaseModel, ConfigDict, Field, model_validator


class RoleSection(BaseModel):
    """What one API role sees: `raw` data, or per table and column rules that replace the policy's own."""

    model_config = ConfigDict(extra="forbid")
    description: str | None = None
    raw: bool = False
    tables: dict[str, dict[str, Any]] = Field(default_factory=dict)  # table -> column -> mask rule
    # May submit review-mode analysis jobs: their code reads the raw table (outputs are checked and reviewed). A role
    # that sees masked rows must not get the raw table through a job, so this is off unless the policy says so.
    review_jobs: bool = False

    @model_validator(mode="after")
    def _raw_or_rules(self):
        if self.raw and self.tables:
            raise ValueError("a role with `raw: true` sees every column unmasked: give `raw` or `tables`, not both")
        return self

