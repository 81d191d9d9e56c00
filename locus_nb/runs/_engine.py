"""The papermill engine `locus-nb run` executes with: papermill's nbclient engine, writing the executed
notebook when a run starts and when it ends, not also at each cell's start and end.

Each write encodes and validates the whole notebook: twice per cell, that was half or more of what a lesson's
run cost outside its kernel, for a file nobody reads before the run ends. The write at the end happens
whatever ends the run (the last cell, a failing cell, a cell timeout, a dead kernel), so nothing executed
is lost. Imported only where a run executes, as papermill is.
"""

from __future__ import annotations

from papermill.engines import NBClientEngine, NotebookExecutionManager, papermill_engines

__all__ = ["ENGINE"]

ENGINE = "locus-nb"


class _WrittenAtTheEnds(NotebookExecutionManager):
    def save(self, **kwargs) -> None:  # papermill calls it at every cell's start and end
        pass

    def notebook_start(self, **kwargs) -> None:
        super().notebook_start(**kwargs)
        super().save()

    def notebook_complete(self, **kwargs) -> None:
        super().notebook_complete(**kwargs)
        super().save()


class _Engine(NBClientEngine):
    @classmethod
    def execute_notebook(cls, nb, kernel_name, output_path=None, progress_bar=True, log_output=False,
                         autosave_cell_every=30, **kwargs):
        """papermill's `Engine.execute_notebook`, with the manager above."""
        manager = _WrittenAtTheEnds(nb, output_path=output_path, progress_bar=progress_bar, log_output=log_output,
                                    autosave_cell_every=autosave_cell_every)
        manager.notebook_start()
        try:
            cls.execute_managed_notebook(manager, kernel_name, log_output=log_output, **kwargs)
        finally:
            manager.cleanup_pbar()
            manager.notebook_complete()
        return manager.nb


papermill_engines.register(ENGINE, _Engine)
