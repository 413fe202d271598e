"""First start: apply migrations, seed the built-in roles, create the first organization and its
admin, and seed the approval policies of every organization that has none. Called by the
launcher before the API starts, and by the API at start (idempotent).

The admin's password is ``JSC_ADMIN_PASSWORD``, or, only where the caller can show it once on a
terminal (``jsc up``), a random one returned as ``generated_password``. Neither is ever logged."""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from core.approval_policies import seed_all as seed_approval_policies
from core.db.base import make_engine, make_sessionmaker
from core.db.migrate import upgrade_to_head
from core.db.models import Organization, OrganizationMember, Permission, Role, User
from core.rbac import BUILTIN_ROLES
from core.security import hash_password
from core.settings import Settings


@dataclass(frozen=True)
class BootstrapResult:
    admin_email: str
    created: bool
    # the random password of an admin just created: for a terminal, once; never for a log
    generated_password: str | None = None
    # no admin yet: none was given and the caller may not generate one
    waiting_for_password: bool = False


def slugify(name: str) -> str:
    slug = re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")
    return slug or "org"


async def seed_builtin_roles(db: AsyncSession) -> None:
    existing = set((await db.scalars(select(Role.name).where(Role.is_system.is_(True)))).all())
    for name, perms in BUILTIN_ROLES.items():
        if name in existing:
            continue
        role = Role(name=name, description=f"Built-in {name} role", is_system=True)
        db.add(role)
        await db.flush()
        for perm in sorted(perms):
            resource, action, scope = perm.split(":", 2)
            db.add(
                Permission(
                    role_id=role.id, resource=resource, action=action, conditions={"scope": scope}
                )
            )


async def ensure_admin(
    db: AsyncSession, settings: Settings, *, generate_password: bool = True
) -> BootstrapResult:
    given = settings.admin_password.get_secret_value() if settings.admin_password else None
    email = settings.admin_email.strip().lower()
    if await db.scalar(select(User).where(User.email == email)) is not None:
        return BootstrapResult(email, created=False)
    if given is None and not generate_password:
        return BootstrapResult(email, created=False, waiting_for_password=True)
    password = given or secrets.token_urlsafe(12)
    org = Organization(
        name=settings.admin_organization,
        slug=slugify(settings.admin_organization),
        plan="enterprise",
        settings={},
    )
    user = User(
        email=email,
        password_hash=hash_password(password),
        first_name="Admin",
        status="active",
        email_verified=True,
    )
    db.add_all([org, user])
    await db.flush()
    db.add(OrganizationMember(org_id=org.id, user_id=user.id, role="admin"))
    return BootstrapResult(email, created=True, generated_password=None if given else password)


async def prepare(settings: Settings, *, generate_password: bool = True) -> BootstrapResult:
    if not settings.database_url:
        raise RuntimeError("JSC_DATABASE_URL is not set: no PostgreSQL to prepare")
    engine = make_engine(settings.database_url)
    try:
        await upgrade_to_head(engine)
        async with make_sessionmaker(engine)() as db, db.begin():
            await seed_builtin_roles(db)
            result = await ensure_admin(db, settings, generate_password=generate_password)
            await db.flush()
            await seed_approval_policies(db)
            return result
    finally:
        await engine.dispose()
