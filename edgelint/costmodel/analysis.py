"""Analyse projects as `edgelint check` does (same discovery, settings and cache), keeping the
analysed model that the check itself throws away once its findings are made."""
from __future__ import annotations

from pathlib import Path
from typing import List, Optional, Sequence

import libcst as cst

from edgelint.costmodel.routes import Chain, Position, ProjectModel
from edgelint.discovery import Governing
from edgelint.engine import ProjectRun, group_projects
from edgelint.model.operations import Operation
from edgelint.model.project import ModuleInfo, Project
from edgelint.projects import CachedProject, filter_findings


class _KeepingRun(ProjectRun):
    """A project run that keeps its analysed project."""

    project: Optional[Project] = None

    def _run_rules(self, project: Project, previous) -> None:
        self.project = project
        super()._run_rules(project, previous)

    def chain(self, op: Operation) -> Chain:
        """Where the operation and each call on its way from the root are, innermost first: the
        shape of a finding's subjects."""
        places = [self._place(op.module, op.node, op.part)]
        for frame in reversed(op.context.frames[1:]):
            if frame.call is not None and frame.caller is not None:
                places.append(self._place(frame.caller, frame.call, frame.part))
        return tuple(places)

    def _place(self, module: ModuleInfo, node: cst.CSTNode, part: int) -> Position:
        return module.path, self._position_index(self.modules[module.path]).span(node, part)[0]


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
        model = ProjectModel(run.project, run.chain, group.settings)
        model.attach(filter_findings(findings, governing, group.sources, True))
        models.append(model)
    return models
