"""The engine's arithmetic: metric functions and the indexes that answer questions fast.

Takes plain arrays: labels, predictions, scores, confusion matrices. Gives numbers equal to
scikit-learn's, vectorized: metrics from a confusion matrix and from sorted scores
(:mod:`.functions`, :mod:`.ranking`), a threshold index answering any threshold from one sort
(:mod:`.threshold`), bootstrap draws (:mod:`.resampling`), label encoding and tasks
(:mod:`.labels`), per-cell sample lookups (:mod:`.cells`) and the dashboard's questions of an
evaluation (:mod:`.queries`). Imports nothing above :mod:`h5eval_widgets.core.errors`.
"""
