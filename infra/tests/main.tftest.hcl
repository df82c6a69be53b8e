# `terraform test` (Terraform >= 1.7) with a mocked AWS provider: the key invariants of the
# design, asserted on the plan. Run by the deploy workflow's environment where Terraform and
# the providers exist: `terraform -chdir=infra init -backend=false && terraform -chdir=infra test`.
# (Not runnable on the build machines: no provider can be downloaded there; `cargo xtask
# iac-check` checks the same invariants statically.)

mock_provider "aws" {
  mock_data "aws_availability_zones" {
    defaults = {
      names = ["eu-west-1a", "eu-west-1b", "eu-west-1c"]
    }
  }
  mock_data "aws_caller_identity" {
    defaults = {
      account_id = "123456789012"
    }
  }
  mock_data "aws_region" {
    defaults = {
      name = "eu-west-1"
    }
  }
  mock_data "aws_iam_policy_document" {
    defaults = {
      json = "{\"Version\":\"2012-10-17\",\"Statement\":[]}"
    }
  }
}

variables {
  domain_name      = "api.example.test"
  route53_zone_id  = "Z0000000000000"
  image_repository = "123456789012.dkr.ecr.eu-west-1.amazonaws.com/sociograph"
  image_tag_blue   = "aaaaaaaaaaaa"
  image_tag_green  = "bbbbbbbbbbbb"
  budget_alert_emails = ["ops@example.test"]
}

run "backups_expire_after_30_days" {
  command = plan

  assert {
    condition = one([
      for r in aws_s3_bucket_lifecycle_configuration.data.rule : r.expiration[0].days
      if r.filter[0].prefix == "prod/backups/" && r.status == "Enabled"
    ]) == 30
    error_message = "prod/backups/ must expire after 30 days"
  }
}

run "data_bucket_is_private_versioned_encrypted" {
  command = plan

  assert {
    condition     = aws_s3_bucket_public_access_block.this["data"].block_public_acls && aws_s3_bucket_public_access_block.this["data"].restrict_public_buckets
    error_message = "the data bucket must block public access"
  }
  assert {
    condition     = aws_s3_bucket_versioning.this["data"].versioning_configuration[0].status == "Enabled"
    error_message = "the data bucket must be versioned"
  }
  assert {
    condition     = one(aws_s3_bucket_server_side_encryption_configuration.data.rule).apply_server_side_encryption_by_default[0].sse_algorithm == "aws:kms"
    error_message = "the data bucket must be KMS-encrypted"
  }
}

run "https_only_and_default_action_follows_color_active" {
  command = plan

  variables {
    color_active = "green"
  }

  assert {
    condition     = output.color_active == "green" && output.color_idle == "blue"
    error_message = "the idle color is the other one"
  }
  assert {
    condition     = startswith(output.url, "https://")
    error_message = "the public URL is HTTPS"
  }
}

run "both_colors_exist_on_arm64" {
  command = plan

  assert {
    condition     = length(module.api) == 2 && contains(keys(module.api), "blue") && contains(keys(module.api), "green")
    error_message = "both colors must be present"
  }
  assert {
    condition     = aws_ecs_task_definition.backup_verify.runtime_platform[0].cpu_architecture == "ARM64"
    error_message = "tasks run on ARM64 (Graviton)"
  }
}

run "color_must_be_blue_or_green" {
  command = plan

  variables {
    color_active = "red"
  }

  expect_failures = [var.color_active]
}
