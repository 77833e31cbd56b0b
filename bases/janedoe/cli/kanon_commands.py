"""`janedoe kanon`: measure re-identification risk of a table, or enforce a policy's k_anonymity section."""

import json
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from janedoe.cli.rendering import stderr, stdout
from janedoe.errors import JaneDoeInputError
from janedoe.option_parsing import comma_separated_names

if TYPE_CHECKING:
    from rich.progress import Progress

kanon_app = typer.Typer(
    help="k-anonymity, l-diversity, t-closeness: measure a table, or generalize it until it complies.",
    no_args_is_help=True,
)

K_NOT_MET_EXIT = 3


def _spinner(description: str) -> "Progress":
    """A transient spinner on stderr (only on a terminal): the search can take seconds on big lattices."""
    from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

    progress = Progress(
        SpinnerColumn(), TextColumn(description), TimeElapsedColumn(),
        console=stderr(), transient=True, disable=not stderr().is_terminal,
    )
    progress.add_task(description, total=None)
    return progress


def _print_measurement(result: dict) -> None:
    stdout().print(f"records: {result['records']:,}   classes: {result['classes']:,}   k: {result['k']}")
    if result["below_k"] is not None:
        below = result["below_k"]
        verdict = "met" if result["k_met"] else "NOT met"
        stdout().print(
            f"k={below['k']} {verdict}: {below['records']:,} records ({below['share']:.2%}) in classes smaller than k"
        )
    prosecutor = result["risk"]["prosecutor"]
    uniques = result["risk"]["sample_uniques"]
    stdout().print(
        f"prosecutor risk: max {prosecutor['max']:.4f}, average {prosecutor['average']:.4f}, "
        f"{prosecutor['share_above_threshold']:.2%} of records above {prosecutor['threshold']}"
    )
    stdout().print(f"sample uniques: {uniques['records']:,} ({uniques['share']:.2%})")
    for item in result["sensitive"]:
        recursive = item["recursive_c_l"]
        stdout().print(
            f"sensitive {item['column']}: distinct l {item['distinct_l']}, entropy l {item['entropy_l']:.3f}, "
            f"recursive ({recursive['c']:g},l) l {recursive['l']}, t ({item['t_distance']}) {item['t']:.4f}"
        )
    sizes = result["class_size_distribution"]
    shown = ", ".join(f"{row['size']}:{row['classes']}" for row in sizes[:10])
    more = f", ... ({len(sizes) - 10} more sizes)" if len(sizes) > 10 else ""
    stdout().print(f"class sizes (size:classes): {shown}{more}")


@kanon_app.command("check")
def check(
    input_path: Annotated[Path, typer.Argument(metavar="INPUT", help="CSV, Parquet or JSON Lines file to measure.")],
    qi: Annotated[str, typer.Option("--qi", help="Quasi-identifier columns, comma-separated.")],
    sensitive: Annotated[
        str | None, typer.Option("--sensitive", help="Sensitive columns for l-diversity / t-closeness.")
    ] = None,
    k: Annotated[
        int | None, typer.Option("--k", min=1, help=f"Required k: exit {K_NOT_MET_EXIT} when not met.")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the measurement as JSON.")] = False,
) -> None:
    """Measure k, class sizes, l, t and re-identification risk of a table as it is."""
    from janedoe.k_anonymity import measure
    from janedoe.tabular import read_table

    quasi_identifiers = comma_separated_names(qi)
    if not quasi_identifiers:
        raise JaneDoeInputError("--qi names no column")
    table = read_table(input_path)
    with _spinner("measuring"):
        result = measure(table, quasi_identifiers, comma_separated_names(sensitive), k)
    if as_json:
        stdout().print_json(json.dumps(result.to_dict()))
    else:
        _print_measurement(result.to_dict())
    if not result.k_met:
        raise SystemExit(K_NOT_MET_EXIT)


def _write_json_atomic(document: dict, path: Path) -> None:
    from janedoe.tabular import write_text_atomic

    write_text_atomic(json.dumps(document, indent=2), path)


@kanon_app.command("apply")
def apply(
    input_path: Annotated[Path, typer.Argument(metavar="INPUT", help="Table file to anonymize (unchanged).")],
    output_path: Annotated[Path, typer.Argument(metavar="OUTPUT", help="Output file; format from its extension.")],
    policy: Annotated[Path, typer.Option("--policy", "-p", help="Policy YAML with a k_anonymity section.")],
    table: Annotated[
        str | None, typer.Option("--table", "-t", help="Table of the policy to apply (default: INPUT's stem).")
    ] = None,
    seed: Annotated[
        int | None,
        typer.Option(
            "--seed",
            help="Seed for random masking rules and the output's row order; the order is reproducible only with the "
            "policy's secret set (without it the order comes from the OS CSPRNG).",
        ),
    ] = None,
) -> None:
    """Mask per the policy, then generalize the quasi-identifiers; writes OUTPUT (rows shuffled) and
    OUTPUT.report.json."""
    from janedoe.k_anonymity import anonymize_with_policy
    from janedoe.policy import load_policy
    from janedoe.tabular import read_table, write_table_atomic

    if output_path.exists() and input_path.exists() and output_path.resolve() == input_path.resolve():
        raise JaneDoeInputError("the output must not be the input (sources are never modified)", where=str(output_path))
    loaded = load_policy(policy)
    table_name = table or input_path.stem
    source = read_table(input_path)
    with _spinner(f"anonymizing {input_path.name}"):
        result = anonymize_with_policy(loaded, table_name, source, policy, seed=seed)
    report_path = output_path.with_name(output_path.name + ".report.json")
    write_table_atomic(result.table, output_path)
    try:
        _write_json_atomic(result.report, report_path)
    except BaseException:
        output_path.unlink(missing_ok=True)
        raise
    report = result.report
    if seed is not None and report["row_order"] != "keyed":
        stderr().print("note: no secret is set, so --seed does not reproduce the row order (drawn at random)")
    stdout().print(
        f"wrote {report['records_out']:,} of {report['records_in']:,} rows to {output_path} "
        f"(k={report['achieved']['k']}, suppressed {report['utility']['suppressed_records']:,}, "
        f"loss {report['utility']['loss']:.4f}); report: {report_path}"
    )
