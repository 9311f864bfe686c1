"""Stage 3 of the engine: one forward pass per (model, dataset), cached.

Takes a :class:`~h5eval_widgets.core.models.LoadedModel` and a
:class:`~h5eval_widgets.core.data.datasets.Dataset`. Gives the model's raw outputs for every
sample in order and, from the same pass, each sample's embedding and its 2-D maps, kept in the
on-disk cache so that the same pair is never predicted twice.

Modules: :mod:`.batching` (rows per forward call from a memory budget), :mod:`.feed` (inputs
matched to the model and prepared chunk by chunk), :mod:`.predict` (the pass itself),
:mod:`.embeddings` (which activations are kept), :mod:`.projection` (embeddings to 2-D maps
and the points a box or lasso takes in), :mod:`.kept_outputs` (the training recorder's per-epoch
outputs, spilled to disk past a memory bound).
"""
