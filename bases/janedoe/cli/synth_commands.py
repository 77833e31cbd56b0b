"""`janedoe synth`: differentially private synthetic tables, their HTML report, and fake fixture data.

`janedoe synth --policy P INPUT OUTPUT` is short for `janedoe synth fit --policy P INPUT OUTPUT`.
"""

from pathlib import Path
from typing import Annotated

import typer
from janedoe.cli.rendering import stderr, stdout
from janedoe.errors import JaneDoeInputError
from typer.core import TyperGroup


class _FitByDefault(TyperGroup):
    """Arguments that do not start with a sub-command name go to `fit`."""

    def parse_args(self, ctx, args):
        if args and args[0] not in self.commands and args[0] not in ("--help", "-h"):
            args = ["fit", *args]
        return super().parse_args(ctx, args)


synth_app = typer.Typer(
    cls=_FitByDefault,
    no_args_is_help=True,
    help="Differentially private synthetic data (MST, AIM), its fidelity report, and fake test data.",
)


def _table_policy(policy_path: Path, table: str | None, input_path: Path):
    from janedoe.policy import choose_table, load_policy

    return choose_table(load_policy(policy_path), table, input_path.stem, section="synthetic", where=str(policy_path))


@synth_app.command("fit")
def fit_command(
    input_path: Annotated[Path, typer.Argument(metavar="INPUT", help="The private table (CSV, Parquet, JSON Lines).")],
    output_path: Annotated[Path, typer.Argument(metavar="OUTPUT", help="Where the synthetic table goes.")],
    policy: Annotated[Path, typer.Option("--policy", help="Policy file with the table's synthetic: section.")],
    table: Annotated[str | None, typer.Option("--table", help="Policy table (default: INPUT's name).")] = None,
    rows: Annotated[int | None, typer.Option("--rows", min=0, help="Rows (default: policy, else noisy n).")] = None,
    seed: Annotated[int | None, typer.Option("--seed", help="Seed for sampling (never the noise).")] = None,
    ledger: Annotated[str | None, typer.Option("--ledger", help="Privacy ledger to spend the budget from.")] = None,
    analyst: Annotated[str | None, typer.Option("--analyst", help="Who spends (with --ledger).")] = None,
    dataset: Annotated[str | None, typer.Option("--dataset", help="Ledger dataset (default: table).")] = None,
) -> None:
    """Fit the policy's method (MST or AIM) under its budget and write a synthetic table with the input's schema."""
    from janedoe.ledger import Ledger
    from janedoe.synthetic import check_synthesis, synthesis_cost, synthesize
    from janedoe.tabular import iter_batches, read_schema, write_table_atomic

    table, entry = _table_policy(policy, table, input_path)
    if (ledger is None) != (analyst is None):
        raise JaneDoeInputError("--ledger and --analyst go together", where="--ledger")
    schema = read_schema(input_path)
    check_synthesis(schema, entry.synthetic, entry.columns)
    if ledger is not None:
        with Ledger.open(ledger) as book:
            book.spend(dataset or table, analyst, synthesis_cost(entry.synthetic), query=f"synth {table}",
                       mechanism=entry.synthetic.method)
    with stderr().status(f"fitting {entry.synthetic.method} on {input_path.name}"):
        result = synthesize(lambda: iter_batches(input_path, batch_size=1 << 18), entry.synthetic, entry.columns,
                            rows=rows, seed=seed, schema=schema)
    write_table_atomic(result.table, output_path)
    stdout().print(
        f"wrote {result.table.num_rows} synthetic rows to {output_path}: {result.method} spent epsilon="
        f"{result.epsilon:g} delta={result.delta:g} (rho={result.rho:.6g}); fit {result.fit_seconds:.2f} s, "
        f"sample {result.sample_seconds:.2f} s",
        markup=False,
    )


def _related_settings(policy_path: Path, tables: tuple[str | None, str | None], paths: tuple[Path, Path],
                      flags: dict):
    """(parent table, child table, policy, the pair's settings, where each setting came from): the policy's
    `relations:` entry for the pair, the flags given overriding it."""
    from janedoe.policy import choose_relation, load_policy

    policy = load_policy(policy_path)
    parent_table, child_table = tables
    chosen = choose_relation(policy.relations or [], parent_table, child_table, paths[0].stem, paths[1].stem,
                             where=str(policy_path))
    declared: dict = {}
    origin = {name: f"--{name.replace('_', '-')}" for name in flags}
    if chosen is not None:
        index, relation = chosen
        declared = relation.model_dump(exclude={"parent", "child"}, exclude_none=True)
        origin.update({name: f"{policy_path}: relations.{index}.{name}" for name in declared if flags[name] is None})
        parent_table, child_table = relation.parent, relation.child
    settings = {**declared, **{name: value for name, value in flags.items() if value is not None}}
    for name in ("parent_key", "foreign_key", "max_children"):
        if name not in settings:
            raise JaneDoeInputError(f"no relation in the policy pairs {paths[0].stem} and {paths[1].stem}: give "
                                    f"{origin[name]} (or declare the pair under relations:)", where=str(policy_path))
    return parent_table or paths[0].stem, child_table or paths[1].stem, policy, settings, origin


