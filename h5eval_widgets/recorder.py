"""``h5eval_widgets.TrainingRecorder``: the engine's recorder, which can also open its dashboard."""

from __future__ import annotations

from .core.training import TrainingRecorder as _EngineRecorder

__all__ = ["TrainingRecorder"]


class TrainingRecorder(_EngineRecorder):
    __doc__ = _EngineRecorder.__doc__

    def dashboard(self, **kwargs):
        """The dashboard of the recorded epochs (see :meth:`Dashboard.from_training
        <h5eval_widgets.app.Dashboard.from_training>`); shown before ``fit``, it follows the
        epochs as they end."""
        from .app import Dashboard

        return Dashboard.from_training(self, **kwargs)
