"""Hardcoded AI-provider credentials: rules, decoy rejection and redaction.

The rules port public facts about key shapes (prefixes, lengths, alphabets, anchors) gathered from
gitleaks (MIT), trufflehog and kingfisher; no rule code is copied. Each rule is a compiled regex
with boundaries on both sides; shapes that are not distinctive on their own (32 alphanumerics, 32
hex digits, 40 base64 characters) only count when a provider keyword sits next to them.

What counts as a credential
---------------------------
A candidate that matches a rule's shape is a credential when its random part (the *body*, after
any fixed prefix) looks random:

* its Shannon entropy is at least the rule's ``min_entropy`` (set per alphabet and length, well
  below what random keys of that shape reach, see ``tests/analysis/test_secrets.py``);
* it holds no run of 6 identical characters (``aaaaaa``, ``XXXXXX``), no run of 8 consecutive
  characters (``abcdefgh``, ``23456789``), and fewer than 40% of its neighbouring characters are
  consecutive: random bodies almost never do either (about 1e-7 and 1e-5 per key), hand-typed
  fillers nearly always do;
* for shapes without a fixed prefix, it does not read as words (``MistralApiKeyFromEnv``: an
  identifier, not a key);
* it contains no instruction to a human (``your_api_key``, ``placeholder``, ``changeme``,
  ``replace_me``, ``goes_here``...);
* it is not one of the few exact values vendors publish as documentation examples
  (``AKIAIOSFODNN7EXAMPLE``): those are known constants, not credentials anyone issued.

A value that passes is reported even when it carries a marker such as ``FAKE``, ``EXAMPLE`` or
``TEST`` inside an otherwise random body. A key-shaped, random-looking value cannot be told from a
live key by anyone reading the code (nor by an attacker's scanner), committing it trains people to
commit keys, and some "fake" keys turn out to be real; so shape and randomness decide, not words.
References (``${OPENAI_API_KEY}``, ``os.environ[...]``, ``<OPENAI_API_KEY>``, ``sk-...``) never
match a rule's shape in the first place.

Redaction
---------
A :class:`SecretMatch` never holds the clear value: only the rule, the position, the known public
prefix followed by ``…`` (no character of the random part), the length, and the first 12 hex digits
of the value's SHA-256 (48 bits: enough to track one key across files and scans, far too few to
recover a key of 128+ random bits).
"""

from __future__ import annotations

import hashlib
import itertools
import math
import re
import string
from bisect import bisect_right
from collections import Counter
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

#: Characters of the redacted form that stand for the hidden part.
ELLIPSIS = "…"

#: Words a secret's *assignment* carries; a keyword-gated shape needs one before it on its line.
_SECRET_WORDS = re.compile(r"(?i)key|token|secret|passw|auth|bearer|credential|api")

#: Text that tells a human to substitute a value: never a credential.
_INSTRUCTION = re.compile(
    r"(?i)your[-_]?(?:api[-_]?)?(?:key|token|secret)|placeholder|changeme|change[-_]me|replace[-_]?me"
    r"|replace[-_]?with|insert[-_]?(?:your|key|here)|goes[-_]?here|(?:key|token)[-_]?here|redacted"
)

#: Exact documentation values published by vendors as non-functional examples.
_DOCUMENTED_EXAMPLES = frozenset(
    {
        "AKIAIOSFODNN7EXAMPLE",  # AWS documentation access key id
        "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",  # AWS documentation secret access key
        "AKIAI44QH8DHBEXAMPLE",  # AWS documentation access key id (second form)
        "je7MtGbClwBF/2Zp9Utk/h3yCo8nvbEXAMPLEKEY",  # AWS documentation secret access key (second form)
    }
)

#: Six identical characters in a row: near 1e-7 for a random body, routine in typed fillers.
_SAME_RUN = re.compile(r"(.)\1{5}")
#: Eight consecutive characters in a row (``abcdefgh``, ``23456789``).
_SEQ_RUN = 8
_STEP_RUNS = re.compile(r"\++|-+")

