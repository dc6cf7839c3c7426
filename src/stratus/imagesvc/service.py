"""The image service's long-lived parts: configuration, database, policy and data files."""

from __future__ import annotations

import sqlalchemy as sa
from oslo_config import cfg

from stratus.common import db
from stratus.common.context import RequestContext
from stratus.common.policy import Policy
from stratus.imagesvc import store
from stratus.imagesvc.files import ImageFiles


class ImageService:
    """What every image handler needs, made once per process."""

    def __init__(self, conf: cfg.ConfigOpts, engine: sa.Engine, policy: Policy):
        self.conf = conf
        self.options = conf.image
        self.engine = engine
        self.writer = db.writer(engine)
        self.policy = policy
        self.files = ImageFiles(conf.image.filesystem_store_datadir, conf.image.chunk_size)

    @staticmethod
    def viewer(context: RequestContext) -> store.Viewer:
        return store.Viewer(context.project_id, bool(context.is_admin))

    def recover_interrupted_uploads(self) -> int:
        """At start-up of a single image process: images left 'saving' by a crash go back
        to 'queued' and their partial files are removed. Returns the images reset."""
        self.files.remove_partial_uploads()
        with self.writer.begin() as conn:
            result = conn.execute(store.s.images.update()
                                  .where(store.s.images.c.status == "saving")
                                  .values(status="queued"))
        return result.rowcount
