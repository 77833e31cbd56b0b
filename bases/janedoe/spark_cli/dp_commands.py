"""`janedoe-spark dp query`: parse options, call janedoe.spark_engine and janedoe.ledger, render. No privacy logic."""

import json
from typing import Annotated

import typer
from janedoe.spark_cli.rendering import (
    DelimiterOption,
    FormatOption,
    InputArgument,
    MasterOption,
    PolicyOption,
    spark_progress,
    stdout,
)

dp_app = typer.Typer(help="Differentially private answers on Spark, charged to the CLI's and API's ledger.",
                     no_args_is_help=True)

LEDGER_HELP = "ledger file path, sqlite:///PATH or postgresql://... (or env JANEDOE_LEDGER, to keep passwords off argv)"


def _number(value) -> str:
    if value is None:
        return "-"
    return f"{value:.6g}" if isinstance(value, float) else str(value)


@dp_app.command("query")
def query(
    input_path: InputArgument,
    expression: Annotated[str, typer.Argument(help='count | "sum(col)" | "mean(col)" | "histogram(col)" | ...')],
    policy: PolicyOption,
    ledger_location: Annotated[str, typer.Option("--ledger", envvar="JANEDOE_LEDGER", help=LEDGER_HELP)],
    analyst: Annotated[str, typer.Option("--analyst", help="Who is asking (budgets are per dataset and analyst).")],
    epsilon: Annotated[float, typer.Option("--epsilon", help="Privacy cost of this query.")],
    delta: Annotated[float, typer.Option("--delta", help="> 0 for Gaussian noise or keys not in the policy.")] = 0.0,
    by: Annotated[str | None, typer.Option("--by", help="Answer per group of this column.")] = None,
    table: Annotated[str | None, typer.Option("--table", help="Policy table (default: the one with dp:).")] = None,
    dataset: Annotated[str | None, typer.Option("--dataset", help="Ledger dataset (default: the table).")] = None,
    master: MasterOption = "local[*]",
    input_format: FormatOption = None,
    delimiter: DelimiterOption = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the answer as JSON.")] = False,
) -> None:
    """Answer one query with differential privacy on Spark; the budget is spent first, then the noise is drawn once."""
    from janedoe.dp_noise import query_cost
    from janedoe.ledger import Ledger
    from janedoe.policy import choose_table, load_policy
    from janedoe.spark_engine import dataset_location, read_dataset, spark_query

    loaded = load_policy(policy)
    source = dataset_location(input_path, format=input_format, where="INPUT")
    table_name, table_policy = choose_table(loaded, table, source.name, section="dp", where=policy)
    section = table_policy.dp
    dataset = dataset or table_name
    options = dict(epsilon=epsilon, delta=delta, section=section, columns_bounds=table_policy.columns, by=by)
    with Ledger.open(ledger_location) as ledger:
        if not ledger.budgets(dataset, analyst):
            ledger.set_budget(dataset, analyst, epsilon=section.epsilon, delta=section.delta or 0.0, rho=section.rho)
        # refused before Spark starts or reads a byte: inferring a CSV's schema alone scans the whole file
        ledger.check_affordable(dataset, analyst, query_cost(expression, **options))

        def precheck(cost):  # the planned cost, before the query's job
            ledger.check_affordable(dataset, analyst, cost)

        def charge(cost, mechanism):
            ledger.spend(dataset, analyst, cost, query=expression, mechanism=mechanism)

        with spark_progress(master, f"dp query on {source.name}") as spark:
            frame = read_dataset(spark, source, delimiter=delimiter)
            answer = spark_query(frame, expression, **options, charge=charge, precheck=precheck)
        budget = ledger.budget(dataset, analyst)
    if as_json:
        typer.echo(json.dumps({"answer": answer.to_dict(), "budget": budget.to_dict()}, default=str))
        return
    if answer.groups is None:
        ci = answer.ci_95
        stdout.print(f"{answer.query} = {_number(answer.value)}   95% CI "
                     f"{f'[{_number(ci[0])}, {_number(ci[1])}]' if ci else '-'}", markup=False)
    else:
        for group in answer.groups:
            stdout.print(f"{group.key}\t{_number(group.value)}", markup=False)
    for note in answer.notes:
        stdout.print(f"note: {note}", markup=False)
    stdout.print(f"spent {_number(answer.cost.epsilon)} epsilon ({answer.mechanism}); remaining budget "
                 f"{_number(budget.remaining)} of {_number(budget.total)} {budget.unit} for {dataset}/{analyst}",
                 markup=False)
