"""Differentially private synthetic data (MST, AIM), fake test data, real-versus-synthetic evaluation and reports."""

from janedoe.synthetic.aim import DEFAULT_MAX_MODEL_MB, AimModel, fit_aim
from janedoe.synthetic.domain import ColumnDomain, Domain, build_domain
from janedoe.synthetic.evaluate import evaluate
from janedoe.synthetic.fake import generate_fake, generate_fake_tables
from janedoe.synthetic.marginal_source import MarginalCounts, MarginalQuery, MarginalSource
from janedoe.synthetic.mst import FittedModel, NoiseRecord, fit_mst
from janedoe.synthetic.multi_table import RelatedModel, RelatedTables, check_related, fit_related
from janedoe.synthetic.report import render_html_report, write_html_report
from janedoe.synthetic.synthesize import (
    SynthesisResult,
    check_synthesis,
    fit_synthesis_model,
    synthesis_cost,
    synthesis_rows,
    synthesize,
)

__all__ = [
    "fit_mst",
    "fit_aim",
    "fit_related",
    "check_related",
    "RelatedModel",
    "RelatedTables",
    "AimModel",
    "DEFAULT_MAX_MODEL_MB",
    "FittedModel",
    "NoiseRecord",
    "synthesize",
    "fit_synthesis_model",
    "synthesis_rows",
    "MarginalQuery",
    "MarginalCounts",
    "MarginalSource",
    "SynthesisResult",
    "synthesis_cost",
    "check_synthesis",
    "build_domain",
    "Domain",
    "ColumnDomain",
    "generate_fake",
    "generate_fake_tables",
    "evaluate",
    "write_html_report",
    "render_html_report",
]
