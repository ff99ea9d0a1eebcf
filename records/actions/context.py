from collections.abc import Mapping
from dataclasses import dataclass

from django.conf import settings
from django.contrib.auth.models import AnonymousUser
from django.http import HttpRequest

from records.models import User
from records.permissions import Role, role_of


class ActionRefused(Exception):
    """The record's state does not allow the action; the message says why, for people."""


@dataclass(frozen=True)
class Actor:
    """Who is acting, in which role, and from where: everything an audit row needs."""

    user: User | None
    role: str
    ip_address: str | None = None
    user_agent: str = ""
    username: str = ""

    @classmethod
    def for_user(cls, user: User, *, ip_address: str | None = None, user_agent: str = "") -> "Actor":
        role = role_of(user)
        return cls(
            user=user,
            role=role.value if role else "",
            ip_address=ip_address,
            user_agent=user_agent[:512],
            username=user.get_username(),
        )

    @classmethod
    def system(cls, name: str = "system") -> "Actor":
        """Set-up commands (demo data, first admin) that act without a signed-in person."""
        return cls(user=None, role="system", username=name)

    @classmethod
    def anonymous(cls, request: HttpRequest | None, *, username: str = "") -> "Actor":
        """Someone not (yet) signed in: a failed log-in, a refused anonymous request."""
        if request is None:
            return cls(user=None, role="", username=username)
        return cls(
            user=None,
            role="",
            ip_address=client_ip(request),
            user_agent=request.META.get("HTTP_USER_AGENT", "")[:512],
            username=username,
        )

    @property
    def person(self) -> User:
        """The signed-in account acting, for a row that must name one (its author, who recorded it)."""
        if self.user is None:
            raise ActionRefused("This is recorded by a signed-in person, not a set-up command.")
        return self.user

    @property
    def is_system(self) -> bool:
        return self.user is None and self.role == "system"

    def has_role(self, *roles: Role) -> bool:
        return self.role in {r.value for r in roles}


def client_ip(request: HttpRequest) -> str | None:
    """The client's address, trusting X-Forwarded-For only from configured proxies."""
    hops = settings.TRUSTED_PROXY_COUNT
    if hops:
        forwarded: list[str] = [p.strip() for p in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",") if p.strip()]
        if len(forwarded) >= hops:
            return forwarded[-hops]
    address: str | None = request.META.get("REMOTE_ADDR")
    return address or None


def actor_from_request(request: HttpRequest, user: User | None = None) -> Actor:
    account = user if user is not None else request.user
    if isinstance(account, AnonymousUser):
        # Not reached by the views that act (LoginRequiredMiddleware); no account, no role.
        return Actor.anonymous(request)
    return Actor.for_user(
        account,
        ip_address=client_ip(request),
        user_agent=request.META.get("HTTP_USER_AGENT", ""),
    )


def login_username(request: HttpRequest | None, credentials: Mapping[str, object] | None = None) -> str:
    """The username typed at log-in, as django-axes records it: cut to a username's longest length.

    Without this, a very long typed username overflowed axes' column (a 500 on PostgreSQL).
    """
    source = credentials if credentials else getattr(request, "POST", {})
    value = source.get("username") if source else None
    return str(value or "")[:150]
