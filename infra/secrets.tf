# The LLM provider's API key. Terraform creates the secret, not its value: set it once with
#   aws secretsmanager put-secret-value --secret-id <name>-llm-api-key --secret-string '<key>'
resource "aws_secretsmanager_secret" "llm_api_key" {
  # checkov:skip=CKV2_AWS_57:A third-party API key cannot be rotated by a Lambda; rotate it at the provider and put-secret-value (docs/rollback.md).
  name                    = "${var.name}-llm-api-key"
  description             = "API key of the OpenAI-compatible LLM provider (SOCIOGRAPH_LLM_API_KEY)"
  kms_key_id              = aws_kms_key.main.arn
  recovery_window_in_days = 7
  tags                    = local.tags
}

# ECS will not start a task whose secret has no value: an empty placeholder (= no LLM: answers
# are extractive, extraction offline) until the real key is put; Terraform never overwrites it.
resource "aws_secretsmanager_secret_version" "llm_api_key" {
  secret_id     = aws_secretsmanager_secret.llm_api_key.id
  secret_string = " "

  lifecycle {
    ignore_changes = [secret_string]
  }
}

# The API keys that uploads and deletes require (SOCIOGRAPH_API_KEYS): one generated key; add
# more (comma-separated) with put-secret-value.
resource "aws_secretsmanager_secret" "api_keys" {
  # checkov:skip=CKV2_AWS_57:Rotating means handing the new key to clients; done by put-secret-value (docs/rollback.md).
  name                    = "${var.name}-api-keys"
  description             = "Bearer keys for POST/DELETE (SOCIOGRAPH_API_KEYS, comma-separated)"
  kms_key_id              = aws_kms_key.main.arn
  recovery_window_in_days = 7
  tags                    = local.tags
}

resource "random_password" "api_key" {
  length  = 40
  special = false
}

resource "aws_secretsmanager_secret_version" "api_keys" {
  secret_id     = aws_secretsmanager_secret.api_keys.id
  secret_string = "sk-${random_password.api_key.result}"

  lifecycle {
    ignore_changes = [secret_string]
  }
}
