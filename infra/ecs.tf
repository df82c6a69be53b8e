# The ECS cluster, the two API colors (serve --role api) and the single ingest worker.

module "ecs_cluster" {
  # checkov:skip=CKV_TF_1:A registry module pinned to an exact version; its inputs are checked against that version (infra/module-inputs.json).
  source  = "terraform-aws-modules/ecs/aws//modules/cluster"
  version = "5.12.1"

  cluster_name = var.name
  cluster_settings = [{
    name  = "containerInsights"
    value = "enabled"
  }]
  fargate_capacity_providers = {
    FARGATE = {
      default_capacity_provider_strategy = { weight = 100 }
    }
  }
  cloudwatch_log_group_retention_in_days = var.log_retention_days
  cloudwatch_log_group_kms_key_id        = aws_kms_key.main.arn

  tags = local.tags
}

locals {
  arm64 = {
    operating_system_family = "LINUX"
    cpu_architecture        = "ARM64"
  }

  # What every sociograph container shares: read-only root, writes only to the data volume.
  base_container = {
    essential                              = true
    readonly_root_filesystem               = true
    user                                   = "10001:10001"
    stop_timeout                           = 30
    enable_cloudwatch_logging              = true
    cloudwatch_log_group_retention_in_days = var.log_retention_days
    cloudwatch_log_group_kms_key_id        = aws_kms_key.main.arn
    mount_points = [{
      sourceVolume  = "data"
      containerPath = "/var/lib/sociograph"
      readOnly      = false
    }]
    secrets = [
      { name = "SOCIOGRAPH_LLM_API_KEY", valueFrom = aws_secretsmanager_secret_version.llm_api_key.arn },
      { name = "SOCIOGRAPH_API_KEYS", valueFrom = aws_secretsmanager_secret_version.api_keys.arn },
    ]
  }

  base_environment = [
    { name = "SOCIOGRAPH_STORE_URL", value = local.store_url },
    { name = "SOCIOGRAPH_LLM_BASE_URL", value = var.llm_base_url },
    { name = "AWS_REGION", value = data.aws_region.current.name },
    { name = "OTEL_EXPORTER_OTLP_ENDPOINT", value = "http://127.0.0.1:4318" },
  ]

  data_volume = {
    data = {}
  }

  bucket_arn = aws_s3_bucket.data.arn
  kms_use = {
    actions   = ["kms:Decrypt", "kms:GenerateDataKey"]
    resources = [aws_kms_key.main.arn]
  }
  egress_https = {
    type        = "egress"
    from_port   = 443
    to_port     = 443
    protocol    = "tcp"
    cidr_blocks = ["0.0.0.0/0"]
    description = "HTTPS out: S3, ECR, the LLM provider, telemetry"
  }

  # Both roles list only their prefixes of the data bucket.
  list_prefix = {
    # A replica GETs jobs/<id>.json: S3 answers 404 for a missing key only with ListBucket on
    # that prefix (403 otherwise).
    for role, prefixes in { api = ["prod/snapshots/*", "prod/jobs/*"], worker = ["prod/*"] } : role => {
      actions   = ["s3:ListBucket"]
      resources = [aws_s3_bucket.data.arn]
      conditions = [{
        test     = "StringLike"
        variable = "s3:prefix"
        values   = prefixes
      }]
    }
  }

  telemetry_statements = {
    metrics = {
      actions   = ["aps:RemoteWrite"]
      resources = [aws_prometheus_workspace.main.arn]
    }
    traces = {
      actions   = ["xray:PutTraceSegments", "xray:PutTelemetryRecords"]
      resources = ["*"]
    }
  }
}

module "api" {
  # checkov:skip=CKV_TF_1:A registry module pinned to an exact version; its inputs are checked against that version (infra/module-inputs.json).
  source   = "terraform-aws-modules/ecs/aws//modules/service"
  version  = "5.12.1"
  for_each = toset(local.colors)

  name        = "${var.name}-${each.key}"
  cluster_arn = module.ecs_cluster.arn

  cpu              = var.api_cpu
  memory           = var.api_memory
  runtime_platform = local.arm64
  # Both colors the same size: the module sets desired_count only at creation (ECS owns it
  # afterwards), so a switch must not depend on resizing; the idle color is the rollback.
  desired_count      = var.api_desired_count
  enable_autoscaling = false

