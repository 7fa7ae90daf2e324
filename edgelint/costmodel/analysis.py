"""Analyse projects as `edgelint check` does (same discovery, settings and cache), keeping the
analysed model that the check itself lets go once its findings are made."""
from __future__ import annotations

from pathlib import Path
import os
from functools import partial
from typing import List, Sequence

import libcst as cst

from edgelint.costmodel.routes import Chain, Position, ProjectModel
from edgelint.discovery import Governing
from edgelint.engine import ProjectRun
from edgelint.model.operations import Operation
from edgelint.model.project import ModuleInfo
from edgelint.projects import CachedProject, filter_findings, group_projects


def model_projects(paths: Sequence[str], governing: Governing, fallback_root: Path,
                   use_cache: bool = True) -> List[ProjectModel]:
    """One model per project of `paths`, with the findings `check` reports attached to its routes.
    The result cache answers for a project whose files did not change since it kept its routes
    (beside the check's findings: `CachedProject.store_model`); otherwise the analysis runs whole
    (every root's operations are needed) and leaves both the check's entry and the routes."""
    models = []
    for group in group_projects(paths, governing, fallback_root):
        cached = CachedProject(group, True) if use_cache else None
        found = cached.model() if cached is not None else None
        if found is not None:
            findings, model = found
            spelling = {os.path.abspath(path): path for path in group.sources}
            model = model.spelled(lambda path: spelling.get(path, path))
            model.settings = group.settings  # its `model` options (prices) are read as they are now
        else:
            run = ProjectRun(group, remember=use_cache, keep_project=True)
            findings = run.run()
            model = ProjectModel(run.project, partial(_chain, run), group.settings) if run.project else None
            if cached is not None:
                cached.store(findings, run.memory)
                if model is not None:
                    cached.store_model(model.spelled(os.path.abspath))
        if model is None:
            continue
        model.attach(filter_findings(findings, governing, group.sources, True))
        models.append(model)
    return models


def _chain(run: ProjectRun, op: Operation) -> Chain:
    """Where the operation and each call on its way from the root are, innermost first: the shape
    of a finding's subjects."""
    places = [_place(run, op.module, op.node, op.part)]
    for frame in reversed(op.context.frames[1:]):
        if frame.call is not None and frame.caller is not None:
            places.append(_place(run, frame.caller, frame.call, frame.part))
    return tuple(places)


def _place(run: ProjectRun, module: ModuleInfo, node: cst.CSTNode, part: int) -> Position:
    return module.path, run.position_index(run.modules[module.path]).span(node, part)[0]
