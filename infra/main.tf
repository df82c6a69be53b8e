# SocioGraph on AWS: the API as two ECS Fargate services (blue, green) behind an HTTPS ALB,
# one ingest worker, and one S3 bucket that carries snapshots, the job queue, the writer lease
# and the daily backups (docs/architecture.md). One `terraform apply` from envs/prod.

data "aws_region" "current" {}

data "aws_caller_identity" "current" {}

data "aws_availability_zones" "available" {
  # checkov:skip=CKV_AWS_394:Only the first two zones (sorted by name) are used: a zone added later does not change them.
  state = "available"
}

locals {
  azs         = slice(data.aws_availability_zones.available.names, 0, 2)
  colors      = ["blue", "green"]
  idle_color  = var.color_active == "blue" ? "green" : "blue"
  image_tags  = { blue = var.image_tag_blue, green = var.image_tag_green }
  port        = 8000
  bucket_name = "${var.name}-${data.aws_caller_identity.current.account_id}-data"
  # Everything the service shares lives under this prefix of the data bucket.
  store_url = "s3://${local.bucket_name}/prod"
  tags      = merge({ Project = "sociograph", ManagedBy = "terraform" }, var.tags)
}

# One customer-managed key for the bucket, the logs and the secret.
resource "aws_kms_key" "main" {
  description             = "${var.name}: S3 data, CloudWatch logs, Secrets Manager"
  enable_key_rotation     = true
  deletion_window_in_days = 30
  policy                  = data.aws_iam_policy_document.kms.json
  tags                    = local.tags
}

resource "aws_kms_alias" "main" {
  name          = "alias/${var.name}"
  target_key_id = aws_kms_key.main.key_id
}

data "aws_iam_policy_document" "kms" {
  # checkov:skip=CKV_AWS_109:The account root must administer the key (AWS's default key policy); IAM policies scope use.
  # checkov:skip=CKV_AWS_111:Same: the key policy delegates to IAM, which scopes writes.
  # checkov:skip=CKV_AWS_356:A key policy's resource is always the key itself ("*").
  statement {
    sid       = "AccountAdministers"
    actions   = ["kms:*"]
    resources = ["*"]
    principals {
      type        = "AWS"
      identifiers = ["arn:aws:iam::${data.aws_caller_identity.current.account_id}:root"]
    }
  }

  statement {
    sid       = "CloudWatchLogsEncrypt"
    actions   = ["kms:Encrypt*", "kms:Decrypt*", "kms:ReEncrypt*", "kms:GenerateDataKey*", "kms:Describe*"]
    resources = ["*"]
    principals {
      type        = "Service"
      identifiers = ["logs.${data.aws_region.current.name}.amazonaws.com"]
    }
  }
}
