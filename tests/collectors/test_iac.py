"""IacCollector: Terraform, Bicep and ARM files."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from aispm.collectors.base import CollectorError, EnvBinding, ModelMention, Observation, SourceFile, scope_of
from aispm.collectors.iac import IacCollector, bedrock_model_from_arn, is_iac_file
from aispm.model import Asset, AssetKind, Relation, RelationKind
from aispm.pipeline import ScanOptions, scan


def write(root: Path, rel: str, text: str) -> SourceFile:
    path = root / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return SourceFile(path, rel, path.stat().st_size, scope_of(rel))


def collect(root: Path, rel: str, text: str) -> list[Observation]:
    f = write(root, rel, text)
    c = IacCollector()
    assert c.wants(f)
    return list(c.collect(f))


def resources(obs: list[Observation]) -> dict[str, Asset]:
    return {o.name: o for o in obs if isinstance(o, Asset) and o.kind == AssetKind.CLOUD_RESOURCE}


def mentions(obs: list[Observation]) -> list[ModelMention]:
    return [o for o in obs if isinstance(o, ModelMention)]


def bindings(obs: list[Observation]) -> dict[str, str]:
    return {o.name: o.value for o in obs if isinstance(o, EnvBinding)}


TF = """\
variable "model_id" {
  type    = string
  default = "anthropic.claude-3-sonnet-20240229-v1:0"
}

variable "db_password" {
  type      = string
  default   = "hunter2hunter2"
  sensitive = true
}

locals {
  chat_model = "gpt-4o"
}

resource "aws_bedrockagent_agent" "support" {
  agent_name              = "support"
  foundation_model        = var.model_id
  idle_session_ttl_in_seconds = 600
}

resource "aws_bedrock_custom_model" "tuned" {
  custom_model_name     = "tuned"
  base_model_identifier = "arn:aws:bedrock:us-east-1::foundation-model/amazon.titan-text-express-v1"
}

resource "azurerm_cognitive_account" "oai" {
  name                          = "oai"
  kind                          = "OpenAI"
  sku_name                      = "S0"
  public_network_access_enabled = true
  local_auth_enabled            = true
}

resource "azurerm_cognitive_deployment" "chat" {
  name                 = "chat"
  cognitive_account_id = azurerm_cognitive_account.oai.id
  model {
    format  = "OpenAI"
    name    = local.chat_model
    version = "2024-08-06"
  }
  sku { name = "Standard" }
}

resource "azurerm_cognitive_deployment" "literal" {
  name                 = "literal"
  cognitive_account_id = azurerm_cognitive_account.oai.id
  model {
    format = "OpenAI"
    name   = "gpt-4o-mini"
  }
}

resource "aws_sagemaker_notebook_instance" "nb" {
  name                   = "nb"
  instance_type          = "ml.t3.medium"
  root_access            = "Enabled"
  direct_internet_access = "Enabled"
}

resource "google_vertex_ai_endpoint" "ep" {
  name         = "ep"
  display_name = "ep"
  location     = "us-central1"
}

