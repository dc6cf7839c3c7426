"""Policy enforcement: rules registered in code, an operator's file holds overrides only.

The policy file (``[oslo_policy] policy_file``, YAML or JSON) is optional. A relative
path is looked up beside the configuration files, then in the state directory. The
file is checked before it is used: a syntax error, a value that is not a rule string,
a check kind nobody handles or a ``rule:`` reference to a rule that does not exist
raises :class:`PolicyFileError` naming the file and line, so a service refuses to
start on it. A running service re-reads the file when it changes (stat on each
check); a broken edit is logged and the previous rules stay in force.
"""

from __future__ import annotations

import inspect
import logging
import os
import threading
from dataclasses import dataclass

import yaml
from oslo_config import cfg
from oslo_policy import _checks, _parser
from oslo_policy import policy as oslo_policy

from stratus import conf as stratus_conf
from stratus import policies
from stratus.common.context import RequestContext
from stratus.common.wsgi.errors import Forbidden

LOG = logging.getLogger(__name__)


# Policy files whose services were told that deprecated defaults are in force.
_TOLD_WIDENED: set[str] = set()


class PolicyFileError(Exception):
    """The policy file cannot be used; the message names the file, line and problem."""


@dataclass(frozen=True)
class _Stamp:
    """What identifies one version of the file on disk."""

    mtime_ns: int
    size: int
    inode: int


class Policy:
    """One oslo.policy enforcer over every Stratus rule, plus the operator's overrides."""

    def __init__(self, conf: cfg.ConfigOpts):
        self._enforcer = make_enforcer(conf)
        self._new_defaults_only = conf.oslo_policy.enforce_new_defaults
        self.path = self._enforcer.policy_file
        self._defaults = {rule.name: rule for rule in self._enforcer.registered_rules.values()}
        self._lock = threading.Lock()
        self._stamp: _Stamp | None = None
        self.overrides: dict[str, str] = {}
        self._apply(load_overrides(self.path, set(self._defaults)), _stamp(self.path))
        widened = sorted(name for name, rule in self._defaults.items()
                         if self._default_check(rule) is not rule.check)
        if widened and self.path not in _TOLD_WIDENED:  # once per process, not per service
            _TOLD_WIDENED.add(self.path)
            LOG.warning("[oslo_policy] enforce_new_defaults = false: %d rule(s) also accept "
                        "their deprecated defaults (e.g. %s); set it to true once tokens "
                        "carry the new roles", len(widened), widened[0])

    def authorize(self, context: RequestContext, rule: str, target: dict | None = None) -> None:
        """Raise Forbidden unless ``context`` may perform ``rule`` on ``target``."""
        target = target if target is not None else {"project_id": context.project_id,
                                                    "user_id": context.user_id}
        if not self._allowed(rule, flatten_target(target), dict(context.to_policy_values())):
            raise Forbidden(f"You are not authorized to perform the requested action: {rule}.")

    def allows(self, context: RequestContext, rule: str, target: dict | None = None) -> bool:
        try:
            self.authorize(context, rule, target)
        except Forbidden:
            return False
        return True

    def check(self, rule: str, target: dict, creds: dict) -> bool:
        """Evaluate ``rule`` for plain credentials (``stratus-policy check``)."""
        return self._allowed(rule, flatten_target(target), dict(creds))

    def _allowed(self, rule: str, target: dict, creds: dict) -> bool:
        """oslo.policy's ``Enforcer.authorize`` without its per-call overheads.

        The same decision: an unregistered rule raises PolicyNotRegistered; a token of
        a scope the rule does not take (e.g. system for a project rule) is refused; then
        the rule's check tree is evaluated against the rules in force. What oslo spends
        on every call and this does not: re-checking whether rules need loading (this
        class loads them), logging the credentials, and inspecting the signature of
        every node of the tree (:func:`_evaluate`).
        """
        self.reload_if_changed()
        default = self._defaults.get(rule)
        if default is None:
            raise oslo_policy.PolicyNotRegistered(rule)
        if creds.get("system_scope"):
            creds["system"] = creds["system_scope"]  # as oslo.policy maps it
        if not self._enforcer._enforce_scope(creds, default, do_raise=False):
            return False
        rules = self._rules  # one read: a concurrent reload swaps the whole set
        try:
            check = rules[rule]  # Rules falls back to the default rule, as in oslo
        except KeyError:
            return False
        return check is not None and bool(_evaluate(check, target, creds, self._enforcer,
                                                     rules, rule))

    def effective(self) -> dict[str, str]:
        """Rule name -> the check string in force (the override, else the default)."""
        return {name: self.overrides.get(name, rule.check_str)
                for name, rule in self._defaults.items()}

    @property
    def defaults(self) -> dict[str, oslo_policy.RuleDefault]:
        return dict(self._defaults)

    def reload_if_changed(self) -> None:
        """Re-read the policy file if it changed; keep the old rules if the new file is bad."""
        stamp = _stamp(self.path)
        if stamp == self._stamp:
            return
        with self._lock:
            if stamp == self._stamp:
                return
            try:
                overrides = load_overrides(self.path, set(self._defaults))
            except PolicyFileError as exc:
                self._stamp = stamp  # log a broken edit once, not on every request
                LOG.error("Ignoring the changed policy file; the previous rules stay in "
                          "force: %s", exc)
                return
            self._apply(overrides, stamp)
            LOG.info("Policy file %s reloaded: %d override(s)", self.path, len(overrides))

    def _default_check(self, rule: oslo_policy.RuleDefault) -> _checks.BaseCheck:
        """A default's check; with ``enforce_new_defaults = false`` a rule that replaced
        an older default also accepts what the older one did, as oslo.policy does."""
        old = rule.deprecated_rule
        if self._new_defaults_only or old is None or old.check_str == rule.check_str:
            return rule.check
        return _checks.OrCheck([rule.check, _parse(old.check_str)])

    def _apply(self, overrides: dict[str, str], stamp: _Stamp | None) -> None:
        rules = {name: self._default_check(rule) for name, rule in self._defaults.items()}
        rules.update({name: _parse(check) for name, check in overrides.items()})
        # One assignment swaps every rule at once; requests in flight see old or new.
        self._enforcer.set_rules(rules, overwrite=True, use_conf=False)
        self._rules = self._enforcer.rules
        self.overrides = overrides
        self._stamp = stamp