@synth_app.command("fit-related")
def fit_related_command(
    parent_path: Annotated[Path, typer.Argument(metavar="PARENT", help="The parent table, one row per person.")],
    child_path: Annotated[Path, typer.Argument(metavar="CHILD", help="The child table (e.g. orders).")],
    parent_output: Annotated[Path, typer.Argument(metavar="PARENT_OUT", help="Where the synthetic parents go.")],
    child_output: Annotated[Path, typer.Argument(metavar="CHILD_OUT", help="Where the synthetic children go.")],
    policy: Annotated[Path, typer.Option("--policy", help="Policy with both tables' columns and their relations: "
                                         "entry; the parent's synthetic: section is the budget for the pair.")],
    parent_key: Annotated[str | None, typer.Option("--parent-key", help="PARENT's key column (default: "
                                                   "the policy's relation).")] = None,
    foreign_key: Annotated[str | None, typer.Option("--foreign-key", help="CHILD's column referencing it.")] = None,
    max_children: Annotated[int | None, typer.Option("--max-children", help="Children kept per parent (the "
                                                     "bound).")] = None,
    context: Annotated[list[str] | None, typer.Option("--context", help="Parent column the children depend on "
                                                      "(repeatable, most important first).")] = None,
    child_key: Annotated[str | None, typer.Option("--child-key", help="CHILD's own key (renumbered).")] = None,
    parent_table: Annotated[str | None, typer.Option("--parent-table", help="Policy table (default: the "
                                                     "relation's, else PARENT's name).")] = None,
    child_table: Annotated[str | None, typer.Option("--child-table", help="Policy table (default: the "
                                                    "relation's, else CHILD's name).")] = None,
    parents: Annotated[int | None, typer.Option("--parents", min=0, help="Parents (default: noisy n).")] = None,
    parent_share: Annotated[float | None, typer.Option("--parent-share", help="Share of the budget for the parent "
                                                       "fit (default: the relation's, else 0.5).")] = None,
    seed: Annotated[int | None, typer.Option("--seed", help="Seed for sampling (never the noise).")] = None,
    ledger: Annotated[str | None, typer.Option("--ledger", help="Privacy ledger to spend the budget from.")] = None,
    analyst: Annotated[str | None, typer.Option("--analyst", help="Who spends (with --ledger).")] = None,
    dataset: Annotated[str | None, typer.Option("--dataset", help="Ledger dataset (default: parent "
                                                "table).")] = None,
) -> None:
    """Synthesize a parent table and its child table under one budget per person, with fresh consistent keys.

    The pair's keys, bound and context come from the policy's `relations:` entry; flags override them."""
    from janedoe.ledger import Ledger
    from janedoe.synthetic import check_related, fit_related, synthesis_cost
    from janedoe.tabular import read_schema, read_table, write_table_atomic

    flags = dict(parent_key=parent_key, foreign_key=foreign_key, max_children=max_children, context=context,
                 child_key=child_key, parent_share=parent_share)
    parent_table, child_table, loaded, settings, origin = _related_settings(
        policy, (parent_table, child_table), (parent_path, child_path), flags)
    for table in (parent_table, child_table):
        if table not in loaded.tables:
            raise JaneDoeInputError("no such table in the policy", where=f"{policy}: tables.{table}")
    parent_entry, child_entry = loaded.tables[parent_table], loaded.tables[child_table]
    section = parent_entry.synthetic
    if section is None:
        raise JaneDoeInputError("the parent table has no synthetic section", where=f"{policy}: tables.{parent_table}")
    if (ledger is None) != (analyst is None):
        raise JaneDoeInputError("--ledger and --analyst go together", where="--ledger")
    parent_schema, child_schema = read_schema(parent_path), read_schema(child_path)
    for name, path, schema in (("parent_key", parent_path, parent_schema), ("foreign_key", child_path, child_schema),
                               ("child_key", child_path, child_schema)):
        if settings.get(name) is not None and settings[name] not in schema.names:
            raise JaneDoeInputError(f"{settings[name]!r} is not a column of {path.name}", where=origin[name])
    parent_key, foreign_key, child_key = settings["parent_key"], settings["foreign_key"], settings.get("child_key")
    max_children = settings["max_children"]
    options = dict(
        parent_key=parent_key, foreign_key=foreign_key, context=settings.get("context") or [],
        max_children=max_children,
        parent_columns={n: parent_entry.columns.get(n) for n in parent_schema.names if n != parent_key},
        child_columns={n: child_entry.columns.get(n) for n in child_schema.names if n not in (foreign_key, child_key)},
        epsilon=section.epsilon, delta=section.delta, method=section.method, child_key=child_key,
        **({"parent_share": settings["parent_share"]} if "parent_share" in settings else {}))
    check_related(parent_schema, child_schema, **options)
    if ledger is not None:
        with Ledger.open(ledger) as book:
            book.spend(dataset or parent_table, analyst, synthesis_cost(section),
                       query=f"synth fit-related {parent_table} {child_table}", mechanism=section.method)
    with stderr().status(f"fitting {section.method} on {parent_path.name} and {child_path.name}"):
        model = fit_related(read_table(parent_path), read_table(child_path), **options)
        synthetic = model.sample(parents, rng=seed)
    write_table_atomic(synthetic.parents, parent_output)
    write_table_atomic(synthetic.children, child_output)
    stdout().print(
        f"wrote {synthetic.parents.num_rows} synthetic parents to {parent_output} and {synthetic.children.num_rows} "
        f"children to {child_output}: {model.method} spent epsilon={model.epsilon:g} delta={model.delta:g} "
        f"(rho={model.rho_spent:.6g}, at most {max_children} children per parent)",
        markup=False,
    )


