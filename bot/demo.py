"""A demo community with someone in every role and wishes in every state (`wishbot seed-demo`).

Everything is made through the store's own operations, so events and points are real.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import NamedTuple

from sqlalchemy import and_, select
from sqlalchemy.ext.asyncio import AsyncSession

from models.clock import now
from models.community import Building, Community, Street
from models.directory import (
    add_building,
    add_community,
    add_grid,
    add_person,
    add_street,
    approve_member,
    grant_role,
    link_identity,
    register_member,
)
from models.people import Identity, Person, Role
from models.web_access import WEB, SiteSecret
from models.wish_asking import reject_wish, submit_wish, verify_wish
from models.wish_closing import cancel_wish, confirm_wish
from models.wish_escalation import escalate_wish, resolve_wish
from models.wish_taking import accept_wish, assign_wish, report_done
from models.wishes import Urgency, Wish, WishStatus

STREET = "Riverside Street 滨河街道"
COMMUNITY = "Sunflower Community 向日葵社区"

# Grid name -> its buildings; each building -> its head and residents (name, unit).
LAYOUT: dict[str, dict[str, tuple[str, list[tuple[str, str]]]]] = {
    "North Grid 北网格": {
        "Building 1 一号楼": (
            "Head Wang 王楼长",
            [
                ("Grandma Li 李奶奶", "1-101"),
                ("Zhang Wei 张伟", "1-202"),
                ("Amy Zhou 周艾米", "2-301"),
            ],
        ),
        "Building 2 二号楼": (
            "Head Zhao 赵楼长",
            [
                ("Grandpa Chen 陈爷爷", "1-102"),
                ("Liu Fang 刘芳", "2-201"),
                ("Tom Wu 吴汤姆", "2-402"),
            ],
        ),
    },
    "South Grid 南网格": {
        "Building 3 三号楼": (
            "Head Sun 孙楼长",
            [("He Jing 何静", "1-301"), ("Ma Lin 马琳", "1-502"), ("Ivan Guo 郭伊万", "2-101")],
        ),
        "Building 4 四号楼": (
            "Head Hu 胡楼长",
            [
                ("Auntie Xu 徐阿姨", "1-201"),
                ("Deng Hao 邓浩", "1-601"),
                ("Lily Tang 唐莉莉", "3-302"),
            ],
        ),
    },
}
GRID_WORKERS = {
    "North Grid 北网格": "Grid Worker Yang 杨网格员",
    "South Grid 南网格": "Grid Worker Lin 林网格员",
}
MEMBERS: list[tuple[str, list[str], str, str]] = [
    (
        "Fixer Gao 高师傅",
        ["repair", "cleaning", "other"],
        "evenings and weekends",
        "Residents' repair team",
    ),
    ("Walker Song 宋志愿者", ["companionship", "errand"], "weekday mornings", "Youth volunteers"),
    ("Clerk Han 韩老师", ["paperwork", "errand", "other"], "afternoons", "Retired teachers"),
]
ADMIN = "Admin Luo 罗主任"
STREET_ADMIN = "Street Admin Qian 钱书记"


@dataclass
class _Demo:
    session: AsyncSession
    buildings: list[Building] = field(default_factory=list)
    heads: dict[int, Person] = field(default_factory=dict)
    residents: dict[int, list[Person]] = field(default_factory=dict)
    grid_workers: dict[int, Person] = field(default_factory=dict)
    members: list[Person] = field(default_factory=list)
    admin: Person | None = None
    street_admin: Person | None = None
    wishes: list[Wish] = field(default_factory=list)

    def everyone(self) -> list[Person]:
        residents = [p for people in self.residents.values() for p in people]
        office = [p for p in (self.admin, self.street_admin) if p is not None]
        return [
            *self.heads.values(),
            *residents,
            *self.grid_workers.values(),
            *self.members,
            *office,
        ]

    async def person(self, name: str, role: Role, scope_id: int) -> Person:
        person = await add_person(self.session, name, locale="zh_Hans")
        await grant_role(self.session, None, person, role, scope_id)
        return person


async def _build_people(session: AsyncSession, street: Street, community: Community) -> _Demo:
    demo = _Demo(session)
    for grid_name, buildings in LAYOUT.items():
        grid = await add_grid(session, community, grid_name)
        demo.grid_workers[grid.id] = await demo.person(
            GRID_WORKERS[grid_name], Role.GRID_WORKER, grid.id
        )
        for building_name, (head_name, residents) in buildings.items():
            building = await add_building(session, grid, building_name)
            demo.buildings.append(building)
            demo.heads[building.id] = await demo.person(head_name, Role.BUILDING_HEAD, building.id)
            demo.residents[building.id] = []
            for name, unit in residents:
                resident = await add_person(
                    session, name, building=building, unit=unit, locale="zh_Hans"
                )
                await grant_role(session, None, resident, Role.RESIDENT, building.id)
                demo.residents[building.id].append(resident)
    demo.admin = await demo.person(ADMIN, Role.ADMIN, community.id)
    demo.street_admin = await demo.person(STREET_ADMIN, Role.STREET_ADMIN, street.id)
    for name, skills, availability, organisation in MEMBERS:
        member = await add_person(session, name, locale="zh_Hans")
        await register_member(
            session,
            member,
            community,
            skills=skills,
            availability=availability,
            organisation=organisation,
        )
        await approve_member(session, demo.admin, member)
        demo.members.append(member)
    return demo


class Script(NamedTuple):
    """One demo wish: who asks where, and the steps that bring it to its state."""

    building: int  # index into the demo's buildings
    resident: int  # index into that building's residents
    category: str
    description: str
    steps: tuple[str, ...]  # "verify", "accept:<member>", "confirm:<stars>", ...
    urgent: bool = False


WISHES = [
    Script(0, 0, "repair", "The corridor light on floor 3 is out 三楼楼道灯坏了", ()),
    Script(2, 1, "paperwork", "Help me fill in the elderly-care subsidy form 帮忙填养老补贴表", ()),
    Script(1, 0, "companionship", "Walk with me to the clinic 陪我去社区医院", ("verify",)),
    Script(3, 0, "cleaning", "Clear the bikes blocking the stairs 清理楼道自行车", ("verify",)),
    Script(
        0, 1, "repair", "The kitchen tap drips all night 厨房水龙头滴水", ("verify", "accept:0")
    ),
    Script(2, 0, "errand", "Pick up my medicine 帮忙去药店取药", ("verify", "assign:1"), True),
    Script(
        1, 1, "paperwork", "Explain the new water bill 解释新水费单", ("verify", "accept:2", "done")
    ),
    Script(
        0,
        0,
        "errand",
        "Carry rice and oil up to floor 5 帮忙把米和油搬上五楼",
        ("verify", "accept:1", "done", "confirm:5"),
    ),
    Script(
        3,
        2,
        "repair",
        "Fix the wobbly balcony railing 阳台栏杆松了",
        ("verify", "accept:0", "done", "confirm:5"),
    ),
    Script(
        1,
        2,
        "other",
        "Set up video calls on my new phone 教我用手机视频通话",
        ("verify", "accept:2", "done", "confirm:4"),
    ),
    Script(
        2,
        2,
        "cleaning",
        "Mop the flooded storeroom 地下室储藏间进水了",
        ("verify", "accept:0", "done", "confirm:5"),
    ),
    Script(3, 1, "other", "Lend me a drill for ten minutes 借电钻用十分钟", ("reject",)),
    Script(0, 2, "errand", "Buy stamps at the post office 去邮局买邮票", ("cancel",)),
    Script(1, 0, "companionship", "Read the paper to me 下午给我读报", ("verify", "cancel")),
    Script(
        2,
        1,
        "repair",
        "The front door lock is broken 单元门锁坏了",
        ("verify", "escalate:head", "escalate:grid"),
        True,
    ),
    Script(
        3,
        0,
        "other",
        "Street lamps outside the gate are dark 小区门口路灯不亮",
        ("verify", "escalate:head", "escalate:grid", "escalate:admin"),
    ),
    Script(
        0,
        1,
        "repair",
        "Water pressure is too low upstairs 顶楼水压太低",
        ("verify", "escalate:head", "resolve:grid"),
    ),
]


async def _play(demo: _Demo, script: Script) -> Wish:
    """Submit one wish and walk it through its steps with the real operations."""
    session = demo.session
    building = demo.buildings[script.building]
    resident = demo.residents[building.id][script.resident]
    head = demo.heads[building.id]
    grid_worker = demo.grid_workers[building.grid_id]
    assert demo.admin is not None
    ladder = {"head": head, "grid": grid_worker, "admin": demo.admin}
    wish = await submit_wish(
        session,
        resident,
        building_id=building.id,
        category=script.category,
        description=script.description,
        urgency=Urgency.URGENT if script.urgent else Urgency.NORMAL,
        preferred_time=now(session) + dt.timedelta(days=2),
    )
    member: Person | None = None
    for step in script.steps:
        action, _, argument = step.partition(":")
        if action == "verify":
            wish = await verify_wish(session, head, wish.id)
        elif action == "reject":
            reason = "Not a community task; please ask a neighbour 不属于社区服务范围"
            wish = await reject_wish(session, head, wish.id, reason)
        elif action == "cancel":
            wish = await cancel_wish(session, resident, wish.id, "Sorted it myself 已自行解决")
        elif action == "accept":
            member = demo.members[int(argument)]
            wish = await accept_wish(session, member, wish.id)
        elif action == "assign":
            member = demo.members[int(argument)]
            wish = await assign_wish(session, grid_worker, wish.id, member)
        elif action == "done":
            assert member is not None, "a demo wish is done only after a member took it"
            wish = await report_done(session, member, wish.id, "All done 已完成")
        elif action == "confirm":
            wish = await confirm_wish(session, resident, wish.id, int(argument), "Thanks! 谢谢！")
        elif action == "escalate":
            reason = "Needs the property company 需要物业公司处理"
            wish = await escalate_wish(session, ladder[argument], wish.id, reason)
        elif action == "resolve":
            answer = "Reported to the water company 已报自来水公司"
            wish = await resolve_wish(session, ladder[argument], wish.id, answer)
        else:
            raise ValueError(f"unknown demo step {step!r}")
    return wish


async def seed_demo(session: AsyncSession) -> str:
    """Load the demo community once; a second run changes nothing. Returns a summary."""
    existing = await session.scalar(
        select(Community.id).where(Community.name == COMMUNITY).limit(1)
    )
    if existing is not None:
        return f"The demo is already loaded: {COMMUNITY} exists; nothing was changed."
    street = await session.scalar(select(Street).where(Street.name == STREET))
    if street is None:
        street = await add_street(session, STREET)
    community = await add_community(session, street, COMMUNITY)
    demo = await _build_people(session, street, community)
    # Everyone can be tried in the web chat: news for them lands there from the start.
    # Their web identities are marked as the demo's own, unlike anyone who joins later.
    for person in demo.everyone():
        await link_identity(session, person, WEB, f"{DEMO_IDENTITY}{person.id}")
    # Remember that this database holds the demo (the switch is never open without it).
    session.add(SiteSecret(name=DEMO_RECORD, value=str(community.id)))
    for script in WISHES:
        demo.wishes.append(await _play(demo, script))
    return _summary(demo)


def _summary(demo: _Demo) -> str:
    by_status = {s: sum(1 for w in demo.wishes if w.status == s) for s in WishStatus}
    residents = [p for people in demo.residents.values() for p in people]
    earned = max(demo.members, key=lambda m: m.points_balance)
    assert demo.admin is not None and demo.street_admin is not None
    heads = list(demo.heads.values())
    lines = [
        f"Loaded the demo: {COMMUNITY} on {STREET}, {len(LAYOUT)} grids, "
        f"{len(demo.buildings)} buildings, {len(residents)} residents, "
        f"{len(demo.members)} members, {len(demo.wishes)} wishes.",
        "Wishes by state: " + ", ".join(f"{s.value} {n}" for s, n in by_status.items()) + ".",
        "Try: resident " + residents[0].name + f" ({demo.buildings[0].name}, unit "
        f"{residents[0].unit}); building head {heads[0].name}; member {earned.name} "
        f"({earned.points_balance} points); grid worker "
        f"{next(iter(demo.grid_workers.values())).name}; admin {demo.admin.name}; "
        f"street admin {demo.street_admin.name}.",
    ]
    return "\n".join(lines)


# In site_secrets: the id of the demo community loaded into this database.
DEMO_RECORD = "demo"
# The start of the demo people's web identities ("demo12"); others are "p12" or a guest's "g…".
DEMO_IDENTITY = "demo"

# Whom a newcomer can be in the web demo, one of each role (names as loaded above).
DEMO_ROLES: dict[Role, str] = {
    Role.RESIDENT: LAYOUT["North Grid 北网格"]["Building 1 一号楼"][1][0][0],
    Role.BUILDING_HEAD: LAYOUT["North Grid 北网格"]["Building 1 一号楼"][0],
    Role.MEMBER: MEMBERS[0][0],
    Role.GRID_WORKER: GRID_WORKERS["North Grid 北网格"],
    Role.ADMIN: ADMIN,
    Role.STREET_ADMIN: STREET_ADMIN,
}


async def demo_only(session: AsyncSession) -> bool:
    """True while anyone may be the demo's people: the demo was loaded here (by seed-demo or
    the start page), it is the only community, and nobody real has joined it (the only
    identities are the demo people's own web ones)."""
    record = await session.scalar(select(SiteSecret.value).where(SiteSecret.name == DEMO_RECORD))
    if record is None or not record.isdecimal():
        return False
    communities = (await session.scalars(select(Community.id))).all()
    if list(communities) != [int(record)]:
        return False
    someone_real = await session.scalar(
        select(Identity.id)
        .where(~and_(Identity.platform == WEB, Identity.external_id.startswith(DEMO_IDENTITY)))
        .limit(1)
    )
    return someone_real is None


def demo_identity(external_id: str) -> bool:
    """A web identity the demo made for one of its people (anyone may have been them)."""
    return external_id.startswith(DEMO_IDENTITY)


async def demo_person(session: AsyncSession, role: Role) -> Person | None:
    name = DEMO_ROLES.get(role)
    if name is None or not await demo_only(session):
        return None
    return await session.scalar(select(Person).where(Person.name == name).order_by(Person.id))


async def empty_store(session: AsyncSession) -> bool:
    return await session.scalar(select(Community.id).limit(1)) is None