  # A new task must load the current snapshot before it counts (and /health says 503 until then).
  health_check_grace_period_seconds  = 60
  deployment_minimum_healthy_percent = 100
  deployment_maximum_percent         = 200
  deployment_circuit_breaker = {
    enable   = true
    rollback = true
  }
  enable_execute_command = false

  volume = local.data_volume
  container_definitions = {
    sociograph = merge(local.base_container, {
      image   = "${var.image_repository}:${local.image_tags[each.key]}"
      command = ["serve", "--role", "api"]
      port_mappings = [{
        name          = "http"
        containerPort = local.port
        protocol      = "tcp"
      }]
      environment = concat(local.base_environment, [
        { name = "SOCIOGRAPH_COLOR", value = each.key },
      ])
      # Liveness, not readiness: a draining task answers 503 on /health and must not be killed.
      health_check = {
        command     = ["CMD", "curl", "-fsS", "-o", "/dev/null", "http://127.0.0.1:${local.port}/health/live"]
        interval    = 15
        timeout     = 5
        retries     = 3
        startPeriod = 60
      }
    })
    otel = local.otel_sidecar_api
  }

  load_balancer = {
    service = {
      target_group_arn = module.alb.target_groups[each.key].arn
      container_name   = "sociograph"
      container_port   = local.port
    }
  }

  subnet_ids       = local.task_subnets
  assign_public_ip = local.assign_public_ip
  security_group_rules = {
    from_alb = {
      type                     = "ingress"
      from_port                = local.port
      to_port                  = local.port
      protocol                 = "tcp"
      source_security_group_id = module.alb.security_group_id
      description              = "From the ALB only"
    }
    egress = local.egress_https
  }

  task_exec_secret_arns    = [aws_secretsmanager_secret.llm_api_key.arn, aws_secretsmanager_secret.api_keys.arn]
  task_exec_iam_statements = { secret_key = local.kms_use }

  # Replicas read snapshots and job records and queue uploads and deletes; nothing else.
  tasks_iam_role_statements = merge(local.telemetry_statements, {
    list = local.list_prefix.api
    read = {
      actions   = ["s3:GetObject"]
      resources = ["${local.bucket_arn}/prod/snapshots/*", "${local.bucket_arn}/prod/jobs/*"]
    }
    queue = {
      actions   = ["s3:PutObject"]
      resources = ["${local.bucket_arn}/prod/uploads/*", "${local.bucket_arn}/prod/jobs/*", "${local.bucket_arn}/prod/queue/*"]
    }
    kms = local.kms_use
  })

  tags = merge(local.tags, { Color = each.key })
}

# The single writer. Never two at once: ECS stops the old task before starting a new one
# (maximum 100 %), and the lease in S3 makes a second one wait anyway.
module "worker" {
  # checkov:skip=CKV_TF_1:A registry module pinned to an exact version; its inputs are checked against that version (infra/module-inputs.json).
  source  = "terraform-aws-modules/ecs/aws//modules/service"
  version = "5.12.1"

  name        = "${var.name}-worker"
  cluster_arn = module.ecs_cluster.arn

  cpu              = var.worker_cpu
  memory           = var.worker_memory
  runtime_platform = local.arm64
  desired_count      = 1
  enable_autoscaling = false

  deployment_minimum_healthy_percent = 0
  deployment_maximum_percent         = 100
  enable_execute_command             = false

  volume = local.data_volume
  container_definitions = {
    sociograph = merge(local.base_container, {
      image       = "${var.image_repository}:${local.image_tags[var.color_active]}"
      command     = ["worker"]
      environment = local.base_environment
    })
    otel = local.otel_sidecar_worker
  }

  subnet_ids       = local.task_subnets
  assign_public_ip = local.assign_public_ip
  security_group_rules = {
    egress = local.egress_https
  }

  task_exec_secret_arns    = [aws_secretsmanager_secret.llm_api_key.arn, aws_secretsmanager_secret.api_keys.arn]
  task_exec_iam_statements = { secret_key = local.kms_use }

  # The writer owns everything under prod/ (snapshots, lease, queue, jobs, backups).
  tasks_iam_role_statements = merge(local.telemetry_statements, {
    list = local.list_prefix.worker
    objects = {
      actions   = ["s3:GetObject", "s3:PutObject", "s3:DeleteObject"]
      resources = ["${local.bucket_arn}/prod/*"]
    }
    kms = local.kms_use
  })

  tags = merge(local.tags, { Role = "worker" })
}
