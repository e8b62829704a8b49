"""Pipelines (商机流程, D-OPP) and their stages: the default one seeded at install, the ones a
department is offered, and the administrator's changes. A stage's probability is the default
win rate of the opportunities in it; its kind says whether it ends them (won, lost)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import func, or_, select
from sqlalchemy.orm import selectinload

from addons.customers.pool_members import departments_of
from core.access.exceptions import RecordNotFound
from core.context import Ctx

from .exceptions import PipelineInUse, PipelineNameRequired, PipelineUnavailable, StageSetInvalid
from .models import STAGE_KINDS, Opportunity, Pipeline, Stage

ADMIN = "opportunities.settings:admin"
#: 初步接洽 → 需求确认 → 方案报价 → 谈判审核 → 赢单 / 输单, with their usual win rates.
DEFAULT_STAGES = (("初步接洽", 10, "open"), ("需求确认", 30, "open"), ("方案报价", 60, "open"),
                  ("谈判审核", 80, "open"), ("赢单", 100, "won"), ("输单", 0, "lost"))


def seed_default_pipeline(ctx: Ctx) -> None:
    """The addon's data load: one company-wide pipeline with the default stages."""
    if ctx.dbsession.scalar(select(func.count()).select_from(Pipeline)):
        return
    pipeline = Pipeline(name="默认商机流程", active=True)
    ctx.dbsession.add(pipeline)
    ctx.dbsession.flush()
    for n, (name, probability, kind) in enumerate(DEFAULT_STAGES, start=1):
        ctx.dbsession.add(Stage(pipeline_id=pipeline.id, name=name, sequence=n * 10, probability=probability,
                                kind=kind, active=True))
    ctx.dbsession.flush()


def pipelines_for(ctx: Ctx) -> list[Pipeline]:
    """The active pipelines offered to the user (company-wide ones, their department's and those
    of the departments above it), with their stages loaded; company-wide ones first."""
    condition = or_(Pipeline.department_id.is_(None), Pipeline.department_id.in_(departments_of(ctx.user)))
    if ctx.access.superuser:
        condition = Pipeline.id.is_not(None)
    return list(ctx.dbsession.scalars(select(Pipeline).where(Pipeline.active.is_(True), condition)
                                      .options(selectinload(Pipeline.stages))
                                      .order_by(Pipeline.department_id.is_not(None), Pipeline.id)))


def pipeline_for(ctx: Ctx, pipeline_id: int | None) -> Pipeline:
    """The pipeline ``pipeline_id`` if the user is offered it (the first one when None)."""
    offered = pipelines_for(ctx)
    if pipeline_id is None and offered:
        return offered[0]
    found = next((p for p in offered if p.id == pipeline_id), None)
    if found is None:
        raise PipelineUnavailable()
    return found


def open_stages(pipeline: Pipeline) -> list[Stage]:
    return [stage for stage in pipeline.stages if stage.active and stage.kind == "open"]


def all_stages(ctx: Ctx) -> dict[int, Stage]:
    """Every stage by id (the lists' and reports' labels): a short table."""
    return {stage.id: stage for stage in ctx.dbsession.scalars(select(Stage))}


def pipelines_with_counts(ctx: Ctx) -> list[tuple[Pipeline, int]]:
    """Every pipeline, active or not, with its stages and how many open opportunities it holds
    (admin; two queries): company-wide ones first, inactive ones last."""
    ctx.access.require(ADMIN)
    found = list(ctx.dbsession.scalars(select(Pipeline).options(selectinload(Pipeline.stages))
                                       .order_by(Pipeline.active.desc(), Pipeline.department_id.is_not(None),
                                                 Pipeline.id)))
    held = dict(ctx.dbsession.execute(select(Opportunity.pipeline_id, func.count()).where(
        Opportunity.status == "open", Opportunity.deleted_at.is_(None)).group_by(Opportunity.pipeline_id)).all())
    return [(pipeline, held.get(pipeline.id, 0)) for pipeline in found]


def get_pipeline(ctx: Ctx, pipeline_id: int) -> Pipeline:
    """A pipeline with its stages, active or not (admin); RecordNotFound (404) when there is none."""
    ctx.access.require(ADMIN)
    found = ctx.dbsession.scalars(select(Pipeline).where(Pipeline.id == pipeline_id)
                                  .options(selectinload(Pipeline.stages))).first()
    if found is None:
        raise RecordNotFound()
    return found


def save_pipeline(ctx: Ctx, pipeline_id: int | None = None, *, name: str, department_id: int | None,
                  active: bool, stages: Sequence[dict[str, Any]]) -> Pipeline:
    """Create or change a pipeline and its stages (admin). ``stages`` in order, each
    ``{"id"?, "name", "probability", "kind"}``; a stage left out is deactivated (its
    opportunities keep it), never deleted. Checked whole before anything is written."""
    ctx.access.require(ADMIN)
    name = (name or "").strip()
    if not name:
        raise PipelineNameRequired()
    cleaned = []
    for item in stages:
        stage_name = str(item.get("name") or "").strip()[:50]
        try:
            probability = int(item.get("probability"))
        except (TypeError, ValueError):
            raise StageSetInvalid() from None
        kind = item.get("kind") or "open"
        if not stage_name or not 0 <= probability <= 100 or kind not in STAGE_KINDS:
            raise StageSetInvalid()
        cleaned.append((item.get("id"), stage_name, probability, kind))
    if {kind for *_rest, kind in cleaned} != set(STAGE_KINDS):
        raise StageSetInvalid()
    if pipeline_id is None:
        pipeline = Pipeline(name=name, department_id=department_id, active=active)
        ctx.dbsession.add(pipeline)
        ctx.dbsession.flush()
        existing: dict[int, Stage] = {}
    else:
        pipeline = ctx.dbsession.get(Pipeline, pipeline_id)
        if pipeline is None:
            raise PipelineUnavailable()
        if not active and pipeline.active and ctx.dbsession.scalar(
                select(func.count()).select_from(Opportunity).where(Opportunity.pipeline_id == pipeline.id,
                                                                   Opportunity.status == "open")):
            raise PipelineInUse(name=pipeline.name)
        pipeline.name, pipeline.department_id, pipeline.active = name, department_id, active
        existing = {s.id: s for s in ctx.dbsession.scalars(select(Stage).where(Stage.pipeline_id == pipeline.id))}
    kept = set()
    for n, (stage_id, stage_name, probability, kind) in enumerate(cleaned, start=1):
        stage = existing.get(int(stage_id)) if stage_id else None
        if stage is None:
            stage = Stage(pipeline_id=pipeline.id)
            ctx.dbsession.add(stage)
        stage.name, stage.probability, stage.kind, stage.sequence, stage.active = (
            stage_name, probability, kind, n * 10, True)
        if stage.id is not None:
            kept.add(stage.id)
    for stage in existing.values():
        if stage.id not in kept:
            stage.active = False
    ctx.dbsession.flush()
    from .services import changed

    changed(ctx, "updated" if pipeline_id else "created", pipeline,
            {"name": (None, name), "stages": (None, [s[1] for s in cleaned])})
    return pipeline
