"""Information-collection campaigns: surveys, their questions, the buildings asked, answers.

One answer per question and unit; sensitive questions are marked so views can hide them.
"""

from __future__ import annotations

import datetime as dt
import enum

from sqlalchemy import JSON, ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from models.base import Base, str_enum


class QuestionKind(enum.StrEnum):
    CHOICE = "choice"
    NUMBER = "number"
    YES_NO = "yes_no"
    TEXT = "text"


class Survey(Base):
    __tablename__ = "surveys"

    id: Mapped[int] = mapped_column(primary_key=True)
    community_id: Mapped[int] = mapped_column(ForeignKey("communities.id"), index=True)
    title: Mapped[str] = mapped_column(String(200))
    deadline: Mapped[dt.datetime | None]
    created_by_id: Mapped[int] = mapped_column(ForeignKey("people.id"))
    created_at: Mapped[dt.datetime]
    closed: Mapped[bool] = mapped_column(default=False)


class SurveyBuilding(Base):
    __tablename__ = "survey_buildings"

    survey_id: Mapped[int] = mapped_column(ForeignKey("surveys.id"), primary_key=True)
    building_id: Mapped[int] = mapped_column(ForeignKey("buildings.id"), primary_key=True)


class SurveyQuestion(Base):
    __tablename__ = "survey_questions"
    __table_args__ = (UniqueConstraint("survey_id", "position"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    survey_id: Mapped[int] = mapped_column(ForeignKey("surveys.id"), index=True)
    position: Mapped[int]
    kind: Mapped[QuestionKind] = mapped_column(str_enum(QuestionKind))
    text: Mapped[str] = mapped_column(Text)
    choices: Mapped[list[str]] = mapped_column(JSON, default=list)
    sensitive: Mapped[bool] = mapped_column(default=False)


class SurveyAnswer(Base):
    __tablename__ = "survey_answers"
    __table_args__ = (UniqueConstraint("question_id", "building_id", "unit"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    question_id: Mapped[int] = mapped_column(ForeignKey("survey_questions.id"), index=True)
    building_id: Mapped[int] = mapped_column(ForeignKey("buildings.id"))
    unit: Mapped[str] = mapped_column(String(40))
    # Whom a sensitive answer is about, for that person's privacy export.
    about_person_id: Mapped[int | None] = mapped_column(ForeignKey("people.id"), index=True)
    value: Mapped[str] = mapped_column(Text)
    answered_by_id: Mapped[int] = mapped_column(ForeignKey("people.id"))
    answered_at: Mapped[dt.datetime]


class UnitStatus(enum.StrEnum):
    WAITING = "waiting"
    SKIPPED = "skipped"
    DONE = "done"


class SurveyUnit(Base):
    """One unit a campaign asks about: the denominator of coverage, fixed when it starts."""

    __tablename__ = "survey_units"
    __table_args__ = (UniqueConstraint("survey_id", "building_id", "unit"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    survey_id: Mapped[int] = mapped_column(ForeignKey("surveys.id"), index=True)
    building_id: Mapped[int] = mapped_column(ForeignKey("buildings.id"), index=True)
    unit: Mapped[str] = mapped_column(String(40))
    status: Mapped[UnitStatus] = mapped_column(str_enum(UnitStatus, "unit_status"))
    updated_by_id: Mapped[int | None] = mapped_column(ForeignKey("people.id"))
    updated_at: Mapped[dt.datetime]
