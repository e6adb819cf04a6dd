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


USER_ROLES = frozenset(
    {Role.admin, Role.editor, Role.appraiser, Role.publisher, Role.commune_chair, Role.viewer}
)
KEY_ROLES = frozenset({Role.central, Role.integration})
ALL_ROLES = USER_ROLES | KEY_ROLES | {Role.endpoint}

# What a machine key's role is allowed to do, in terms of the user roles routes accept.
ACTS_AS = {Role.integration: Role.publisher}
