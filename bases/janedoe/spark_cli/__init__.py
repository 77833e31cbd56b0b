"""The `janedoe-spark` command-line base: the CLI's jobs on Apache Spark, with the same policy file."""

from janedoe.spark_cli.app import app, main

__all__ = ["app", "main"]
