"""AI in infrastructure as code: Terraform (HCL and JSON), Bicep, ARM templates and parameters.

What it yields:

* a ``cloud-resource`` asset for every AI resource declared (Bedrock, SageMaker, Azure OpenAI /
  AI Services accounts and deployments, Azure ML workspaces, Vertex AI), with its scalar settings
  as properties (secret-looking ones left out) for posture checks to read;
* a :class:`ModelMention` for the model each resource names (``foundation_model``,
  ``model { name }``, a Bicep/ARM deployment's ``model.name``), owned by that resource; where the
  model comes from ``var.x`` / a Bicep param / ``[parameters('x')]`` the mention goes through that
  variable;
* an :class:`EnvBinding` for every variable default, tfvars value, local, Bicep param and ARM
  parameter, so those references resolve, wherever in the tree the value is set.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from aispm.analysis.sensitive import is_secret_name, looks_secret
from aispm.analysis.structured import LineIndex
from aispm.collectors.base import Collector, CollectorError, EnvBinding, ModelMention, Observation, SourceFile
from aispm.model import JSON, Asset, AssetKind, Relation, RelationKind

#: HCL is parsed by a pure-Python parser; files beyond this are refused rather than stall the scan.
MAX_HCL_BYTES = 1024 * 1024
MAX_PROPERTIES = 40
_TF_REF = re.compile(r"^\$\{(var|local)\.([A-Za-z_][A-Za-z0-9_-]*)\}$")
_ARM_PARAM_REF = re.compile(r"^\[parameters\('([^']+)'\)\]$", re.IGNORECASE)
_AZD_REF = re.compile(r"^\$\{([A-Za-z_][A-Za-z0-9_]*)(?:=(.*))?\}$")
_ARM_NAME = re.compile(r"(^|[._-])(azuredeploy[\w.-]*|maintemplate|[\w.-]+\.parameters(\.[\w-]+)?)\.json$")


@dataclass(frozen=True, slots=True)
class _AiType:
    service: str
    provider: str | None
    platform: str


# Terraform resource type prefixes of AI services (longest first where they overlap).
_TF_AI_TYPES: tuple[tuple[str, _AiType], ...] = (
    ("aws_bedrockagent_", _AiType("bedrock-agents", "bedrock", "aws")),
    ("aws_bedrock_", _AiType("bedrock", "bedrock", "aws")),
    ("aws_sagemaker_", _AiType("sagemaker", "sagemaker", "aws")),
    ("azurerm_cognitive_deployment", _AiType("azure-openai", "azure-openai", "azure")),
    ("azurerm_cognitive_account", _AiType("azure-ai-services", None, "azure")),
    ("azurerm_ai_services", _AiType("azure-ai-services", None, "azure")),
    ("azurerm_ai_foundry", _AiType("azure-ai-foundry", None, "azure")),
    ("azurerm_machine_learning_", _AiType("azure-ml", None, "azure")),
    ("google_vertex_ai_", _AiType("vertex-ai", "vertex-ai", "gcp")),
    ("google_workbench_", _AiType("vertex-ai-workbench", None, "gcp")),
    ("google_notebooks_", _AiType("vertex-ai-workbench", None, "gcp")),
)
# Bicep / ARM resource types (lower case, no API version).
_AZURE_AI_TYPES: dict[str, _AiType] = {
    "microsoft.cognitiveservices/accounts": _AiType("azure-ai-services", None, "azure"),
    "microsoft.cognitiveservices/accounts/deployments": _AiType("azure-openai", "azure-openai", "azure"),
    "microsoft.cognitiveservices/accounts/projects": _AiType("azure-ai-foundry", None, "azure"),
    "microsoft.machinelearningservices/workspaces": _AiType("azure-ml", None, "azure"),
    "microsoft.machinelearningservices/workspaces/onlineendpoints": _AiType("azure-ml", None, "azure"),
    "microsoft.machinelearningservices/workspaces/serverlessendpoints": _AiType("azure-ml", None, "azure"),
}
#: Attributes whose value is a model id (Terraform).
_TF_MODEL_ATTRS = (
    "foundation_model",
    "model_id",
    "base_model_identifier",
    "model_arn",
    "foundation_model_arn",
)


def is_iac_file(path: str) -> bool:
    """Whether ``path`` is Terraform, Bicep, or an ARM template / parameters file."""
    name = path.rsplit("/", 1)[-1].lower()
    if name.endswith((".tf", ".tf.json", ".tfvars", ".tfvars.json", ".bicep", ".bicepparam")):
        return True
    return bool(_ARM_NAME.search(name))


class IacCollector(Collector):
    """Reads Terraform, Bicep and ARM files for AI resources, their models and their variables."""

    name = "iac"
    version = "1"

    def wants(self, file: SourceFile) -> bool:
        """Terraform, Bicep and ARM files, by name."""
        return is_iac_file(file.path)

    def collect(self, file: SourceFile) -> Iterator[Observation]:
        """Yield AI resources, model mentions and variable bindings from ``file``."""
        name = file.name.lower()
        if name.endswith((".tf", ".tfvars")):
            text = file.read_text(MAX_HCL_BYTES)
            doc = _load_hcl(text)
            reader = _Terraform(file, LineIndex(text))
            yield from (reader.tfvars(doc) if name.endswith(".tfvars") else reader.module(doc))
        elif name.endswith((".tf.json", ".tfvars.json")):
            text = file.read_text()
            doc = _load_json(text)
            reader = _Terraform(file, LineIndex(text))
            yield from (reader.tfvars(doc) if name.endswith(".tfvars.json") else reader.module(doc))
        elif name.endswith(".bicep"):
            yield from _Bicep(file, file.read_text()).template()
        elif name.endswith(".bicepparam"):
            yield from _Bicep(file, file.read_text()).params()
        else:
            text = file.read_text()
            yield from _arm(file, LineIndex(text), _load_json(text))


def _load_hcl(text: str) -> dict[str, Any]:
    # Imported here: the HCL parser (lark) costs more to import than most scans spend in Terraform.
    import hcl2
    from hcl2.utils import SerializationOptions

    try:
        opts = SerializationOptions(strip_string_quotes=True, with_comments=False, explicit_blocks=False)
        doc = hcl2.loads(text, serialization_options=opts)
    except RecursionError:
        raise
    except Exception as exc:
        # lark raises a family of errors (UnexpectedToken, UnexpectedCharacters...) for bad HCL.
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise CollectorError(f"invalid HCL: {first[:300]}") from exc
    if not isinstance(doc, dict):
        raise CollectorError("HCL did not parse to a mapping")
    return doc


def _load_json(text: str) -> Any:
    try:
        return json.loads(text)
    except ValueError as exc:
        raise CollectorError(f"invalid JSON: {exc}") from exc


def _s(value: object) -> str | None:
    """A scalar as text; HCL strings lose the quotes older parser versions keep."""
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, int | float):
        return str(value)
    if isinstance(value, str):
        if len(value) >= 2 and value[0] == value[-1] == '"':
            return value[1:-1]
        return value
    return None


def _dicts(value: object) -> Iterator[dict[str, Any]]:
    """A block body in any of the shapes HCL and JSON give it (a mapping or a list of them)."""
    if isinstance(value, dict):
        yield value
    elif isinstance(value, list):
        for v in value:
            yield from _dicts(v)


def _binding(file: SourceFile, name: str, value: object, line: int | None) -> EnvBinding | None:
    text = _s(value)
    if text is None or not text or len(text) > 1024 or is_secret_name(name) or looks_secret(text):
        return None
    if text.startswith("${") and _TF_REF.match(text) is None and (m := _AZD_REF.match(text)):
        # azd parameters: ``${AZURE_OPENAI_MODEL=gpt-4o}`` binds the parameter to the default.
        if not m.group(2):
            return None
        text = m.group(2)
    elif "${" in text or (text.startswith("[") and text.endswith("]")):
        return None
    return EnvBinding(name, text, file.loc(line))


def _cloud_resource(
    file: SourceFile,
    rtype: str,
    rname: str,
    ai: _AiType,
    iac: str,
    line: int | None,
    props: Mapping[str, JSON],
) -> Asset:
    return Asset.create(
        AssetKind.CLOUD_RESOURCE,
        f"{rtype}.{rname}",
        key=("iac", file.path, rtype, rname),
        location=file.loc(line),
        properties={
            "platform": ai.platform,
            "service": ai.service,
            "resource_type": rtype,
            "iac": iac,
            **props,
        },
        scope=file.scope,
    )


def _settings(body: Mapping[str, Any]) -> dict[str, JSON]:
    """Scalar settings of a resource (secret-looking ones left out) and the nested blocks it has."""
    out: dict[str, JSON] = {}
    blocks: list[str] = []
    for key, value in body.items():
        if key.startswith("__") or is_secret_name(key):
            continue
        if isinstance(value, dict | list):
            blocks.append(key)
            continue
        if isinstance(value, bool):
            out[key] = value
        elif (text := _s(value)) is not None and not looks_secret(text):
            out[key] = text[:300]
        if len(out) >= MAX_PROPERTIES:
            break
    if blocks:
        out["blocks"] = sorted(blocks)
    return out


# --- Terraform ----------------------------------------------------------------------------------


def _tf_ai_type(rtype: str) -> _AiType | None:
    for prefix, ai in _TF_AI_TYPES:
        if rtype.startswith(prefix):
            return ai
    return None


class _Terraform:
    def __init__(self, file: SourceFile, lines: LineIndex) -> None:
        self.file = file
        self.lines = lines

    def tfvars(self, doc: object) -> Iterator[Observation]:
        for body in _dicts(doc):
            for name, value in body.items():
                if (b := _binding(self.file, name, value, self.lines.find(name))) is not None:
                    yield b

    def module(self, doc: Mapping[str, Any]) -> Iterator[Observation]:
        for block in _dicts(doc.get("variable")):
            for name, body in block.items():
                for b in _dicts(body):
                    if b.get("sensitive") is True:
                        continue
                    line = self._block_line("variable", name)
                    if (binding := _binding(self.file, name, b.get("default"), line)) is not None:
                        yield binding
        for block in _dicts(doc.get("locals")):
            for name, value in block.items():
                if (lb := _binding(self.file, f"local.{name}", value, self.lines.find(name))) is not None:
                    yield lb
        for group in _dicts(doc.get("resource")):
            for rtype, named in group.items():
                ai = _tf_ai_type(rtype)
                if ai is None:
                    continue
                for by_name in _dicts(named):
                    for rname, body in by_name.items():
                        for b in _dicts(body):
                            yield from self._resource(rtype, rname, b, ai)

    def _block_line(self, kind: str, *labels: str) -> int | None:
        pattern = r"\b" + kind + r"\s+" + r"\s+".join(f'"{re.escape(lbl)}"' for lbl in labels)
        m = re.search(pattern, self.lines.text)
        if m is not None:
            return self.lines.line_at(m.start())
        return self.lines.find(f'"{labels[-1]}"')

    def _resource(self, rtype: str, rname: str, body: dict[str, Any], ai: _AiType) -> Iterator[Observation]:
        line = self._block_line("resource", rtype, rname)
        props = _settings(body)
        if rtype.startswith("azurerm_cognitive_account") and isinstance(kind := _s(body.get("kind")), str):
            props["kind"] = kind
            if kind.lower() == "openai":
                ai = _AiType("azure-openai", "azure-openai", "azure")
        resource = _cloud_resource(self.file, rtype, rname, ai, "terraform", line, props)
        yield resource
        owner = resource.id
        if rtype == "aws_bedrockagent_agent":
            # The resource is also an agent: inventoried as one, running on the Bedrock resource.
            agent = Asset.create(
                AssetKind.AGENT,
                _s(body.get("agent_name")) or rname,
                key=("iac", self.file.path, rtype, rname),
                location=self.file.loc(line),
                properties={
                    "framework": "bedrock-agents",
                    "resource": f"{rtype}.{rname}",
                    "guardrail": "guardrail_configuration" in body,
                },
                scope=self.file.scope,
            )
            yield agent
            yield Relation(agent.id, resource.id, RelationKind.RUNS_ON)
            owner = agent.id
        start = self.lines.offset_of_line(line) if line else 0
        for attr in _TF_MODEL_ATTRS:
            if attr in body:
                m = self._mention(body[attr], attr, ai.provider, owner, start)
                if m is not None:
                    yield m
        for model in _dicts(body.get("model")):
            provider = ai.provider
            fmt = _s(model.get("format"))
            if fmt and fmt.lower() != "openai":
                provider = "azure-ai"
            m = self._mention(
                model.get("name"),
                "model.name",
                provider,
                resource.id,
                start,
                version=_s(model.get("version")),
            )
            if m is not None:
                yield m

    def _mention(
        self,
        value: object,
        via: str,
        provider: str | None,
        owner: str,
        start: int,
        version: str | None = None,
    ) -> ModelMention | None:
        text = _s(value)
        if not text:
            return None
        line = self.lines.find(via.split(".")[-1], start=start)
        props: dict[str, JSON] = {"model_version": version} if version else {}
        ref = _TF_REF.match(text)
        if ref is not None:
            env_var = ref.group(2) if ref.group(1) == "var" else f"local.{ref.group(2)}"
            return ModelMention(
                self.file.loc(line), via, env_var=env_var, provider=provider, strong=True, owner=owner,
                properties=props,
            )  # fmt: skip
        if "${" in text:
            return None
        return ModelMention(
            self.file.loc(line), via, value=bedrock_model_from_arn(text), provider=provider, strong=True,
            owner=owner, properties=props,
        )  # fmt: skip


def bedrock_model_from_arn(value: str) -> str:
    """``arn:aws:bedrock:...:foundation-model/anthropic.claude-v2`` -> ``anthropic.claude-v2``."""
    if value.startswith("arn:") and "foundation-model/" in value:
        return value.rsplit("foundation-model/", 1)[1]
    return value


# --- Bicep ---------------------------------------------------------------------------------------

_BICEP_PARAM = re.compile(
    r"^[ \t]*(param|var)[ \t]+([A-Za-z_]\w*)(?:[ \t]+[A-Za-z_]\w*)?[ \t]*=[ \t]*(.+)$", re.MULTILINE
)
_BICEP_STRING = re.compile(r"^'((?:[^'\\]|\\.)*)'")
_BICEP_READ_ENV = re.compile(r"^readEnvironmentVariable\(\s*'([^']+)'\s*(?:,\s*'((?:[^'\\]|\\.)*)')?\s*\)")
_BICEP_RESOURCE = re.compile(r"\bresource\s+([A-Za-z_]\w*)\s+'([^'@]+)(?:@[^']*)?'\s+(?:existing\s*)?=\s*")
_BICEP_MODEL = re.compile(r"\bmodel\s*:\s*\{")
_BICEP_FIELD = r"\b{0}\s*:\s*('((?:[^'\\]|\\.)*)'|[A-Za-z_][\w.]*)"
_BICEP_KIND = re.compile(r"^\s*kind\s*:\s*('((?:[^'\\]|\\.)*)'|[A-Za-z_]\w*)", re.MULTILINE)


class _Bicep:
    def __init__(self, file: SourceFile, text: str) -> None:
        self.file = file
        self.code = _blank_bicep_comments(text)
        self.lines = LineIndex(self.code)
        self.param_values: dict[str, str] = {}

    def params(self) -> Iterator[Observation]:
        """Bindings of a ``.bicepparam`` file (and the param defaults of a template)."""
        for m in _BICEP_PARAM.finditer(self.code):
            name, raw = m.group(2), m.group(3).strip()
            value = _bicep_literal(raw)
            if value is None:
                continue
            self.param_values[name] = value
            if (b := _binding(self.file, name, value, self.lines.line_at(m.start()))) is not None:
                yield b

    def template(self) -> Iterator[Observation]:
        yield from self.params()
        owners: list[tuple[int, int, str]] = []
        for m in _BICEP_RESOURCE.finditer(self.code):
            rtype = m.group(2).lower()
            body_start = self.code.find("{", m.end() - 1)
            body_end = _matching(self.code, body_start) if body_start != -1 else -1
            short = rtype.rsplit("/", 1)[-1]
            ai = _AZURE_AI_TYPES.get(rtype) or (
                _AZURE_AI_TYPES["microsoft.cognitiveservices/accounts/deployments"]
                if short == "deployments"
                else None
            )
            if ai is None or body_end == -1:
                continue
            body = self.code[body_start : body_end + 1]
            props: dict[str, JSON] = {}
            if rtype == "microsoft.cognitiveservices/accounts" and (k := _BICEP_KIND.search(body[1:])):
                kind = k.group(2) if k.group(2) is not None else self.param_values.get(k.group(1))
                if kind:
                    props["kind"] = kind
                    if kind.lower() == "openai":
                        ai = _AiType("azure-openai", "azure-openai", "azure")
            resource = _cloud_resource(
                self.file, m.group(2), m.group(1), ai, "bicep", self.lines.line_at(m.start()), props
            )
            yield resource
            owners.append((body_start, body_end, resource.id))
        for m in _BICEP_MODEL.finditer(self.code):
            start = m.end() - 1
            end = _matching(self.code, start)
            if end == -1:
                continue
            obj = self.code[start : end + 1]
            owner = min(
                ((e - s, rid) for s, e, rid in owners if s <= start <= e),
                default=(0, None),
                key=lambda t: t[0],
            )[1]
            mention = self._model_object(obj, self.lines.line_at(m.start()), owner)
            if mention is not None:
                yield mention

    def _model_object(self, obj: str, line: int, owner: str | None) -> ModelMention | None:
        name = re.search(_BICEP_FIELD.format("name"), obj)
        if name is None:
            return None
        fmt = re.search(_BICEP_FIELD.format("format"), obj)
        version = re.search(_BICEP_FIELD.format("version"), obj)
        fmt_value = fmt.group(2) if fmt is not None else None
        provider = "azure-openai" if fmt_value is None or fmt_value.lower() == "openai" else "azure-ai"
        props: dict[str, JSON] = {}
        if version is not None and version.group(2):
            props["model_version"] = version.group(2)
        loc = self.file.loc(line)
        if name.group(2) is not None:
            return ModelMention(
                loc,
                "model.name",
                value=name.group(2),
                provider=provider,
                strong=True,
                owner=owner,
                properties=props,
            )
        ident = name.group(1)
        if "." in ident:
            # ``deployment.model.name`` inside a loop: the literal lives in the array param.
            return None
        return ModelMention(
            loc, "model.name", env_var=ident, provider=provider, strong=True, owner=owner, properties=props
        )


def _bicep_literal(raw: str) -> str | None:
    if (m := _BICEP_STRING.match(raw)) is not None:
        value = m.group(1)
        return None if "${" in value else value.replace("\\'", "'")
    if (m := _BICEP_READ_ENV.match(raw)) is not None:
        return m.group(2)
    if re.fullmatch(r"-?\d+(\.\d+)?", raw):
        return raw
    return None


def _blank_bicep_comments(text: str) -> str:
    """``text`` with ``//`` and ``/* */`` comments replaced by spaces (offsets and lines kept)."""
    out = list(text)
    i, n = 0, len(text)
    while i < n:
        c = text[i]
        if c == "'":
            i += 1
            while i < n and text[i] != "'":
                i += 2 if text[i] == "\\" else 1
            i += 1
        elif text.startswith("//", i):
            while i < n and text[i] != "\n":
                out[i] = " "
                i += 1
        elif text.startswith("/*", i):
            end = text.find("*/", i + 2)
            end = n if end == -1 else end + 2
            for j in range(i, end):
                if text[j] != "\n":
                    out[j] = " "
            i = end
        else:
            i += 1
    return "".join(out)


