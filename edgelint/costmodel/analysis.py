"""Analyse projects as `edgelint check` does (same discovery, settings and cache), keeping the
analysed model that the check itself throws away once its findings are made."""
from __future__ import annotations

from pathlib import Path
from typing import List, Optional, Sequence

from edgelint.costmodel.routes import Position, ProjectModel
from edgelint.discovery import Governing
from edgelint.engine import ProjectRun, group_projects
from edgelint.model.operations import Operation
from edgelint.model.project import Project
from edgelint.projects import CachedProject, filter_findings


class _KeepingRun(ProjectRun):
    """A project run that keeps its analysed project."""

    project: Optional[Project] = None

    def _run_rules(self, project: Project, previous) -> None:
        self.project = project
        super()._run_rules(project, previous)

    def position(self, op: Operation) -> Position:
        span = self._position_index(self.modules[op.module.path]).span(op.node, op.part)
        return op.module.path, span[0]


def model_projects(paths: Sequence[str], governing: Governing, fallback_root: Path,
                   use_cache: bool = True) -> List[ProjectModel]:
    """One model per project of `paths`, with the findings `check` reports attached to its routes.
    The analysis runs whole (operations are not cached), and leaves the check's cache entry."""
    models = []
    for group in group_projects(paths, governing, fallback_root):
        run = _KeepingRun(group, remember=use_cache)
        findings = run.run()
        if use_cache:
            CachedProject(group, True).store(findings, run.memory)
        if run.project is None:
            continue
        model = ProjectModel(run.project, run.position, group.settings)
        model.attach(filter_findings(findings, governing, group.sources, True))
        models.append(model)
    return models