resource "aws_s3_bucket" "not_ai" {
  bucket = "x"
}
"""


def test_terraform_ai_resources_models_and_variables(tmp_path: Path) -> None:
    obs = collect(tmp_path, "infra/main.tf", TF)
    res = resources(obs)
    assert set(res) == {
        "aws_bedrockagent_agent.support",
        "aws_bedrock_custom_model.tuned",
        "azurerm_cognitive_account.oai",
        "azurerm_cognitive_deployment.chat",
        "azurerm_cognitive_deployment.literal",
        "aws_sagemaker_notebook_instance.nb",
        "google_vertex_ai_endpoint.ep",
    }
    oai = res["azurerm_cognitive_account.oai"].properties
    assert oai["service"] == "azure-openai" and oai["kind"] == "OpenAI"
    assert oai["public_network_access_enabled"] is True and oai["iac"] == "terraform"
    nb = res["aws_sagemaker_notebook_instance.nb"]
    assert nb.properties["root_access"] == "Enabled" and nb.location is not None and nb.location.line == 55
    assert res["aws_bedrockagent_agent.support"].location.line == 16  # type: ignore[union-attr]

    (agent_asset,) = [o for o in obs if isinstance(o, Asset) and o.kind == AssetKind.AGENT]
    assert agent_asset.name == "support" and agent_asset.properties["framework"] == "bedrock-agents"
    assert Relation(agent_asset.id, res["aws_bedrockagent_agent.support"].id, RelationKind.RUNS_ON) in obs
    ms = {m.owner: m for m in mentions(obs)}
    agent = ms[agent_asset.id]
    assert (agent.env_var, agent.value, agent.provider, agent.strong) == ("model_id", None, "bedrock", True)
    assert agent.location.line == 18
    tuned = ms[res["aws_bedrock_custom_model.tuned"].id]
    assert tuned.value == "amazon.titan-text-express-v1"
    chat = ms[res["azurerm_cognitive_deployment.chat"].id]
    assert (chat.env_var, chat.provider, chat.properties["model_version"]) == (
        "local.chat_model",
        "azure-openai",
        "2024-08-06",
    )
    literal = ms[res["azurerm_cognitive_deployment.literal"].id]
    assert (literal.value, literal.provider) == ("gpt-4o-mini", "azure-openai")

    b = bindings(obs)
    assert b == {"model_id": "anthropic.claude-3-sonnet-20240229-v1:0", "local.chat_model": "gpt-4o"}


def test_tfvars_and_tf_json(tmp_path: Path) -> None:
    obs = collect(
        tmp_path, "prod.tfvars", 'model_id = "anthropic.claude-3-haiku-20240307-v1:0"\nregion = "eu"\n'
    )
    assert bindings(obs) == {"model_id": "anthropic.claude-3-haiku-20240307-v1:0", "region": "eu"}
    doc = {
        "variable": {"m": {"default": "amazon.nova-pro-v1:0"}},
        "resource": {"aws_bedrockagent_agent": {"a": {"agent_name": "a", "foundation_model": "${var.m}"}}},
    }
    obs = collect(tmp_path, "main.tf.json", json.dumps(doc, indent=2))
    assert bindings(obs) == {"m": "amazon.nova-pro-v1:0"}
    (m,) = mentions(obs)
    assert (m.env_var, m.provider) == ("m", "bedrock")
    assert set(resources(obs)) == {"aws_bedrockagent_agent.a"}


def test_terraform_without_ai_is_silent(tmp_path: Path) -> None:
    obs = collect(tmp_path, "s3.tf", 'resource "aws_s3_bucket" "b" {\n  bucket = "model-artifacts"\n}\n')
    assert obs == []


def test_terraform_parse_error(tmp_path: Path) -> None:
    with pytest.raises(CollectorError, match="invalid HCL"):
        collect(tmp_path, "bad.tf", 'resource "aws_bedrock_x" "y" {\n  a = \n')
    with pytest.raises(CollectorError, match="invalid JSON"):
        collect(tmp_path, "bad.tf.json", "{")


def test_pipeline_resolves_terraform_variable_across_files(tmp_path: Path) -> None:
    write(tmp_path, "variables.tf", 'variable "model_id" {\n  type = string\n}\n')
    write(tmp_path, "terraform.tfvars", 'model_id = "meta-llama/Llama-3.1-8B-Instruct"\n')
    write(
        tmp_path,
        "main.tf",
        'resource "aws_sagemaker_model" "m" {\n  name = "m"\n  model_id = var.model_id\n}\n',
    )
    result = scan([tmp_path], ScanOptions(collectors=["iac"], checks=[]))
    assert result.errors == ()
    model = next(a for a in result.assets if a.kind == AssetKind.MODEL)
    assert model.name == "meta-llama/Llama-3.1-8B-Instruct"
    resource = next(a for a in result.assets if a.kind == AssetKind.CLOUD_RESOURCE)
    assert any(r.source == resource.id and r.target == model.id for r in result.relations)


BICEP = """\
@description('The chat model')
param chatModelName string = 'gpt-4o'
param embeddingModel string = 'text-embedding-3-large'
param location string = resourceGroup().location
param kind string = 'OpenAI'
// param commented string = 'gpt-3.5-turbo'
param deployments array = [
  {
    name: 'emb'
    model: {
      format: 'OpenAI'
      name: embeddingModel
    }
  }
  {
    name: 'mini'
    model: { format: 'OpenAI', name: 'gpt-4o-mini', version: '2024-07-18' }
  }
]

resource account 'Microsoft.CognitiveServices/accounts@2023-05-01' = {
  name: 'oai'
  location: location
  kind: kind
  properties: {
    publicNetworkAccess: 'Enabled'
  }
}

resource chat 'Microsoft.CognitiveServices/accounts/deployments@2023-05-01' = {
  parent: account
  name: 'chat'
  properties: {
    model: {
      format: 'OpenAI'
      name: chatModelName
      version: '2024-08-06'
    }
  }
}

@batchSize(1)
resource more 'Microsoft.CognitiveServices/accounts/deployments@2023-05-01' = [for d in deployments: {
  parent: account
  name: d.name
  properties: {
    model: d.model
  }
}]