def _matching(text: str, open_at: int) -> int:
    """Index of the brace closing the one at ``open_at`` (quotes respected), or -1."""
    depth = 0
    i, n = open_at, len(text)
    while i < n:
        c = text[i]
        if c == "'":
            i += 1
            while i < n and text[i] != "'":
                i += 2 if text[i] == "\\" else 1
        elif c == "{":
            depth += 1
        elif c == "}":
            depth -= 1
            if depth == 0:
                return i
        i += 1
    return -1


# --- ARM templates and parameter files --------------------------------------------------------------


def _arm(file: SourceFile, lines: LineIndex, doc: object) -> Iterator[Observation]:
    if not isinstance(doc, dict):
        return
    schema = str(doc.get("$schema", "")).lower()
    params = doc.get("parameters")
    if isinstance(params, dict):
        for name, spec in params.items():
            if not isinstance(spec, dict):
                continue
            value = spec.get("value", spec.get("defaultValue"))
            if (b := _binding(file, name, value, lines.find(f'"{name}"'))) is not None:
                yield b
    if "deploymenttemplate" not in schema and "resources" not in doc:
        return
    yield from _arm_resources(file, lines, doc.get("resources"), None, 0)


def _arm_resources(
    file: SourceFile, lines: LineIndex, resources: object, parent_type: str | None, depth: int
) -> Iterator[Observation]:
    if depth > 8:
        return
    items = (
        resources.values()
        if isinstance(resources, dict)
        else resources
        if isinstance(resources, list)
        else []
    )
    for res in items:
        if not isinstance(res, dict) or not isinstance(res.get("type"), str):
            continue
        rtype = res["type"] if parent_type is None or "/" in res["type"] else f"{parent_type}/{res['type']}"
        ai = _AZURE_AI_TYPES.get(rtype.lower())
        rname = str(res.get("name", ""))
        line = lines.find(f'"{rtype}"') or lines.find(rname)
        if ai is not None:
            props: dict[str, JSON] = {}
            kind = res.get("kind")
            if isinstance(kind, str):
                props["kind"] = kind
                if kind.lower() == "openai":
                    ai = _AiType("azure-openai", "azure-openai", "azure")
            resource = _cloud_resource(file, rtype, rname, ai, "arm", line, props)
            yield resource
            model = (
                res.get("properties", {}).get("model") if isinstance(res.get("properties"), dict) else None
            )
            if isinstance(model, dict) and isinstance(model.get("name"), str):
                fmt = model.get("format")
                provider = (
                    "azure-openai" if not isinstance(fmt, str) or fmt.lower() == "openai" else "azure-ai"
                )
                raw = model["name"]
                mline = lines.find(raw) or line
                props_m: dict[str, JSON] = {}
                if isinstance(model.get("version"), str):
                    props_m["model_version"] = model["version"]
                if (ref := _ARM_PARAM_REF.match(raw)) is not None:
                    yield ModelMention(
                        file.loc(mline), "model.name", env_var=ref.group(1), provider=provider, strong=True,
                        owner=resource.id, properties=props_m,
                    )  # fmt: skip
                elif not raw.startswith("["):
                    yield ModelMention(
                        file.loc(mline), "model.name", value=raw, provider=provider, strong=True,
                        owner=resource.id, properties=props_m,
                    )  # fmt: skip
        yield from _arm_resources(file, lines, res.get("resources"), rtype, depth + 1)


__all__ = ["IacCollector", "bedrock_model_from_arn", "is_iac_file"]
