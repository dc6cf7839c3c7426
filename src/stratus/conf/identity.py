"""Options of the identity service: token lifetime, signing keys, password hashing."""

from oslo_config import cfg

identity_opts = [
    cfg.StrOpt("key_repository", default="$state_dir/fernet-keys",
               help="Directory of Fernet keys that sign and encrypt tokens."),
    cfg.IntOpt("token_expiration", default=3600, min=1,
               help="Seconds a token stays valid after it is issued."),
    cfg.IntOpt("password_hash_time_cost", default=2, min=1,
               help="Argon2id iterations for stored password hashes."),
    cfg.IntOpt("password_hash_memory_kib", default=19456, min=8,
               help="Argon2id memory per hash in KiB (OWASP's minimum is 19456)."),
    cfg.IntOpt("max_password_length", default=4096, min=1,
               help="Longest password accepted, in bytes."),
    cfg.StrOpt("region", default="RegionOne", help="Region of the catalog endpoints."),
]

GROUPS = [("identity", identity_opts)]
