"""Options of the image service: where image data lives, size limits and quotas."""

from oslo_config import cfg

image_opts = [
    cfg.StrOpt("filesystem_store_datadir", default="$state_dir/images",
               help="Directory that holds image data, one file per image."),
    cfg.IntOpt("image_size_cap", default=1099511627776, min=1,
               help="Largest image, in bytes, that may be uploaded (default 1 TiB)."),
    cfg.IntOpt("user_storage_quota", default=0, min=0,
               help="Bytes of image data each project may store in total; 0 = unlimited."),
    cfg.IntOpt("limit_param_default", default=25, min=1,
               help="Images per page when a list request gives no limit."),
    cfg.IntOpt("api_limit_max", default=1000, min=1,
               help="Most images one list request returns, whatever limit it asks for."),
    cfg.IntOpt("image_tag_quota", default=128, min=1, help="Most tags one image may have."),
    cfg.IntOpt("image_member_quota", default=128, min=1,
               help="Most projects one image may be shared with."),
    cfg.IntOpt("image_property_quota", default=128, min=1,
               help="Most custom properties one image may have."),
    cfg.IntOpt("chunk_size", default=65536, min=4096,
               help="Bytes read or written per step when moving image data."),
    cfg.BoolOpt("create_default_image", default=True,
                help="All-in-one only: upload a small public image on first start."),
]

# The compute side's client of the image API (Stratus's or a real Glance).
glance_opts = [
    cfg.StrOpt("endpoint_override", default=None,
               help="Image API URL, e.g. http://controller:9292. Unset: take it from the "
                    "service catalog."),
    cfg.StrOpt("valid_interface", default="public",
               help="Catalog interface of the image endpoint."),
    cfg.StrOpt("region_name", default=None, help="Catalog region of the image endpoint."),
    cfg.FloatOpt("timeout", default=60.0, min=0.1,
                 help="Seconds to wait for the image API before giving up on a request "
                      "(the caller then gets 503)."),
]

GROUPS = [("image", image_opts), ("glance", glance_opts)]
