"""The demo company of ``kehu demo``: three sales regions, a sales manager each and eight
salespeople, with predictable logins for trying and scripting — ``admin``, ``manager1``–
``manager3``, ``sales1``–``sales8`` — all with the password ``kehu demo`` prints. Addons' demo
data (customers, leads, …) give their records to these people."""

from __future__ import annotations

from sqlalchemy import select

from core.context import Ctx

DEMO_PASSWORD = "kehu-demo-1"  # noqa: S105 (the public demo password, printed by kehu demo)

#: (department, manager (username, name), salespeople [(username, name)]), in login order.
DEMO_TEAMS: tuple[tuple[str, tuple[str, str], tuple[tuple[str, str], ...]], ...] = (
    ("华东大区", ("manager1", "陈刚"), (("sales1", "张伟"), ("sales2", "李娜"), ("sales3", "王磊"))),
    ("华南大区", ("manager2", "刘洋"), (("sales4", "黄敏"), ("sales5", "吴静"), ("sales6", "郑涛"))),
    ("华北大区", ("manager3", "赵强"), (("sales7", "孙丽"), ("sales8", "周杰"))),
)
DEMO_MANAGERS = tuple(manager[0] for _department, manager, _people in DEMO_TEAMS)
DEMO_SALESPEOPLE = tuple(login for _department, _manager, people in DEMO_TEAMS for login, _name in people)
#: What ``kehu demo`` prints after the administrator's login.
DEMO_LOGINS = "manager1–manager3, sales1–sales8"


def add_demo_users(ctx: Ctx) -> None:
    """The regions under the company, each with its manager (department scope) and salespeople
    (their own records). Idempotent: nothing happens once ``sales1`` exists."""
    from core.models import User
    from core.org.services import create_department, root_department
    from core.users.passwords import hash_password
    from core.users.services import create_user

    if ctx.dbsession.scalar(select(User.id).where(User.username == DEMO_SALESPEOPLE[0])) is not None:
        return
    company = root_department(ctx)
    shared = hash_password(DEMO_PASSWORD)  # one hash for all eleven: ~0.3 s each by design
    for order, (name, (manager_login, manager_name), people) in enumerate(DEMO_TEAMS):
        department = create_department(ctx, name, company.id, sort=order)
        manager = create_user(ctx, manager_login, DEMO_PASSWORD, display_name=manager_name, post="销售经理",
                              roles=["sales_manager"], department_id=department.id, password_hash=shared)
        department.manager_id = manager.id
        for login, person in people:
            create_user(ctx, login, DEMO_PASSWORD, display_name=person, post="销售代表", roles=["sales"],
                        department_id=department.id, password_hash=shared)
