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
