"""Executes a notebook inside the sandbox: `python -m janedoe.sandbox.run_notebook /job/x.ipynb`.

The kernel is this same Python, started by nbclient and reached over loopback (which exists in the sandbox's empty
network namespace). The executed notebook goes to $JANEDOE_OUTPUT_DIR (/output)/<stem>.executed.ipynb, also when
a cell fails, so the author sees where.
"""

import os
import sys
from pathlib import Path


def main(arguments: list[str]) -> int:
    if len(arguments) != 1:
        print("usage: python -m janedoe.sandbox.run_notebook NOTEBOOK.ipynb", file=sys.stderr)
        return 2
    import nbformat
    from nbclient import NotebookClient
    from nbclient.exceptions import CellExecutionError

    notebook_path = Path(arguments[0])
    output_dir = Path(os.environ.get("JANEDOE_OUTPUT_DIR", "/output"))
    notebook = nbformat.read(notebook_path, as_version=4)
    client = NotebookClient(
        notebook,
        timeout=None,  # the sandbox's wall clock bounds the whole job
        kernel_name="python3",
        resources={"metadata": {"path": str(notebook_path.parent)}},
    )
    code = 0
    try:
        client.execute()
    except CellExecutionError as error:
        print(str(error).splitlines()[-1] if str(error) else "a cell failed", file=sys.stderr)
        code = 1
    target = output_dir / f"{notebook_path.stem}.executed.ipynb"
    partial = target.with_name(f".{target.name}.partial")
    nbformat.write(notebook, partial)
    os.replace(partial, target)
    return code


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