_ALNUM_CHARS = frozenset(string.ascii_letters + string.digits)
_TOKEN_CHARS = _ALNUM_CHARS | {"_", "-"}
_B64_CHARS = _TOKEN_CHARS | {"/", "+", "="}
#: Tokens of an identifier (``MistralApiKey``, ``gpt4oMini``); a random value splits into many.
_WORDISH = re.compile(r"[A-Z]?[a-z]+|[A-Z]+(?![a-z])|[0-9]+")


@dataclass(frozen=True, slots=True)
class SecretRule:
    """One credential shape.

    ``pattern`` has a group ``secret`` (the whole value) and a group ``body`` (its random part).
    The rule runs only on text that contains one of ``anchors`` (lower-case literals), which is how
    one cheap pass over a file decides which rules to try. ``keywords`` (lower-case regex
    alternatives) gate shapes that are not distinctive alone: one must name the provider on the
    value's line or, when the line names no other provider, on one of the lines just around it.
    ``ai_gated`` marks credentials of general clouds (AWS, Google API keys): they are AI
    credentials only where ``ai_keywords`` appear near them or the file uses AI.
    """

    id: str
    provider: str
    label: str
    pattern: re.Pattern[str]
    anchors: tuple[str, ...]
    min_entropy: float
    keywords: str | None = None
    needs_secret_word: bool = False
    ai_gated: bool = False
    ai_keywords: str | None = None
    gitleaks: str | None = None
    #: Characters that may not sit just before the value (it would continue a longer token).
    left: frozenset[str] = _TOKEN_CHARS

    @property
    def confidence(self) -> str:
        """``high`` for shapes distinctive alone; ``medium`` for keyword-gated generic shapes."""
        return "medium" if self.keywords is not None else "high"


@dataclass(frozen=True, slots=True)
class SecretMatch:
    """A credential found in text, already redacted: the clear value is not kept."""

    rule: SecretRule
    line: int
    column: int
    redacted: str
    sha256: str
    length: int
    ai_context: bool
    context_provider: str | None

    @property
    def provider(self) -> str:
        return self.rule.provider


def _rx(body: str) -> re.Pattern[str]:
    return re.compile(body)


# Boundaries: a value must not continue a longer token on either side. The right one is a lookahead;
# the left one is checked after the match (``SecretRule.left``), because a leading lookbehind stops
# the regex engine from skipping ahead to the pattern's literal prefix and makes scans several times
# slower.
_R = r"(?![A-Za-z0-9_\-])"
_R_ALNUM = r"(?![A-Za-z0-9])"
_R_B64 = r"(?![A-Za-z0-9/+=_\-])"

_AWS_AI = r"bedrock|sagemaker|anthropic\.claude|amazon\.titan|amazon\.nova|meta\.llama|cohere\.|mistral\."
_GOOGLE_AI = r"gemini|genai|generativelanguage|generative_?ai|generativeai|vertex|palm|aistudio|makersuite"

