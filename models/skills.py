"""Whether a member's skills (a JSON list of category codes) hold a category, as SQL.

So that members can be ranked and picked in the database: the same test as `MemberProfile.fits`.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Boolean, ColumnElement, String, bindparam
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.visitors import InternalTraversal

from models.people import MemberProfile


class SkillsHold(ColumnElement[bool]):
    """True where the skills list has the category as one of its items."""

    inherit_cache = True
    type = Boolean()
    _traverse_internals = [
        ("skills", InternalTraversal.dp_clauseelement),
        ("category", InternalTraversal.dp_clauseelement),
    ]

    def __init__(self, skills: ColumnElement[Any], category: str) -> None:
        self.skills = skills
        self.category = bindparam(None, category, type_=String())


@compiles(SkillsHold, "sqlite")
def _sqlite(element: SkillsHold, compiler: SQLCompiler, **kw: Any) -> str:
    skills = compiler.process(element.skills, **kw)
    category = compiler.process(element.category, **kw)
    return f"EXISTS (SELECT 1 FROM json_each({skills}) WHERE json_each.value = {category})"


@compiles(SkillsHold, "postgresql")
def _postgresql(element: SkillsHold, compiler: SQLCompiler, **kw: Any) -> str:
    skills = compiler.process(element.skills, **kw)
    category = compiler.process(element.category, **kw)
    return f"(CAST({skills} AS JSONB) @> jsonb_build_array(CAST({category} AS VARCHAR)))"


def skills_hold(category: str) -> SkillsHold:
    """The SQL form of `profile.fits(category)` for `MemberProfile` rows."""
    return SkillsHold(MemberProfile.__table__.c.skills, category)


class SkillsMention(ColumnElement[bool]):
    """The same test, cheaper: the list is stored as JSON text (written by json.dumps), so
    the category's own JSON form ("repair", quotes included) is looked for in it; inside a
    list of strings it can only be a whole item (a quote inside an item is escaped). Dispatch
    scores every member with it. Given as two parameters: the category's JSON form and the
    category itself (kept for a database that would need it)."""

    inherit_cache = True
    type = Boolean()
    _traverse_internals = [
        ("skills", InternalTraversal.dp_clauseelement),
        ("category", InternalTraversal.dp_clauseelement),
        ("plain", InternalTraversal.dp_clauseelement),
    ]

    def __init__(
        self, skills: ColumnElement[Any], quoted: ColumnElement[str], plain: ColumnElement[str]
    ) -> None:
        self.skills = skills
        self.category = quoted
        self.plain = plain


@compiles(SkillsMention, "sqlite")
def _sqlite_mention(element: SkillsMention, compiler: SQLCompiler, **kw: Any) -> str:
    skills = compiler.process(element.skills, **kw)
    quoted = compiler.process(element.category, **kw)
    return f"(instr({skills}, {quoted}) > 0)"


@compiles(SkillsMention, "postgresql")
def _postgresql_mention(element: SkillsMention, compiler: SQLCompiler, **kw: Any) -> str:
    # A JSON (not JSONB) column keeps the text it was given: no parsing per row.
    skills = compiler.process(element.skills, **kw)
    quoted = compiler.process(element.category, **kw)
    return f"(strpos(CAST({skills} AS TEXT), CAST({quoted} AS TEXT)) > 0)"


def skills_mention(quoted: ColumnElement[str], plain: ColumnElement[str]) -> SkillsMention:
    """`skills_hold` for scoring many rows at once, the category given as parameters: its
    JSON form (json.dumps) and itself (see SkillsMention)."""
    return SkillsMention(MemberProfile.__table__.c.skills, quoted, plain)
