"""Image schema: images, their custom properties, tags and members.

Revision ID: image_0002
Revises: image_0001
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import mysql

revision = "image_0002"
down_revision = "image_0001"
branch_labels = None
depends_on = None

IMAGE_ID = sa.String(36)
PROJECT = sa.String(255)
# Microseconds everywhere (MySQL keeps none by default): list order is creation order.
TIMESTAMP = sa.DateTime().with_variant(mysql.DATETIME(fsp=6), "mysql")


def upgrade() -> None:
    op.create_table(
        "images",
        sa.Column("id", IMAGE_ID, primary_key=True),
        sa.Column("name", sa.String(255)),
        sa.Column("status", sa.String(30), nullable=False),
        sa.Column("visibility", sa.String(20), nullable=False),
        sa.Column("owner", PROJECT),
        sa.Column("size", sa.BigInteger),
        sa.Column("virtual_size", sa.BigInteger),
        sa.Column("checksum", sa.String(32)),
        sa.Column("os_hash_algo", sa.String(64)),
        sa.Column("os_hash_value", sa.String(128)),
        sa.Column("disk_format", sa.String(20)),
        sa.Column("container_format", sa.String(20)),
        sa.Column("min_disk", sa.Integer, nullable=False),
        sa.Column("min_ram", sa.Integer, nullable=False),
        sa.Column("protected", sa.Boolean, nullable=False),
        sa.Column("os_hidden", sa.Boolean, nullable=False),
        sa.Column("created_at", TIMESTAMP, nullable=False),
        sa.Column("updated_at", TIMESTAMP, nullable=False),
    )
    op.create_index("ix_images_owner", "images", ["owner"])
    op.create_index("ix_images_visibility", "images", ["visibility"])
    op.create_index("ix_images_created_at_id", "images", ["created_at", "id"])
    op.create_table(
        "image_properties",
        sa.Column("image_id", IMAGE_ID, sa.ForeignKey("images.id", ondelete="CASCADE"),
                  primary_key=True),
        sa.Column("name", sa.String(255), primary_key=True),
        sa.Column("value", sa.Text, nullable=False),
    )
    op.create_table(
        "image_tags",
        sa.Column("image_id", IMAGE_ID, sa.ForeignKey("images.id", ondelete="CASCADE"),
                  primary_key=True),
        sa.Column("value", sa.String(255), primary_key=True),
    )
    op.create_table(
        "image_members",
        sa.Column("image_id", IMAGE_ID, sa.ForeignKey("images.id", ondelete="CASCADE"),
                  primary_key=True),
        sa.Column("member", PROJECT, primary_key=True),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("created_at", TIMESTAMP, nullable=False),
        sa.Column("updated_at", TIMESTAMP, nullable=False),
    )
    op.create_index("ix_image_members_member", "image_members", ["member"])