RULES: tuple[SecretRule, ...] = (
    SecretRule(
        id="openai-api-key",
        provider="openai",
        label="OpenAI API key",
        # Project, service-account and admin keys carry the base64 of "OpenAI" (T3BlbkFJ) inside.
        pattern=_rx(
            r"(?P<secret>(?P<prefix>sk-(?:proj|svcacct|admin)-)"
            r"(?P<body>[A-Za-z0-9_\-]{20,120}T3BlbkFJ[A-Za-z0-9_\-]{20,120}))" + _R
        ),
        anchors=("t3blbkfj",),
        min_entropy=4.0,
        gitleaks="openai-api-key",
    ),
    SecretRule(
        id="openai-legacy-api-key",
        provider="openai",
        label="OpenAI API key",
        pattern=_rx(r"(?P<secret>(?P<prefix>sk-)(?P<body>[A-Za-z0-9]{20}T3BlbkFJ[A-Za-z0-9]{20}))" + _R),
        anchors=("t3blbkfj",),
        min_entropy=3.5,
        gitleaks="openai-api-key",
    ),
    SecretRule(
        id="openai-project-key-unanchored",
        provider="openai",
        label="OpenAI API key",
        # The sk-proj-/sk-svcacct-/sk-admin- prefix is distinctive alone; keys without the anchor
        # still circulate (older formats, hand-made samples), so they count at a higher entropy bar.
        pattern=_rx(
            r"(?P<secret>(?P<prefix>sk-(?:proj|svcacct|admin)-)(?P<body>[A-Za-z0-9_\-]{40,200}))" + _R
        ),
        anchors=("sk-proj-", "sk-svcacct-", "sk-admin-"),
        min_entropy=4.2,
    ),
    SecretRule(
        id="openai-legacy-api-key-gated",
        provider="openai",
        label="OpenAI API key",
        pattern=_rx(r"(?P<secret>(?P<prefix>sk-)(?P<body>[A-Za-z0-9]{48}))" + _R),
        anchors=("sk-",),
        min_entropy=4.0,
        keywords=r"openai|gpt",
    ),
    SecretRule(
        id="anthropic-api-key",
        provider="anthropic",
        label="Anthropic API key",
        pattern=_rx(r"(?P<secret>(?P<prefix>sk-ant-api03-)(?P<body>[A-Za-z0-9_\-]{93}AA))" + _R),
        anchors=("sk-ant-api03-",),
        min_entropy=4.2,
        gitleaks="anthropic-api-key",
    ),
    SecretRule(
        id="anthropic-admin-api-key",
        provider="anthropic",
        label="Anthropic admin API key",
        pattern=_rx(r"(?P<secret>(?P<prefix>sk-ant-admin01-)(?P<body>[A-Za-z0-9_\-]{93}AA))" + _R),
        anchors=("sk-ant-admin01-",),
        min_entropy=4.2,
        gitleaks="anthropic-admin-api-key",
    ),
    SecretRule(
        id="huggingface-access-token",
        provider="huggingface",
        label="Hugging Face token",
        pattern=_rx(r"(?P<secret>(?P<prefix>hf_)(?P<body>[A-Za-z]{34}))" + _R_ALNUM),
        anchors=("hf_",),
        min_entropy=3.6,
        gitleaks="huggingface-access-token",
    ),
    SecretRule(
        id="huggingface-organization-api-token",
        provider="huggingface",
        label="Hugging Face organization token",
        pattern=_rx(r"(?P<secret>(?P<prefix>api_org_)(?P<body>[A-Za-z]{34}))" + _R_ALNUM),
        anchors=("api_org_",),
        min_entropy=3.6,
        gitleaks="huggingface-organization-api-token",
    ),
    SecretRule(
        id="google-api-key",
        provider="google",
        label="Google API key",
        pattern=_rx(r"(?P<secret>(?P<prefix>AIza)(?P<body>[A-Za-z0-9_\-]{35}))" + _R),
        anchors=("aiza",),
        min_entropy=3.8,
        ai_gated=True,
        ai_keywords=_GOOGLE_AI,
        gitleaks="gcp-api-key",
    ),
    SecretRule(
        id="groq-api-key",
        provider="groq",
        label="Groq API key",
        pattern=_rx(r"(?P<secret>(?P<prefix>gsk_)(?P<body>[A-Za-z0-9]{52}))" + _R_ALNUM),
        anchors=("gsk_",),
        min_entropy=4.2,
    ),
    SecretRule(
        id="xai-api-key",
        provider="xai",
        label="xAI API key",
        pattern=_rx(r"(?P<secret>(?P<prefix>xai-)(?P<body>[A-Za-z0-9_]{80}))" + _R),
        anchors=("xai-",),
        min_entropy=4.5,
    ),
    SecretRule(
        id="mistral-api-key",
        provider="mistral",
        label="Mistral API key",
        pattern=_rx(r"(?P<secret>(?P<prefix>)(?P<body>[A-Za-z0-9]{32}))" + _R),
        anchors=("mistral",),
        min_entropy=3.8,
        keywords=r"mistral",
        needs_secret_word=True,
    ),
    SecretRule(
        id="cohere-api-key",
        provider="cohere",
        label="Cohere API key",
        pattern=_rx(r"(?P<secret>(?P<prefix>)(?P<body>[A-Za-z0-9]{40}))" + _R),
        anchors=("cohere", "co_api_key"),
        min_entropy=4.0,
        keywords=r"cohere|co_api_key",
        needs_secret_word=True,
        gitleaks="cohere-api-token",
    ),
    SecretRule(
        id="replicate-api-token",
        provider="replicate",
        label="Replicate API token",
        pattern=_rx(r"(?P<secret>(?P<prefix>r8_)(?P<body>[A-Za-z0-9_\-]{37}))" + _R),
        anchors=("r8_",),
        min_entropy=3.8,
    ),
    SecretRule(
        id="deepseek-api-key",
        provider="deepseek",
        label="DeepSeek API key",
        pattern=_rx(r"(?P<secret>(?P<prefix>sk-)(?P<body>[a-z0-9]{32}))" + _R),
        anchors=("deepseek",),
        min_entropy=3.5,
        keywords=r"deepseek",
    ),
    SecretRule(
        id="perplexity-api-key",
        provider="perplexity",
        label="Perplexity API key",
        pattern=_rx(r"(?P<secret>(?P<prefix>pplx-)(?P<body>[A-Za-z0-9]{48}))" + _R_ALNUM),
        anchors=("pplx-",),
        min_entropy=4.0,
        gitleaks="perplexity-api-key",
    ),
    SecretRule(
        id="openrouter-api-key",
        provider="openrouter",
        label="OpenRouter API key",
        pattern=_rx(r"(?P<secret>(?P<prefix>sk-or-v1-)(?P<body>[0-9a-f]{64}))" + _R_ALNUM),
        anchors=("sk-or-v1-",),
        min_entropy=3.2,
    ),
    SecretRule(
        id="azure-openai-api-key",
        provider="azure-openai",
        label="Azure OpenAI API key",
        pattern=_rx(r"(?P<secret>(?P<prefix>)(?P<body>[a-fA-F0-9]{32}))" + _R),
        anchors=("azure",),
        min_entropy=2.9,
        keywords=r"azure[_\-.]?openai|openai\.azure\.com|azure[_\-.]?(?:ai|cognitive)",
        needs_secret_word=True,
    ),
    SecretRule(
        id="langsmith-api-key",
        provider="langsmith",
        label="LangSmith API key",
        pattern=_rx(r"(?P<secret>(?P<prefix>lsv2_(?:pt|sk)_)(?P<body>[a-f0-9]{32}_[a-f0-9]{10}))" + _R_ALNUM),
        anchors=("lsv2_",),
        min_entropy=3.0,
    ),
    SecretRule(
        id="langfuse-secret-key",
        provider="langfuse",
        label="Langfuse secret key",
        pattern=_rx(
            r"(?P<secret>(?P<prefix>sk-lf-)"
            r"(?P<body>[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}))" + _R_ALNUM
        ),
        anchors=("sk-lf-",),
        min_entropy=2.8,
    ),
    SecretRule(
        id="pinecone-api-key",
        provider="pinecone",
        label="Pinecone API key",
        pattern=_rx(r"(?P<secret>(?P<prefix>pcsk_)(?P<body>[A-Za-z0-9]{5,6}_[A-Za-z0-9]{63}))" + _R),
        anchors=("pcsk_",),
        min_entropy=4.2,
    ),
    SecretRule(
        id="nvidia-api-key",
        provider="nvidia-nim",
        label="NVIDIA API key",
        pattern=_rx(r"(?P<secret>(?P<prefix>nvapi-)(?P<body>[A-Za-z0-9_\-]{64}))" + _R),
        anchors=("nvapi-",),
        min_entropy=4.2,
    ),
    SecretRule(
        id="aws-access-key-id",
        provider="aws",
        label="AWS access key id",
        pattern=_rx(r"(?P<secret>(?P<prefix>AKIA|ASIA|ABIA|ACCA)(?P<body>[A-Z2-7]{16}))" + _R_ALNUM),
        anchors=("akia", "asia", "abia", "acca"),
        left=_ALNUM_CHARS,
        min_entropy=2.5,
        ai_gated=True,
        ai_keywords=_AWS_AI,
        gitleaks="aws-access-token",
    ),
    SecretRule(
        id="aws-secret-access-key",
        provider="aws",
        label="AWS secret access key",
        left=_B64_CHARS,
        pattern=_rx(r"(?P<secret>(?P<prefix>)(?P<body>[A-Za-z0-9/+]{40}))" + _R_B64),
        # Any-of: the file must name an AWS secret key somewhere before the costly shape search runs.
        anchors=("secret_access_key", "secretaccesskey", "secret-access-key", "aws_secret", "awssecret"),
        min_entropy=4.0,
        keywords=r"aws",
        needs_secret_word=True,
        ai_gated=True,
        ai_keywords=_AWS_AI,
    ),
)

