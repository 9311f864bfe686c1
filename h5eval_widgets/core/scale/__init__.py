"""Stage 4 of the engine: inference elsewhere. A Dask cluster, or predictions a batch job wrote.

Takes a model and data too large for one process (files by path or fsspec URL, Dask arrays and
dataframes) and a ``dask.distributed.Client``, or Parquet/CSV files of predictions. Gives the same
outputs, in the same order, as the in-process pass (:mod:`.distributed`, with the workers' side
in :mod:`.cluster_worker` and :mod:`.cluster_inputs`), or labels and probabilities read in chunks
(:mod:`.predictions_file`), joined to their test set by id (:mod:`.predictions_join`) and handed
to a results constructor (:mod:`.predictions_eval`).
"""
