"""`berth apply`: one resource reconciled with a JSON desired state (docs/apply.md).

    run.py                 envelope checks (api version, kind, options), dispatch, per-resource lock
    models.py              pydantic spec models (extra="forbid"); the container one derived from
    container_options.py   the docker_container option table: each option declared once as data
    normalize.py           user forms -> Docker API values ("512m", "1m30s", "-p" forms, ...)
    compare.py             one comparator (strict / ignore / allow_more_present), DifferenceTracker
    container.py           plan from the live record, then act unless check mode
    image.py network.py volume.py login.py readers.py   the other kinds
    edge.py                the only calls into the engine packages (faked in unit tests)
    remote.py              registry look-up of a tag's image id (manifest only)
    schema.py              engine/schemas/<kind>.json generation

Nothing here is imported by other verbs; pydantic is imported only by models.py.
"""
