"""Telling secret-looking names and values apart from ordinary configuration, and redacting them.

Discovery collectors read configuration that also holds credentials. They must neither store
nor print those values: a binding whose name or value looks secret is not recorded, and an
argument or URL that carries one is redacted (a short prefix and a hash, so that two
occurrences of the same value can still be matched). Credential *detection* lives elsewhere;
this module only keeps discovery from becoming a second leak.
"""

from __future__ import annotations

import hashlib
import re
from urllib.parse import urlsplit, urlunsplit

from aispm.analysis.secrets import shannon_entropy

_SECRET_NAME = re.compile(
    r"(?i)(api[_-]?key|apikey|secret|token|passw(or)?d|passwd|\bpwd\b|_pwd$|credential|private[_-]?key"
    r"|access[_-]?key|auth|session|cookie|signature|conn(ection)?[_-]?str|\bdsn\b|_dsn$|bearer)"
)
_SECRET_VALUE = re.compile(
    r"^(sk-|sk_|rk_|pk_live|hf_[A-Za-z]{20}|api_org_|AIza[\w-]{20}|gsk_|r8_|xai-|pplx-|ghp_|gho_|ghs_|ghu_"
    r"|github_pat_|glpat-|xox[abposr]-|AKIA[0-9A-Z]{12}|ASIA[0-9A-Z]{12}|eyJ[\w-]{10,}\.|nvapi-|lsv2_|pcsk_"
    r"|sk-or-|sk-ant-|-----BEGIN|Bearer\s|Basic\s)"
)
_HEX_OR_B64 = re.compile(r"^[A-Za-z0-9+/=_-]{24,}$")
_URL_USERINFO = re.compile(r"^[a-z][a-z0-9+.-]*://[^/@\s:]*:[^/@\s]+@", re.IGNORECASE)
_SECRET_QUERY = re.compile(r"(?i)(key|token|secret|sig|signature|password|auth|code)")


def is_secret_name(name: str) -> bool:
    """Whether a variable, key or flag name suggests it holds a credential."""
    return bool(_SECRET_NAME.search(name))


def looks_secret(value: str) -> bool:
    """Whether ``value`` has the shape of a credential (a known prefix, a password in a URL, or a
    long random-looking token)."""
    v = value.strip()
    if len(v) < 8:
        return False
    if _SECRET_VALUE.match(v) or _URL_USERINFO.match(v):
        return True
    if _HEX_OR_B64.match(v):
        # A long random run between separators; model ids (``meta-llama-3-1-8b-instruct``,
        # ``claude-3-5-sonnet-20241022``) are made of short words and numbers.
        return any(
            len(part) >= 20 and _has_mixed_classes(part) and shannon_entropy(part) >= 3.5
            for part in re.split(r"[-_.:/]", v)
        )
    return False


def redact(value: str) -> str:
    """A stable, non-reversible stand-in for ``value``: a short prefix and a hash."""
    digest = hashlib.sha256(value.encode("utf-8", "surrogatepass")).hexdigest()[:12]
    prefix = value[:4] if len(value) >= 16 else ""
    return f"{prefix}…[redacted sha256:{digest}]"


def redact_url(url: str) -> str:
    """``url`` with any password and any credential-looking query value redacted."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return redact(url)
    netloc = parts.netloc
    if "@" in netloc:
        userinfo, host = netloc.rsplit("@", 1)
        user = userinfo.split(":", 1)[0]
        netloc = f"{user}:{redact(userinfo)}@{host}" if ":" in userinfo else f"{redact(userinfo)}@{host}"
    query = parts.query
    if query:
        pairs = []
        for pair in query.split("&"):
            k, sep, v = pair.partition("=")
            if sep and v and (_SECRET_QUERY.search(k) or looks_secret(v)):
                v = redact(v)
            pairs.append(f"{k}{sep}{v}")
        query = "&".join(pairs)
    return urlunsplit((parts.scheme, netloc, parts.path, query, parts.fragment))


def redact_args(args: list[str]) -> list[str]:
    """Command-line arguments with secret values redacted.

    A value is redacted when it looks secret itself, when it follows a flag named like a
    credential (``--api-key X``), or when it is the value half of ``--token=X`` / ``KEY=X``.
    """
    out: list[str] = []
    redact_next = False
    for arg in args:
        if redact_next and not arg.startswith("-"):
            out.append(redact(arg))
            redact_next = False
            continue
        redact_next = False
        name, sep, val = arg.partition("=")
        if sep and val and (is_secret_name(name) or looks_secret(val)):
            out.append(f"{name}={redact(val)}")
        elif looks_secret(arg):
            out.append(redact(arg))
        elif "://" in arg:
            out.append(redact_url(arg))
        else:
            out.append(arg)
            redact_next = arg.startswith("-") and not sep and is_secret_name(arg)
    return out


def _has_mixed_classes(s: str) -> bool:
    return any(c.isdigit() for c in s) and any(c.isalpha() for c in s)