def _evaluate(check: _checks.BaseCheck, target: dict, creds: dict,
              enforcer: oslo_policy.Enforcer, rules: oslo_policy.Rules, current: str):
    """Evaluate ``check`` exactly as oslo.policy's checks evaluate themselves.

    And/Or/Not and ``rule:`` references are walked here with the semantics of their
    oslo classes (a missing or failing ``rule:`` reference denies); every other check
    (role, credential comparisons, literals, http and any custom kind) is called as
    oslo calls it. oslo's own walk inspects each node's signature on every call, which
    made policy a tenth of a placement write.
    """
    kind = type(check)
    if kind is _checks.OrCheck:
        return any(_evaluate(c, target, creds, enforcer, rules, current) for c in check.rules)
    if kind is _checks.AndCheck:
        return all(_evaluate(c, target, creds, enforcer, rules, current) for c in check.rules)
    if kind is _checks.NotCheck:
        return not _evaluate(check.rule, target, creds, enforcer, rules, current)
    if kind is _checks.RuleCheck:
        try:
            return _evaluate(rules[check.match], target, creds, enforcer, rules, current)
        except KeyError:
            return False  # as in oslo, a KeyError anywhere below a rule: denies
    if _takes_current_rule(kind):
        return check(target, creds, enforcer, current)
    return check(target, creds, enforcer)


_ARITY: dict[type, bool] = {}


def _takes_current_rule(kind: type) -> bool:
    """Whether a check class's ``__call__`` takes ``current_rule`` (oslo's test, memoised)."""
    takes = _ARITY.get(kind)
    if takes is None:
        takes = _ARITY[kind] = len(inspect.getfullargspec(kind.__call__).args) > 4
    return takes


def make_enforcer(conf: cfg.ConfigOpts, *, use_conf: bool = False) -> oslo_policy.Enforcer:
    """An enforcer with every default registered and the policy file path resolved.

    ``use_conf=False`` (the services): :class:`Policy` loads and checks the file itself.
    ``use_conf=True``: oslo.policy reads the file, as its command-line tools expect.
    """
    enforcer = oslo_policy.Enforcer(conf, use_conf=use_conf)  # registers [oslo_policy]
    # With enforce_new_defaults = false oslo warns, rule by rule and on every load, that
    # a default changed: for Stratus's own defaults that is by design, and Policy logs it
    # once. Its other warnings stay: a deprecated rule name overridden in the policy file,
    # a rule deprecated for removal that the file still sets.
    enforcer.suppress_default_change_warnings = True
    enforcer.policy_file = resolve_policy_file(conf)
    enforcer.policy_path = enforcer.policy_file if os.path.exists(enforcer.policy_file) \
        else None
    enforcer.register_defaults(policies.documented_rules())
    return enforcer


def resolve_policy_file(conf: cfg.ConfigOpts) -> str:
    """Absolute path of ``[oslo_policy] policy_file``: beside the config files, else state dir.

    A file that does not exist yet resolves into the state directory, where creating it
    later takes effect without a restart.
    """
    name = os.path.expanduser(conf.oslo_policy.policy_file)
    if os.path.isabs(name):
        return name
    found = conf.find_file(name)
    if found:
        return os.path.abspath(found)
    return os.path.abspath(os.path.join(conf.state_dir or ".", name))