_BY_PRIORITY = tuple(sorted(RULES, key=lambda r: r.keywords is not None))

#: Provider words used to tell which provider a line names (for keyword-gated rules).
_PROVIDER_WORDS: dict[str, re.Pattern[str]] = {
    "openai": re.compile(r"(?i)openai"),
    "anthropic": re.compile(r"(?i)anthropic|claude"),
    "mistral": re.compile(r"(?i)mistral"),
    "cohere": re.compile(r"(?i)cohere|co_api_key"),
    "deepseek": re.compile(r"(?i)deepseek"),
    "azure-openai": re.compile(r"(?i)azure"),
    "aws": re.compile(r"(?i)aws"),
    "groq": re.compile(r"(?i)groq"),
    "perplexity": re.compile(r"(?i)perplexity|pplx"),
    "google": re.compile(r"(?i)gemini|google"),
    "huggingface": re.compile(r"(?i)huggingface|hugging_face|\bhf_"),
    "elevenlabs": re.compile(r"(?i)elevenlabs|xi_api_key"),
    "together": re.compile(r"(?i)together"),
    "fireworks": re.compile(r"(?i)fireworks"),
    "voyage": re.compile(r"(?i)voyage"),
    "pinecone": re.compile(r"(?i)pinecone"),
    "wandb": re.compile(r"(?i)wandb"),
}

