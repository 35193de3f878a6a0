variable "aws_region" {
  type        = string
  description = "Region for the Bedrock agent"
  default     = "us-east-1"
}

variable "agent_model" {
  type        = string
  description = "Bedrock foundation model id used by the support triage agent"
}

variable "azure_location" {
  type    = string
  default = "swedencentral"
}