def load_overrides(path: str, known_rules: set[str]) -> dict[str, str]:
    """The overrides in the policy file at ``path`` ({} when there is none), checked.

    Raises PolicyFileError for a file that is not a YAML/JSON mapping of rule name to
    check string, for a check kind no handler knows, and for a ``rule:`` reference to a
    rule defined neither in code nor in the file. Overrides of rules Stratus does not
    have (e.g. from a full Keystone policy file) are kept and ignored.
    """
    try:
        with open(path, encoding="utf-8") as fh:
            text = fh.read()
    except FileNotFoundError:
        return {}
    except OSError as exc:
        raise PolicyFileError(f"{path}: cannot read the policy file: {exc}") from None
    try:
        node = yaml.compose(text, Loader=yaml.SafeLoader)
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"{path}:{mark.line + 1}" if mark else path
        problem = getattr(exc, "problem", None) or str(exc)
        raise PolicyFileError(f"{where}: the policy file is not valid YAML or JSON: "
                              f"{problem}") from None
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise PolicyFileError(f"{path}:1: the policy file must map rule names to check "
                              f"strings, not a {type(data).__name__}")
    lines = {key.value: key.start_mark.line + 1 for key, _ in node.value
             if isinstance(key, yaml.ScalarNode)}
    defined = known_rules | set(data)
    for name, check in data.items():
        where = f"{path}:{lines.get(name, 1)}"
        if not isinstance(check, str):
            raise PolicyFileError(f"{where}: rule {name!r} must be a check string such as "
                                  f"\"role:admin\", not {check!r}")
        problem = check_problem(check, defined)
        if problem:
            raise PolicyFileError(f"{where}: rule {name!r}: {problem}")
    unknown = sorted(set(data) - known_rules)
    if unknown:
        LOG.warning("Policy file %s overrides rules Stratus does not have (ignored): %s",
                    path, ", ".join(unknown))
    return data


def check_problem(check: str, defined: set[str]) -> str | None:
    """Why ``check`` cannot be used, or None: an unknown check kind or rule reference."""
    failures: list[str] = []

    class _Capture(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            failures.append(record.getMessage())

    # oslo.policy turns what it cannot parse into a silent deny and logs why; catch that.
    parser_log = logging.getLogger("oslo_policy._parser")
    handler = _Capture(level=logging.WARNING)
    parser_log.addHandler(handler)
    try:
        parsed = _parse(check)
    finally:
        parser_log.removeHandler(handler)
    if failures:
        return f"cannot parse check string {check!r} ({failures[0]})"
    for node in _walk(parsed):
        if isinstance(node, _checks.RuleCheck) and node.match not in defined:
            return f"references rule {node.match!r}, which is not defined in code or in the file"
        if isinstance(node, _checks.GenericCheck) and not _known_kind(node.kind):
            return (f"unknown check {node.kind!r} in {str(node)!r}; a check is role:, rule:, "
                    f"or one of the credentials {', '.join(sorted(CREDENTIALS))}")
    return None


# What a request's credentials carry (RequestContext.to_policy_values), so what a
# ``kind:value`` check can compare; any other kind is a typo that would silently deny.
CREDENTIALS = frozenset(RequestContext().to_policy_values())


def _known_kind(kind: str) -> bool:
    literal = kind[:1] in ("'", '"') or kind in ("True", "False") or kind.isdigit()
    return literal or kind in CREDENTIALS


def _parse(check: str) -> _checks.BaseCheck:
    return _parser.parse_rule(check)


def _walk(check: _checks.BaseCheck):
    yield check
    for inner in getattr(check, "rules", ()):
        yield from _walk(inner)
    if isinstance(getattr(check, "rule", None), _checks.BaseCheck):
        yield from _walk(check.rule)


def _stamp(path: str) -> _Stamp | None:
    try:
        st = os.stat(path)
    except FileNotFoundError:
        return None
    return _Stamp(st.st_mtime_ns, st.st_size, st.st_ino)


def get_enforcer() -> oslo_policy.Enforcer:
    """Entry point for ``oslopolicy-policy-generator --namespace stratus`` and friends.

    Configuration is found as every Stratus command finds it (state directory from
    ``STRATUS_STATE_DIR`` or ``./stratus-data``); the policy file is checked first.
    """
    conf = stratus_conf.load(None)
    enforcer = make_enforcer(conf, use_conf=True)
    load_overrides(enforcer.policy_file, set(enforcer.registered_rules))
    return enforcer


def flatten_target(target: dict) -> dict:
    """Nested targets also appear as ``target.a.b`` keys, the form Keystone-style rules use.

    oslo.policy substitutes ``%(target.token.user_id)s`` from a flat key, so
    ``{"token": {"user_id": "u"}}`` also yields ``{"target.token.user_id": "u"}``.
    """
    flat = dict(target)

    def walk(prefix: str, value) -> None:
        if isinstance(value, dict):
            for key, inner in value.items():
                walk(f"{prefix}.{key}", inner)
        else:
            flat[prefix] = value

    for key, value in target.items():
        if isinstance(value, dict):
            walk(f"target.{key}", value)
    return flat
