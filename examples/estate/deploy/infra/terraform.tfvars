aws_region     = "us-east-1"
agent_model    = "anthropic.claude-3-5-sonnet-20240620-v1:0"
azure_location = "swedencentral"
