# The path beyond one writer (DESIGN §9): PostgreSQL, off by default and not used by the
# service yet. Encrypted, private, IAM authentication, logs exported, deletion-protected.
resource "aws_db_subnet_group" "main" {
  count      = var.enable_rds ? 1 : 0
  name       = var.name
  subnet_ids = module.vpc.private_subnets
  tags       = local.tags
}

resource "aws_security_group" "rds" {
  count       = var.enable_rds ? 1 : 0
  name_prefix = "${var.name}-rds-"
  description = "PostgreSQL: from the worker only"
  vpc_id      = module.vpc.vpc_id

  ingress {
    description     = "PostgreSQL from the worker"
    from_port       = 5432
    to_port         = 5432
    protocol        = "tcp"
    security_groups = [module.worker.security_group_id]
  }

  tags = local.tags
}

resource "aws_db_instance" "main" {
  # checkov:skip=CKV_AWS_157:Single-AZ while it is optional and unused; turn on multi_az before the service depends on it.
  # checkov:skip=CKV_AWS_118:Enhanced monitoring costs extra; CloudWatch metrics and exported logs suffice for now.
  count                               = var.enable_rds ? 1 : 0
  identifier                          = var.name
  engine                              = "postgres"
  engine_version                      = "16"
  instance_class                      = var.rds_instance_class
  allocated_storage                   = 20
  storage_encrypted                   = true
  kms_key_id                          = aws_kms_key.main.arn
  db_name                             = "sociograph"
  username                            = "sociograph"
  manage_master_user_password         = true
  iam_database_authentication_enabled = true
  db_subnet_group_name                = aws_db_subnet_group.main[0].name
  vpc_security_group_ids              = [aws_security_group.rds[0].id]
  publicly_accessible                 = false
  backup_retention_period             = 7
  deletion_protection                 = true
  skip_final_snapshot                 = false
  final_snapshot_identifier           = "${var.name}-final"
  copy_tags_to_snapshot               = true
  auto_minor_version_upgrade          = true
  performance_insights_enabled        = true
  performance_insights_kms_key_id     = aws_kms_key.main.arn
  enabled_cloudwatch_logs_exports     = ["postgresql", "upgrade"]
  parameter_group_name                = aws_db_parameter_group.main[0].name
  tags                                = local.tags
}

resource "aws_db_parameter_group" "main" {
  count  = var.enable_rds ? 1 : 0
  name   = var.name
  family = "postgres16"

  parameter {
    name  = "rds.force_ssl"
    value = "1"
  }

  parameter {
    name  = "log_statement"
    value = "ddl"
  }

  parameter {
    name  = "log_min_duration_statement"
    value = "1000"
  }

  tags = local.tags
}
