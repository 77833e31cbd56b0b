"""The policy's role-based (dynamic) masking part: top-level `roles:`.

Each role names, per table and column, the masking rule it sees instead of the column's default `mask`
(`owner: {raw: true}` sees raw values). Owned by the API work; the root model in this brick imports it.
"""

from typing import Any

from pydantic import BaseModel, ConfigDict


class RoleSection(BaseModel):
    model_config = ConfigDict(extra="forbid")
    raw: bool = False
    tables: dict[str, dict[str, dict[str, Any]]] = {}
