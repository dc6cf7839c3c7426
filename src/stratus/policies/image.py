"""Image API rules, named as Glance names them so existing policy files still apply.

Which images a project may see (public, its own, shared with it, community) is decided
by the service itself; these rules decide what a caller may do with one it can see.
"""

from oslo_policy import policy

from stratus.policies.base import ADMIN

READER = f"{ADMIN} or role:reader"
OWNER_MEMBER = f"{ADMIN} or (role:member and project_id:%(project_id)s)"
IMAGE_MEMBER = f"{ADMIN} or (role:member and project_id:%(member_id)s)"


def _rule(name: str, check: str, description: str) -> policy.RuleDefault:
    """A rule; ``documented_rules()`` adds the operations it guards from the route table."""
    return policy.RuleDefault(name=name, check_str=check, description=description)


rules = [
    _rule("get_images", READER, "List images."),
    _rule("get_image", READER, "Show an image the caller can see."),
    _rule("add_image", f"{ADMIN} or role:member", "Create an image."),
    _rule("modify_image", OWNER_MEMBER, "Update an image or its tags."),
    _rule("publicize_image", ADMIN, "Make an image public."),
    _rule("communitize_image", OWNER_MEMBER, "Make an image a community image."),
    _rule("delete_image", OWNER_MEMBER, "Delete an image."),
    _rule("upload_image", OWNER_MEMBER, "Upload an image's data."),
    _rule("download_image", READER, "Download the data of an image the caller can see."),
    _rule("deactivate", OWNER_MEMBER, "Deactivate an image."),
    _rule("reactivate", OWNER_MEMBER, "Reactivate an image."),
    _rule("get_members", READER, "List an image's members."),
    _rule("get_member", READER, "Show an image member."),
    _rule("add_member", OWNER_MEMBER, "Share an image with a project."),
    _rule("modify_member", IMAGE_MEMBER, "Accept or reject an image shared with the "
          "caller's project."),
    _rule("delete_member", OWNER_MEMBER, "Stop sharing an image with a project."),
]
