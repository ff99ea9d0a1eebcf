from dataclasses import dataclass

from django.conf import settings

from records.permissions import Role, role_of


class ActionRefused(Exception):
    """The record's state does not allow the action; the message says why, for people."""


@dataclass(frozen=True)
class Actor:
    """Who is acting, in which role, and from where: everything an audit row needs."""

    user: object | None
    role: str
    ip_address: str | None = None
    user_agent: str = ""
    username: str = ""

    @classmethod
    def for_user(cls, user, *, ip_address: str | None = None, user_agent: str = "") -> "Actor":
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
    def anonymous(cls, request, *, username: str = "") -> "Actor":
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
    def is_system(self) -> bool:
        return self.user is None and self.role == "system"

    def has_role(self, *roles: Role) -> bool:
        return self.role in {r.value for r in roles}


def client_ip(request) -> str | None:
    """The client's address, trusting X-Forwarded-For only from configured proxies."""
    hops = settings.TRUSTED_PROXY_COUNT
    if hops:
        forwarded = [p.strip() for p in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",") if p.strip()]
        if len(forwarded) >= hops:
            return forwarded[-hops]
    return request.META.get("REMOTE_ADDR") or None


def actor_from_request(request, user=None) -> Actor:
    return Actor.for_user(
        user if user is not None else request.user,
        ip_address=client_ip(request),
        user_agent=request.META.get("HTTP_USER_AGENT", ""),
    )


def login_username(request, credentials=None) -> str:
    """The username typed at log-in, as django-axes records it: cut to a username's longest length.

    Without this, a very long typed username overflowed axes' column (a 500 on PostgreSQL).
    """
    source = credentials if credentials else getattr(request, "POST", {})
    value = source.get("username") if source else None
    return str(value or "")[:150]
