"""The image API's route table and WSGI app."""

from __future__ import annotations

import sqlalchemy as sa
from oslo_config import cfg

from stratus.common import auth
from stratus.common.policy import Policy
from stratus.common.wsgi import errors
from stratus.common.wsgi.app import Route, build_app
from stratus.common.wsgi.spec import Spec
from stratus.imagesvc import schemas
from stratus.imagesvc.handlers import actions, data, images, members, tags, versions
from stratus.imagesvc.service import ImageService

V2 = "/v2"
IMAGE = f"{V2}/images/{{image_id}}"
MEMBER = f"{IMAGE}/members/{{member_id}}"
# The further rule for setting an image's visibility to each of these, checked in handlers.
VISIBILITY = {"public": "publicize_image", "community": "communitize_image"}

ROUTES = [
    Route("/", {"GET": versions.root}, public=True),
    Route("/versions", {"GET": versions.versions}, public=True),
    Route(f"{V2}/schemas/{{name}}", {"GET": versions.schema}, public=True),
    Route(f"{V2}/images", {"GET": images.list_images, "POST": images.create_image},
          rules={"GET": "get_images", "POST": "add_image"}, checks={"POST": VISIBILITY},
          specs={"POST": Spec(body=schemas.IMAGE_WRITE)}),
    Route(IMAGE, {"GET": images.show_image, "PATCH": images.update_image,
                  "DELETE": images.delete_image},
          rules={"GET": "get_image", "PATCH": "modify_image", "DELETE": "delete_image"},
          checks={"PATCH": VISIBILITY},
          # The body is a JSON patch (a list of operations), checked op by op.
          specs={"PATCH": Spec(headers=("Content-Type",))}),
    Route(f"{IMAGE}/file", {"PUT": data.upload, "GET": data.download},
          rules={"PUT": "upload_image", "GET": "download_image"}),
    Route(f"{IMAGE}/actions/deactivate", {"POST": actions.deactivate},
          rules={"POST": "deactivate"}),
    Route(f"{IMAGE}/actions/reactivate", {"POST": actions.reactivate},
          rules={"POST": "reactivate"}),
    Route(f"{IMAGE}/tags/{{tag}}", {"PUT": tags.add_tag, "DELETE": tags.delete_tag},
          rules={"PUT": "modify_image", "DELETE": "modify_image"}),
    Route(f"{IMAGE}/members", {"GET": members.list_members, "POST": members.add_member},
          rules={"GET": "get_members", "POST": "add_member"},
          specs={"POST": Spec(body=schemas.MEMBER_CREATE)}),
    Route(MEMBER, {"GET": members.show_member, "PUT": members.update_member,
                   "DELETE": members.delete_member},
          rules={"GET": "get_member", "PUT": "modify_member", "DELETE": "delete_member"},
          specs={"PUT": Spec(body=schemas.MEMBER_UPDATE)}),
]


def make_service(conf: cfg.ConfigOpts, engine: sa.Engine, policy: Policy) -> ImageService:
    return ImageService(conf, engine, policy)


def make_app(conf: cfg.ConfigOpts, image: ImageService, token_validator=None):
    """The image WSGI app; ``token_validator`` validates tokens in-process when given."""
    authenticator = auth.authenticator_for(conf, token_validator)
    app = build_app(routes=ROUTES, error_format=errors.GLANCE, authenticator=authenticator,
                    service=image)
    return auth.wrap_keystonemiddleware(app, conf)
