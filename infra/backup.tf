# The daily backup is made by the worker itself (a dated copy of its store under
# prod/backups/, expired after 30 days by the lifecycle rule in storage.tf). Every 24 h,
# EventBridge Scheduler runs `sociograph backup verify` as a one-off Fargate task: a full
# restore of the newest backup into scratch space, checked end to end, which records
# sociograph_backup_last_verified_timestamp_seconds' source (backups/last-verified).

resource "aws_scheduler_schedule" "backup_verify" {
  # checkov:skip=CKV_AWS_297:The schedule carries no payload (an ECS task with a fixed command); a CMK would only add a key grant for the scheduler.
  name                         = "${var.name}-backup-verify"
  description                  = "Daily restore test of the newest backup"
  schedule_expression          = "rate(24 hours)"
  schedule_expression_timezone = "UTC"

  flexible_time_window {
    mode                      = "FLEXIBLE"
    maximum_window_in_minutes = 60
  }

  target {
    arn      = module.ecs_cluster.arn
    role_arn = aws_iam_role.scheduler.arn

    ecs_parameters {
      task_definition_arn = aws_ecs_task_definition.backup_verify.arn
      launch_type         = "FARGATE"

      network_configuration {
        subnets          = local.task_subnets
        security_groups  = [aws_security_group.backup_verify.id]
        assign_public_ip = local.assign_public_ip
      }
    }

    retry_policy {
      maximum_retry_attempts = 2
    }
  }
}

resource "aws_ecs_task_definition" "backup_verify" {
  family                   = "${var.name}-backup-verify"
  requires_compatibilities = ["FARGATE"]
  network_mode             = "awsvpc"
  cpu                      = 512
  memory                   = 1024
  execution_role_arn       = aws_iam_role.backup_verify_exec.arn
  task_role_arn            = aws_iam_role.backup_verify.arn

  runtime_platform {
    operating_system_family = "LINUX"
    cpu_architecture        = "ARM64"
  }

  volume {
    name = "data"
  }

  container_definitions = jsonencode([{
    name                   = "sociograph"
    image                  = "${var.image_repository}:${local.image_tags[var.color_active]}"
    essential              = true
    readonlyRootFilesystem = true
    user                   = "10001:10001"
    command                = ["backup", "verify", local.store_url]
    environment            = [{ name = "AWS_REGION", value = data.aws_region.current.name }]
    mountPoints            = [{ sourceVolume = "data", containerPath = "/var/lib/sociograph", readOnly = false }]
    logConfiguration = {
      logDriver = "awslogs"
      options = {
        awslogs-group         = aws_cloudwatch_log_group.backup_verify.name
        awslogs-region        = data.aws_region.current.name
        awslogs-stream-prefix = "verify"
      }
    }
  }])

  tags = local.tags
}

resource "aws_cloudwatch_log_group" "backup_verify" {
  name              = "/ecs/${var.name}-backup-verify"
  retention_in_days = var.log_retention_days
  kms_key_id        = aws_kms_key.main.arn
  tags              = local.tags
}

resource "aws_security_group" "backup_verify" {
  # checkov:skip=CKV2_AWS_5:Attached by the scheduler's ECS target (network_configuration), which checkov does not follow.
  name_prefix = "${var.name}-backup-verify-"
  description = "Backup verification task: HTTPS out only"
  vpc_id      = module.vpc.vpc_id

  egress {
    description = "HTTPS out: S3 and ECR"
    from_port   = 443
    to_port     = 443
    protocol    = "tcp"
    cidr_blocks = ["0.0.0.0/0"]
  }

  tags = local.tags
}

data "aws_iam_policy_document" "ecs_tasks_assume" {
  statement {
    actions = ["sts:AssumeRole"]
    principals {
      type        = "Service"
      identifiers = ["ecs-tasks.amazonaws.com"]
    }
  }
}

resource "aws_iam_role" "backup_verify" {
  name_prefix        = "${var.name}-verify-"
  assume_role_policy = data.aws_iam_policy_document.ecs_tasks_assume.json
  tags               = local.tags
}

resource "aws_iam_role_policy" "backup_verify" {
  role   = aws_iam_role.backup_verify.id
  policy = data.aws_iam_policy_document.backup_verify.json
}

# Reads backups; writes only its verification record beside them.
data "aws_iam_policy_document" "backup_verify" {
  statement {
    actions   = ["s3:ListBucket"]
    resources = [aws_s3_bucket.data.arn]
    condition {
      test     = "StringLike"
      variable = "s3:prefix"
      values   = ["prod/backups/*"]
    }
  }
  statement {
    actions   = ["s3:GetObject", "s3:PutObject"]
    resources = ["${aws_s3_bucket.data.arn}/prod/backups/*"]
  }
  statement {
    actions   = ["kms:Decrypt", "kms:GenerateDataKey"]
    resources = [aws_kms_key.main.arn]
  }
}

resource "aws_iam_role" "backup_verify_exec" {
  name_prefix        = "${var.name}-verify-exec-"
  assume_role_policy = data.aws_iam_policy_document.ecs_tasks_assume.json
  tags               = local.tags
}

resource "aws_iam_role_policy_attachment" "backup_verify_exec" {
  role       = aws_iam_role.backup_verify_exec.name
  policy_arn = "arn:aws:iam::aws:policy/service-role/AmazonECSTaskExecutionRolePolicy"
}

data "aws_iam_policy_document" "scheduler_assume" {
  statement {
    actions = ["sts:AssumeRole"]
    principals {
      type        = "Service"
      identifiers = ["scheduler.amazonaws.com"]
    }
    condition {
      test     = "StringEquals"
      variable = "aws:SourceAccount"
      values   = [data.aws_caller_identity.current.account_id]
    }
  }
}

resource "aws_iam_role" "scheduler" {
  name_prefix        = "${var.name}-scheduler-"
  assume_role_policy = data.aws_iam_policy_document.scheduler_assume.json
  tags               = local.tags
}

resource "aws_iam_role_policy" "scheduler" {
  role   = aws_iam_role.scheduler.id
  policy = data.aws_iam_policy_document.scheduler.json
}

data "aws_iam_policy_document" "scheduler" {
  statement {
    actions   = ["ecs:RunTask"]
    resources = [aws_ecs_task_definition.backup_verify.arn_without_revision, "${aws_ecs_task_definition.backup_verify.arn_without_revision}:*"]
  }
  statement {
    actions   = ["iam:PassRole"]
    resources = [aws_iam_role.backup_verify.arn, aws_iam_role.backup_verify_exec.arn]
  }
}