@synth_app.command("report")
def report_command(
    real_path: Annotated[Path, typer.Argument(metavar="REAL", help="The private table the synthetic one came from.")],
    synthetic_path: Annotated[Path, typer.Argument(metavar="SYNTH", help="The synthetic table to compare.")],
    output_path: Annotated[Path, typer.Argument(metavar="OUT.html", help="Where the HTML report goes.")],
    target: Annotated[str | None, typer.Option("--target", help="Column to predict (TSTR test).")] = None,
    policy: Annotated[Path | None, typer.Option("--policy", help="Show this policy table's synthetic budget.")] = None,
    table: Annotated[str | None, typer.Option("--table", help="Policy table (default: REAL's name).")] = None,
) -> None:
    """Write a self-contained HTML report comparing REAL and SYNTH (it reads the real data: keep it internal)."""
    from janedoe.synthetic import synthesis_cost, write_html_report
    from janedoe.tabular import read_table

    privacy = None
    if policy is not None:
        name, entry = _table_policy(policy, table, real_path)
        privacy = {"table": name, **entry.synthetic.model_dump(exclude_none=True),
                   "rho (zCDP budget)": synthesis_cost(entry.synthetic).rho}
    if not output_path.parent.is_dir():
        raise JaneDoeInputError("the output directory does not exist", where=str(output_path))
    real, synthetic = read_table(real_path), read_table(synthetic_path)
    with stderr().status("comparing tables"):
        write_html_report(real, synthetic, output_path, privacy=privacy, target=target)
    stdout().print(f"wrote {output_path}", markup=False)


@synth_app.command("fake")
def fake_command(
    schema_path: Annotated[Path, typer.Argument(metavar="SCHEMA", help="YAML: tables: {name: {rows, columns}}.")],
    output_dir: Annotated[Path, typer.Argument(metavar="OUTDIR", help="Existing directory for the tables.")],
    seed: Annotated[int, typer.Option("--seed", help="Seed of the fake values (same seed, same tables).")] = 0,
    file_format: Annotated[str, typer.Option("--format", help="csv, parquet or jsonl.")] = "csv",
) -> None:
    """Non-private fake tables for fixtures, one file per table (OUTDIR/<table>.<format>)."""
    from janedoe.synthetic import generate_fake_tables
    from janedoe.tabular import write_table_atomic
    from yaml import YAMLError, safe_load

    if file_format not in ("csv", "parquet", "jsonl"):
        raise JaneDoeInputError("format must be csv, parquet or jsonl", where="--format")
    try:
        spec = safe_load(schema_path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise JaneDoeInputError("no such schema file", where=str(schema_path)) from None
    except (OSError, UnicodeDecodeError, YAMLError):
        raise JaneDoeInputError("cannot read the schema as YAML", where=str(schema_path)) from None
    if not output_dir.is_dir():
        raise JaneDoeInputError("the output directory does not exist", where=str(output_dir))
    tables = generate_fake_tables(spec, seed=seed)
    for name, fake in tables.items():
        write_table_atomic(fake, output_dir / f"{name}.{file_format}")
        stdout().print(f"wrote {fake.num_rows} rows to {output_dir / f'{name}.{file_format}'}", markup=False)
