"""The first pass of a copy or dump for set-dependent rules (unique pseudonyms): one state for the whole database.

Every table whose masker needs it is read once, only the columns those rules read (and the key the subset filters
by); all tables' states are merged into one, so a referenced key and every column referencing it (orphan values
included) are masked from the same set, and the same value gets the same unique pseudonym in every table and lane.
"""

from janedoe.sqldb.subset import keep_filter


def prepare_set_dependent_rules(plan, reader, kept: dict, batch_size: int) -> None:
    from janedoe.masking import PrepassAccumulator

    needing = [name for name in plan.order.tables if plan.maskers[name].needs_prepass]
    if not needing:
        return
    states = PrepassAccumulator()
    for name in needing:
        table, masker, kept_keys = plan.schema.tables[name], plan.maskers[name], kept.get(name)
        columns = list(masker.prepass_columns)
        if kept_keys is not None:
            columns += [c for c in table.primary_key if c not in columns]
        for batch in reader.read_batches(table, columns=columns, batch_size=batch_size):
            if kept_keys is not None:
                batch = batch.filter(keep_filter(batch, table.primary_key, kept_keys))
            if batch.num_rows:
                states.add(masker.observe(batch))
    state = states.result()
    for name in needing:
        plan.maskers[name].use_prepass(state)
