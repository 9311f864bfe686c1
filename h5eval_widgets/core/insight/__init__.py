"""Stage 5 of the engine: where and why a model is wrong.

Takes an evaluation's arrays (and, for saliency, its model and data). Gives metrics per slice
with intervals (:mod:`.slices`), readable rules for weak slices (:mod:`.weak_slices`), likely
label errors (:mod:`.label_issues`, cleanlab), what an image model looked at
(:mod:`.saliency`, :mod:`.explain`) and the user's tags on samples (:mod:`.tags`). The results
call these; nothing here imports the results.
"""