resource ws 'Microsoft.MachineLearningServices/workspaces@2024-04-01' = {
  name: 'ml'
  location: location
}

resource storage 'Microsoft.Storage/storageAccounts@2023-01-01' = {
  name: 'st'
}
"""


def test_bicep_params_resources_and_models(tmp_path: Path) -> None:
    obs = collect(tmp_path, "infra/main.bicep", BICEP)
    b = bindings(obs)
    assert b == {"chatModelName": "gpt-4o", "embeddingModel": "text-embedding-3-large", "kind": "OpenAI"}
    res = resources(obs)
    assert set(res) == {
        "Microsoft.CognitiveServices/accounts.account",
        "Microsoft.CognitiveServices/accounts/deployments.chat",
        "Microsoft.CognitiveServices/accounts/deployments.more",
        "Microsoft.MachineLearningServices/workspaces.ws",
    }
    account = res["Microsoft.CognitiveServices/accounts.account"]
    assert account.properties["kind"] == "OpenAI" and account.properties["service"] == "azure-openai"
    got = {(m.value, m.env_var, m.provider, m.location.line) for m in mentions(obs)}
    assert got == {
        (None, "embeddingModel", "azure-openai", 10),
        ("gpt-4o-mini", None, "azure-openai", 17),
        (None, "chatModelName", "azure-openai", 34),
    }
    chat = next(m for m in mentions(obs) if m.env_var == "chatModelName")
    assert chat.owner == res["Microsoft.CognitiveServices/accounts/deployments.chat"].id
    assert chat.properties["model_version"] == "2024-08-06"


def test_bicepparam_and_arm_parameters(tmp_path: Path) -> None:
    obs = collect(
        tmp_path,
        "main.bicepparam",
        "using './main.bicep'\nparam chatModelName = 'gpt-4.1'\n"
        "param embed = readEnvironmentVariable('EMBED_MODEL', 'text-embedding-3-small')\nparam n = 3\n",
    )
    assert bindings(obs) == {"chatModelName": "gpt-4.1", "embed": "text-embedding-3-small", "n": "3"}
    params = {
        "$schema": "https://schema.management.azure.com/schemas/2019-04-01/deploymentParameters.json#",
        "parameters": {
            "chatModelName": {"value": "${AZURE_OPENAI_CHAT_MODEL=gpt-4o}"},
            "envName": {"value": "${AZURE_ENV_NAME}"},
            "adminPassword": {"value": "Sup3rS3cret!"},
        },
    }
    obs = collect(tmp_path, "infra/main.parameters.json", json.dumps(params, indent=2))
    assert bindings(obs) == {"chatModelName": "gpt-4o"}


def test_arm_template_deployments(tmp_path: Path) -> None:
    template = {
        "$schema": "https://schema.management.azure.com/schemas/2019-04-01/deploymentTemplate.json#",
        "parameters": {"modelName": {"type": "string", "defaultValue": "gpt-4o"}},
        "resources": [
            {
                "type": "Microsoft.CognitiveServices/accounts",
                "name": "oai",
                "kind": "OpenAI",
                "resources": [
                    {
                        "type": "deployments",
                        "name": "chat",
                        "properties": {"model": {"format": "OpenAI", "name": "[parameters('modelName')]"}},
                    }
                ],
            },
            {
                "type": "Microsoft.CognitiveServices/accounts/deployments",
                "name": "oai/mini",
                "properties": {"model": {"format": "OpenAI", "name": "gpt-4o-mini", "version": "2024-07-18"}},
            },
        ],
    }
    obs = collect(tmp_path, "azuredeploy.json", json.dumps(template, indent=2))
    assert bindings(obs) == {"modelName": "gpt-4o"}
    assert len(resources(obs)) == 3
    got = {(m.value, m.env_var) for m in mentions(obs)}
    assert got == {(None, "modelName"), ("gpt-4o-mini", None)}


def test_is_iac_file() -> None:
    assert is_iac_file("infra/main.tf") and is_iac_file("a/b.tfvars.json") and is_iac_file("x.bicepparam")
    assert is_iac_file("azuredeploy.parameters.json") and is_iac_file("infra/main.parameters.json")
    assert not is_iac_file("config.json") and not is_iac_file("tf.md")


def test_bedrock_arn() -> None:
    assert bedrock_model_from_arn("arn:aws:bedrock:us-east-1::foundation-model/anthropic.claude-v2:1") == (
        "anthropic.claude-v2:1"
    )
    assert bedrock_model_from_arn("amazon.titan-embed-text-v2:0") == "amazon.titan-embed-text-v2:0"
