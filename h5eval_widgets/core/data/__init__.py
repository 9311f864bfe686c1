"""Stage 1 of the engine: what a test set is and how each kind is read.

Takes a test set as the user gives it: arrays, an ``.npz``/``.npy``/HDF5 file, a CSV or Parquet
table, a folder of photos (one sub-folder per class), a dict of named inputs, a DataFrame or a
``tf.data.Dataset``. Gives a read-only :class:`~.datasets.Dataset`: inputs read on demand
(:mod:`.sources`, :mod:`.images`), labels, class names and per-sample metadata, with a content
digest for the prediction cache. Nothing here runs a model.

Modules, in the order a file is read: :mod:`.sources` (inputs read on demand), :mod:`.images`
(image files decoded at one size), :mod:`.preprocessing` (what ``preprocess=`` means),
:mod:`.readers` (one reader per file kind), :mod:`.datasets` (:func:`~.datasets.load_dataset`),
:mod:`.rows` (some rows of a dataset).
"""
