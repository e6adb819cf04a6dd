from enum import StrEnum


class Role(StrEnum):
    """Who may do what; every role acts only inside the subtree of its area."""

    admin = "admin"  # provincial department (Sở): accounts, keys, audit
    editor = "editor"  # editorial board (Ban biên tập)
    appraiser = "appraiser"  # appraises sensitive bulletins (thẩm định)
    publisher = "publisher"  # agencies, district centres, commune committees
    commune_chair = "commune_chair"  # Chủ tịch UBND cấp xã: the commune's programme
    viewer = "viewer"  # read-only
    central = "central"  # machine: the central source system
    integration = "integration"  # machine: a publisher's system, acting as a publisher
    endpoint = "endpoint"  # machine: a radio or display, with the key made for it


class Holder(StrEnum):
    """What holds a role: a person's account, or one of the two kinds of machine key."""

    user = "user accounts"
    api_key = "API keys"  # POST /api/v1/keys, `nguon keys create`
    endpoint = "endpoint keys, made when an endpoint is registered or given a new key"


# The one place that says which role goes to which holder; every check and message reads it.
HOLDERS = {
    Role.admin: Holder.user,
    Role.editor: Holder.user,
    Role.appraiser: Holder.user,
    Role.publisher: Holder.user,
    Role.commune_chair: Holder.user,
    Role.viewer: Holder.user,
    Role.central: Holder.api_key,
    Role.integration: Holder.api_key,
    Role.endpoint: Holder.endpoint,
}


def roles_for(holder: Holder) -> tuple[Role, ...]:
    return tuple(role for role in Role if HOLDERS[role] is holder)


def wrong_holder(role: Role, holder: Holder) -> str | None:
    """Why `holder` cannot take `role`, in words a person can act on; None when it can."""
    if HOLDERS[role] is holder:
        return None
    *first, last = roles_for(holder)
    allowed = f"{', '.join(first)} or {last}" if first else last
    return (
        f"Role {role} is not for {holder.value}: {holder.value} take {allowed}; "
        f"{role} is for {HOLDERS[role].value}."
    )


USER_ROLES = frozenset(roles_for(Holder.user))
KEY_ROLES = frozenset(roles_for(Holder.api_key))
ALL_ROLES = frozenset(Role)

# What a machine key's role is allowed to do, in terms of the user roles routes accept.
ACTS_AS = {Role.integration: Role.publisher}