#: Lines above and below a value searched for provider keywords and AI context.
GATE_LINES_BEFORE = 3
GATE_LINES_AFTER = 2
AI_CONTEXT_LINES = 6
#: Characters searched either side of a value, whatever the line lengths (minified files).
WINDOW_CHARS = 2000


def shannon_entropy(s: str) -> float:
    """Bits per character of ``s`` (0.0 for the empty string)."""
    if not s:
        return 0.0
    n = len(s)
    return -sum(c / n * math.log2(c / n) for c in Counter(s).values())


def _sequence_stats(s: str) -> tuple[int, float]:
    """Longest run of consecutive characters (``abcdef``, ``987``) and the share of consecutive neighbours."""
    if len(s) < 2:
        return len(s), 0.0
    codes = s.encode("utf-8", "replace")
    # One symbol per neighbour pair: '+' one up, '-' one down, '.' anything else; runs are then regex work.
    steps = "".join("+" if b - a == 1 else "-" if a - b == 1 else "." for a, b in itertools.pairwise(codes))
    longest = max((len(r) for r in _STEP_RUNS.findall(steps)), default=0)
    return longest + 1, (len(steps) - steps.count(".")) / len(steps)


def _identifier_like(s: str) -> bool:
    """Whether ``s`` reads as words (``MistralApiKeyFromEnvironment``) rather than random characters."""
    tokens = _WORDISH.findall(s)
    if len(tokens) * 4 > len(s):
        return False
    capitalised = sum(1 for t in tokens if len(t) >= 3 and t[0].isupper() and t[1:].islower())
    return not any(c.isdigit() for c in s) or capitalised >= 2


