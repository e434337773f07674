"""Run the analysis on Dask when one machine is not enough.

``cmclassify.analyse(dask_dataframe)`` returns an :class:`~cmclassify.Analysis`
whose ``.ads``, ``.duties`` and ``.findings`` are Dask DataFrames with the same
columns as a local run. Each partition is analysed once, on a worker that loads
the spaCy pipeline and the model once (both are cached per process); the three
tables are cut from that one result, so compute them together
(``dask.compute(result.ads, result.duties)``) or ``persist()`` the analysis to
avoid running the pipeline again for each table.

Repeated ids are renamed within a partition; give ads unique ids when it matters.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd

from .analysis import Analysis
from .estimators import DutyClassifier, Models
from .flag import FlagRules
from .pipeline import analyse_local
from .tables import TABLES

_NESTED = {"duties": "_cmclassify_duties", "findings": "_cmclassify_findings"}


def _analyse_partition(partition: pd.DataFrame, text_col: str, title_col: str, id_col: str,
                       model: DutyClassifier | None, rules: FlagRules | None,
                       models: Models | None) -> pd.DataFrame:
    """The ads of one partition, each row carrying its duties and findings as lists of records."""
    result = analyse_local(partition, text_col=text_col, title_col=title_col, id_col=id_col, progress=False,
                     model=model, rules=rules, models=models)
    ads = result.ads.copy()
    for name, column in _NESTED.items():
        by_ad = {ad_id: group.to_dict("records") for ad_id, group in getattr(result, name).groupby("ad_id", sort=False)}
        ads[column] = pd.Series([by_ad.get(ad_id, []) for ad_id in ads["ad_id"]], index=ads.index, dtype=object)
    return ads


def _unnest(combined: pd.DataFrame, name: str, empty: pd.DataFrame) -> pd.DataFrame:
    records = [record for records in combined[_NESTED[name]] for record in records]
    return pd.DataFrame(records, columns=empty.columns).astype(empty.dtypes.to_dict()) if records else empty.copy()


def analyse_dask(data: Any, *, text_col: str = "description", title_col: str = "title", id_col: str = "ad_id",
                 model: DutyClassifier | None = None, rules: FlagRules | None = None,
                 models: Models | None = None) -> Analysis:
    """:func:`cmclassify.analyse` for a Dask DataFrame (lazy: nothing runs until you compute)."""
    meta_input = data._meta if hasattr(data, "_meta") else data.head(0)
    meta = _analyse_partition(meta_input, text_col, title_col, id_col, model, rules, models)
    combined = data.map_partitions(_analyse_partition, text_col, title_col, id_col, model, rules, models, meta=meta)
    empty = Analysis.from_records([], [], [])
    tables = {"ads": combined.drop(columns=list(_NESTED.values()))}
    for name in _NESTED:
        tables[name] = combined.map_partitions(_unnest, name, getattr(empty, name), meta=getattr(empty, name))
    return Analysis(**tables)


def _require_dask() -> None:
    try:
        import dask.dataframe  # noqa: F401
        import distributed  # noqa: F401
    except ImportError as exc:
        raise RuntimeError("the dask engine needs Dask: pip install 'cmclassify[dask]'") from exc


def read_dask(path: str | Path, blocksize: str = "16MB") -> Any:
    """A Dask DataFrame over a Parquet, CSV or JSONL file (or a folder of Parquet parts)."""
    _require_dask()
    import dask.dataframe as dd

    from .errors import InputError
    from .read import file_format

    path = Path(path)
    if not path.exists():
        raise InputError(f"{path}: no such file or directory")
    fmt = "parquet" if path.is_dir() else file_format(path)
    if fmt == "parquet":
        return dd.read_parquet(path)
    if fmt == "csv":
        return dd.read_csv(path, dtype=object, blocksize=blocksize, keep_default_na=False, na_values=[""])
    if fmt == "jsonl":
        return dd.read_json(path, lines=True, blocksize=blocksize)
    raise InputError(f"{path}: the dask engine reads Parquet, CSV and JSONL files, not {fmt}")


def analyse_files_dask(source: str | Path, out_dir: str | Path, *, scheduler: str | None = None,
                       text_col: str = "description", title_col: str = "title", id_col: str = "ad_id",
                       n_workers: int = 2) -> dict[str, Any]:
    """Analyse a file on a Dask cluster (a local one unless ``scheduler`` gives an address) and write
    ``ads/``, ``duties/`` and ``findings/`` as partitioned Parquet in ``out_dir``."""
    import dask
    from distributed import Client, LocalCluster

    from .output import PARTIAL, OutputFolder

    cluster = None if scheduler else LocalCluster(n_workers=n_workers, threads_per_worker=1, dashboard_address=None)
    out = Path(out_dir)
    with Client(scheduler or cluster), OutputFolder(out, list(TABLES), source=str(source)) as folder:
        try:
            result = analyse_dask(read_dask(source), text_col=text_col, title_col=title_col, id_col=id_col)
            # One compute for the three writes: each partition goes through the pipeline once.
            writes = [getattr(result, name).to_parquet(out / (name + PARTIAL), write_index=False, compute=False)
                      for name in TABLES]
            dask.compute(*writes)
            statuses = pd.read_parquet(out / ("ads" + PARTIAL), columns=["status"])["status"].value_counts().to_dict()
            rows = {name: pd.read_parquet(out / (name + PARTIAL), columns=["ad_id"]).shape[0] for name in TABLES}
            statuses = {str(k): int(v) for k, v in statuses.items()}
            folder.commit({"rows": rows, "statuses": statuses, "format": "parquet (partitioned)"})
        finally:
            if cluster is not None:
                cluster.close()
    return {"paths": [out / name for name in TABLES], "statuses": statuses, "n_ads": int(sum(statuses.values())),
            "n_duties": rows["duties"]}
