terraform {
  required_version = ">= 1.6"
  required_providers {
    aws = {
      source  = "hashicorp/aws"
      version = "~> 5.80"
    }
    azurerm = {
      source  = "hashicorp/azurerm"
      version = "~> 4.14"
    }
  }
}

provider "aws" {
  region = var.aws_region
}

provider "azurerm" {
  features {}
}

data "aws_iam_policy_document" "agent_trust" {
  statement {
    actions = ["sts:AssumeRole"]
    principals {
      type        = "Service"
      identifiers = ["bedrock.amazonaws.com"]
    }
  }
}

resource "aws_iam_role" "agent" {
  name               = "northwind-support-triage-agent"
  assume_role_policy = data.aws_iam_policy_document.agent_trust.json
}

resource "aws_bedrockagent_agent" "support_triage" {
  agent_name                  = "northwind-support-triage"
  agent_resource_role_arn     = aws_iam_role.agent.arn
  foundation_model            = var.agent_model
  idle_session_ttl_in_seconds = 600
  instruction                 = "Classify incoming support tickets by product area and urgency, and draft a first reply."
}

resource "azurerm_resource_group" "ai" {
  name     = "rg-northwind-ai"
  location = var.azure_location
}

resource "azurerm_cognitive_account" "openai" {
  name                  = "northwind-openai"
  location              = azurerm_resource_group.ai.location
  resource_group_name   = azurerm_resource_group.ai.name
  kind                  = "OpenAI"
  sku_name              = "S0"
  custom_subdomain_name = "northwind-openai"
}

resource "azurerm_cognitive_deployment" "chat" {
  name                 = "chat-gpt4o"
  cognitive_account_id = azurerm_cognitive_account.openai.id

  model {
    format  = "OpenAI"
    name    = "gpt-4o"
    version = "2024-08-06"
  }

  sku {
    name     = "Standard"
    capacity = 10
  }
}
