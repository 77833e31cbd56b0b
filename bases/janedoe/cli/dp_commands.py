"""`janedoe dp query | budget`: parse options, call janedoe.dp_noise and janedoe.ledger, render. No privacy logic."""

import json
from pathlib import Path

import typer
from janedoe.cli.rendering import plain_line, plain_table, stdout
from janedoe.errors import JaneDoeInputError

dp_app = typer.Typer(help="Differentially private answers with a persisted privacy budget.", no_args_is_help=True)

LEDGER_HELP = "ledger file path, sqlite:///PATH or postgresql://... (or env JANEDOE_LEDGER, to keep passwords off argv)"


def _number(value) -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{value:.6g}"
    return str(value)


def _ci(ci) -> str:
    return f"[{_number(ci[0])}, {_number(ci[1])}]" if ci else "-"


@dp_app.command("query")
def query(
    input_path: str = typer.Argument(..., metavar="INPUT", help="CSV, Parquet or JSON Lines file"),
    expression: str = typer.Argument(..., help='count | "sum(col)" | "mean(col)" | "histogram(col)" | ...'),
    policy_path: str = typer.Option(..., "--policy", help="policy with the table's dp: section and column bounds"),
    ledger_location: str = typer.Option(..., "--ledger", envvar="JANEDOE_LEDGER", help=LEDGER_HELP),
    analyst: str = typer.Option(..., "--analyst", help="who is asking (budgets are per dataset and analyst)"),
    epsilon: float = typer.Option(..., "--epsilon", help="privacy cost of this query"),
    delta: float = typer.Option(0.0, "--delta", help="> 0 for Gaussian noise or keys not listed in the policy"),
    by: str | None = typer.Option(None, "--by", help="answer per group of this column"),
    table: str | None = typer.Option(None, "--table", help="policy table (default: the one with a dp: section)"),
    dataset: str | None = typer.Option(None, "--dataset", help="ledger dataset name (default: the table name)"),
    as_json: bool = typer.Option(False, "--json", help="print the answer as JSON"),
) -> None:
    """Answer one query with differential privacy; the budget is spent first, then the noise is drawn."""
    from janedoe.dp_noise import plan_query, run_query
    from janedoe.ledger import Ledger
    from janedoe.policy import choose_table, load_policy
    from janedoe.tabular import read_schema, read_table

    policy = load_policy(policy_path)
    table_name, table_policy = choose_table(policy, table, Path(input_path).stem, section="dp", where=policy_path)
    section = table_policy.dp
    dataset = dataset or table_name
    with Ledger.open(ledger_location) as ledger:
        if not ledger.budgets(dataset, analyst):
            ledger.set_budget(dataset, analyst, epsilon=section.epsilon, delta=section.delta or 0.0, rho=section.rho)
        options = dict(epsilon=epsilon, delta=delta, section=section, columns_bounds=table_policy.columns, by=by)
        # the plan needs only the schema: an analyst who cannot pay is refused before the whole file is read
        ledger.check_affordable(dataset, analyst, plan_query(read_schema(input_path), expression, **options).cost)
        data = read_table(input_path)

        def charge(cost, mechanism):
            ledger.spend(dataset, analyst, cost, query=expression, mechanism=mechanism)

        answer = run_query(data, expression, charge=charge, **options)
        budget = ledger.budget(dataset, analyst)
    if as_json:
        typer.echo(json.dumps({"answer": answer.to_dict(), "budget": budget.to_dict()}, default=str))
        return
    if answer.groups is None:
        stdout().print(f"{answer.query} = {_number(answer.value)}   95% CI {_ci(answer.ci_95)}", markup=False)
    else:
        from rich.table import Table

        grid = Table(title=answer.query)
        grid.add_column("key")
        grid.add_column("value", justify="right")
        grid.add_column("95% CI", justify="right")
        for group in answer.groups:
            grid.add_row(str(group.key), _number(group.value), _ci(group.ci_95))
        stdout().print(grid)
    for noise in answer.noise:
        stdout().print("noise: " + ", ".join(f"{k} {_number(v)}" for k, v in noise.items()), markup=False)
    for note in answer.notes:
        stdout().print(f"note: {note}", markup=False)
    stdout().print(
        f"spent {_number(answer.cost.epsilon)} epsilon ({answer.mechanism}); remaining budget "
        f"{_number(budget.remaining)} of {_number(budget.total)} {budget.unit} for {dataset}/{analyst}",
        markup=False,
    )


@dp_app.command("budget")
def budget(
    ledger_location: str = typer.Option(..., "--ledger", envvar="JANEDOE_LEDGER", help=LEDGER_HELP),
    dataset: str | None = typer.Option(None, "--dataset", help="only this dataset (default: all)"),
    analyst: str | None = typer.Option(None, "--analyst", help="only this analyst (default: all)"),
    set_epsilon: float | None = typer.Option(None, "--set-epsilon", help="set the budget (needs dataset, analyst)"),
    set_delta: float = typer.Option(0.0, "--set-delta", help="delta of the budget set with --set-epsilon"),
    set_rho: float | None = typer.Option(None, "--set-rho", help="set a zCDP budget in rho (needs dataset, analyst)"),
    as_json: bool = typer.Option(False, "--json", help="print budgets and spends as JSON"),
) -> None:
    """Show budgets (total, spent, remaining) and the spend log; optionally set a budget first."""
    from janedoe.ledger import read_ledger

    if set_epsilon is not None or set_rho is not None:
        if dataset is None or analyst is None:
            raise JaneDoeInputError("setting a budget needs --dataset and --analyst", where="budget")
        from janedoe.ledger import Ledger

        with Ledger.open(ledger_location) as ledger:
            ledger.set_budget(dataset, analyst, epsilon=set_epsilon, delta=set_delta, rho=set_rho)
    budgets, spends = read_ledger(ledger_location, dataset, analyst)
    if as_json:
        typer.echo(json.dumps({"budgets": [b.to_dict() for b in budgets], "spends": [s.to_dict() for s in spends]}))
        return
    plain_table("privacy budgets", ["dataset", "analyst", "unit", "total", "spent", "remaining", "delta spent"],
                [[b.dataset, b.analyst, b.unit, _number(b.total), _number(b.spent), _number(b.remaining),
                  f"{_number(b.spent_delta)} of {_number(b.total_delta)}"] for b in budgets])
    plain_line("")
    plain_table("spends", ["#", "at", "dataset", "analyst", "query", "mechanism", "charged"],
                [[str(s.id), s.at, s.dataset, s.analyst, s.query, s.mechanism, _number(s.charged)] for s in spends])