def decoy_reason(secret: str, body: str, rule: SecretRule) -> str | None:
    """Why a shape match is not a credential (placeholder, low entropy, ...), or None when it is one."""
    if secret in _DOCUMENTED_EXAMPLES:
        return "published documentation example"
    if _INSTRUCTION.search(body):
        return "placeholder text"
    core = body.replace("-", "").replace("_", "")
    if _SAME_RUN.search(core):
        return "repeated character"
    if shannon_entropy(core) < rule.min_entropy:
        return "low entropy"
    if rule.keywords is not None and _identifier_like(core):
        return "identifier-like word sequence"
    longest, share = _sequence_stats(core)
    if longest >= _SEQ_RUN or share >= 0.4:
        return "character sequence"
    return None


def redact(prefix: str, length: int) -> str:
    """The shown form of a secret: its known public prefix and an ellipsis, nothing of the random part."""
    return f"{prefix}{ELLIPSIS}" if prefix else f"{ELLIPSIS}({length} chars)"


def secret_digest(secret: str) -> str:
    """First 12 hex digits of the value's SHA-256: tracks one key across files and scans."""
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()[:12]


class _Lines:
    """Line lookup for one text, computed once and only when something matched."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.starts = [0]
        self.starts.extend(m.end() for m in re.finditer(r"\n", text))

    def index(self, offset: int) -> int:
        """0-based line index of ``offset``."""
        return bisect_right(self.starts, offset) - 1

    def span(self, first: int, last: int, around: int) -> str:
        """Lines ``first``..``last`` (0-based, clipped), at most ``WINDOW_CHARS`` either side of ``around``.

        The character bound keeps the work per match small on minified files, whose lines run to
        megabytes.
        """
        first = max(first, 0)
        last = min(last, len(self.starts) - 1)
        end = self.starts[last + 1] if last + 1 < len(self.starts) else len(self.text)
        start = max(self.starts[first], around - WINDOW_CHARS)
        return self.text[start : min(end, around + WINDOW_CHARS)]


def candidate_rules(text: str) -> list[SecretRule]:
    """The rules worth running on ``text``: one lower-cased pass, then a substring test per anchor.

    Rules with a fixed prefix come first, so a span they claim is never re-read as a generic shape.
    """
    lowered = text.lower()
    return [r for r in _BY_PRIORITY if any(a in lowered for a in r.anchors)]


def find_secrets(text: str, rules: Sequence[SecretRule] | None = None) -> Iterator[SecretMatch]:
    """Every credential in ``text``, redacted, by position. Of overlapping matches the first rule wins."""
    active = candidate_rules(text) if rules is None else list(rules)
    if not active:
        return
    lines: _Lines | None = None
    taken: list[tuple[int, int]] = []
    found: list[tuple[int, SecretMatch]] = []
    for rule in active:
        if rule.keywords is None:
            regions: list[tuple[int, int]] = [(0, len(text))]
        else:
            lines = lines or _Lines(text)
            regions = _keyword_regions(rule.keywords, lines)
        for pos, endpos in regions:
            for m in rule.pattern.finditer(text, pos, endpos):
                if lines is None:
                    lines = _Lines(text)
                match = _accept(rule, m, text, lines, taken)
                if match is not None:
                    taken.append(m.span("secret"))
                    found.append((m.start("secret"), match))
    found.sort(key=lambda t: t[0])
    yield from (m for _, m in found)


def _keyword_regions(keywords: str, lines: _Lines) -> list[tuple[int, int]]:
    """Spans of whole lines where a keyword-gated value could sit: around each keyword occurrence.

    Generic shapes are costly to search for in a whole file; only these windows can pass the gate.
    Spans end at a line end, so a value is never cut short by the span boundary.
    """
    spans: list[tuple[int, int]] = []
    for k in re.finditer(keywords, lines.text, re.IGNORECASE):
        idx = lines.index(k.start())
        first = max(idx - GATE_LINES_AFTER, 0)
        last = min(idx + GATE_LINES_BEFORE, len(lines.starts) - 1)
        start = lines.starts[first]
        end = lines.starts[last + 1] - 1 if last + 1 < len(lines.starts) else len(lines.text)
        if spans and start <= spans[-1][1]:
            spans[-1] = (spans[-1][0], max(spans[-1][1], end))
        else:
            spans.append((start, end))
    return spans


def _accept(
    rule: SecretRule, m: re.Match[str], text: str, lines: _Lines, taken: list[tuple[int, int]]
) -> SecretMatch | None:
    """The redacted match for a shape match that passes boundaries, gate and decoy filter; else None."""
    start, end = m.span("secret")
    if start > 0 and text[start - 1] in rule.left:
        return None
    if any(s < end and start < e for s, e in taken):
        return None
    idx = lines.index(start)
    # The keyword gate is cheaper than the decoy filter and rejects most generic shapes.
    if rule.keywords is not None and not _gate(rule, lines, idx, start):
        return None
    secret, body = m.group("secret"), m.group("body")
    if decoy_reason(secret, body, rule) is not None:
        return None
    ai_context, context_provider = _ai_context(rule, lines, idx, start)
    return SecretMatch(
        rule=rule,
        line=idx + 1,
        column=start - lines.starts[idx] + 1,
        redacted=redact(m.group("prefix"), len(secret)),
        sha256=secret_digest(secret),
        length=len(secret),
        ai_context=ai_context,
        context_provider=context_provider,
    )


_ASSIGNED_NAME = re.compile(r"""([\w.\-]+)["'\]\s]*(?::=|=>|=|:|,|\()\s*["'`]?\s*$""")


def _gate(rule: SecretRule, lines: _Lines, idx: int, start: int) -> bool:
    """Whether a keyword-gated shape sits where its provider's key would.

    The name the value is assigned to decides first (``MISTRAL_API_KEY=``, ``"cohere_key":``): it
    accepts the value when it names the provider and rejects it when it names another one. Otherwise
    a provider keyword must appear on the value's line or on the lines just around it.
    """
    assert rule.keywords is not None
    own = re.compile(rule.keywords, re.IGNORECASE)
    before = lines.text[max(lines.starts[idx], start - WINDOW_CHARS // 10) : start]
    # Without a secret word on the line, only a provider client built with the key as its first
    # argument (``cohere.Client("...")``) vouches for the value.
    client_call = r"(?:" + rule.keywords + r")[\w.]*\(\s*[\"']$"
    if (
        rule.needs_secret_word
        and not _SECRET_WORDS.search(before)
        and not re.search(client_call, before, re.IGNORECASE)
    ):
        return False
    named = _ASSIGNED_NAME.search(before)
    if named is not None:
        name = named.group(1)
        if own.search(name):
            return True
        if any(p != rule.provider and words.search(name) for p, words in _PROVIDER_WORDS.items()):
            return False
    return own.search(lines.span(idx - GATE_LINES_BEFORE, idx + GATE_LINES_AFTER, start)) is not None


_AI_PROVIDER_OF_AWS = (("bedrock", re.compile(r"(?i)bedrock")), ("sagemaker", re.compile(r"(?i)sagemaker")))


def _ai_context(rule: SecretRule, lines: _Lines, idx: int, start: int) -> tuple[bool, str | None]:
    """For general-cloud keys: whether AI words sit near the key, and which AI service they name."""
    if not rule.ai_gated or rule.ai_keywords is None:
        return True, None
    window = lines.span(idx - AI_CONTEXT_LINES, idx + AI_CONTEXT_LINES, start)
    if not re.search(rule.ai_keywords, window, re.IGNORECASE):
        return False, None
    if rule.provider == "aws":
        for name, words in _AI_PROVIDER_OF_AWS:
            if words.search(window):
                return True, name
        return True, "bedrock"
    return True, rule.provider
