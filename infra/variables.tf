variable "name" {
  description = "Name prefix for every resource (the ECS services are <name>-blue, <name>-green and <name>-worker)."
  type        = string
  default     = "sociograph"

  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{1,20}$", var.name))
    error_message = "name: lowercase letters, digits and dashes, 2 to 21 characters, starting with a letter."
  }
}

variable "domain_name" {
  description = "Public host name of the API and UI (e.g. api.sociograph.dev); an ACM certificate is issued for it."
  type        = string
}

variable "route53_zone_id" {
  description = "Route 53 hosted zone that holds domain_name (DNS validation of the certificate and the alias record)."
  type        = string
}

variable "color_active" {
  description = "The color that receives production traffic (the HTTPS listener's default action)."
  type        = string
  default     = "blue"

  validation {
    condition     = contains(["blue", "green"], var.color_active)
    error_message = "color_active must be blue or green."
  }
}

variable "image_repository" {
  description = "Container image repository (ECR URL) of the sociograph image."
  type        = string
}

variable "image_tag_blue" {
  description = "Image tag the blue service runs."
  type        = string
}

variable "image_tag_green" {
  description = "Image tag the green service runs."
  type        = string
}

variable "api_desired_count" {
  description = "API tasks per color (both colors run this many: the idle one is the instant rollback)."
  type        = number
  default     = 2

  validation {
    condition     = var.api_desired_count >= 1 && var.api_desired_count <= 50
    error_message = "api_desired_count must be between 1 and 50."
  }
}

variable "api_cpu" {
  description = "Fargate CPU units per API task."
  type        = number
  default     = 512
}

variable "api_memory" {
  description = "Fargate memory (MiB) per API task."
  type        = number
  default     = 1024

  validation {
    condition = (
      (var.api_cpu == 256 && contains([512, 1024, 2048], var.api_memory)) ||
      (var.api_cpu == 512 && var.api_memory >= 1024 && var.api_memory <= 4096) ||
      (var.api_cpu == 1024 && var.api_memory >= 2048 && var.api_memory <= 8192) ||
      (var.api_cpu == 2048 && var.api_memory >= 4096 && var.api_memory <= 16384) ||
      (var.api_cpu == 4096 && var.api_memory >= 8192 && var.api_memory <= 30720)
    )
    error_message = "api_cpu/api_memory must be a valid Fargate pair (e.g. 512/1024, 1024/2048)."
  }
}

variable "worker_cpu" {
  description = "Fargate CPU units of the ingest worker."
  type        = number
  default     = 1024
}

variable "worker_memory" {
  description = "Fargate memory (MiB) of the ingest worker."
  type        = number
  default     = 2048

  validation {
    condition = (
      (var.worker_cpu == 512 && var.worker_memory >= 1024 && var.worker_memory <= 4096) ||
      (var.worker_cpu == 1024 && var.worker_memory >= 2048 && var.worker_memory <= 8192) ||
      (var.worker_cpu == 2048 && var.worker_memory >= 4096 && var.worker_memory <= 16384)
    )
    error_message = "worker_cpu/worker_memory must be a valid Fargate pair (e.g. 1024/2048)."
  }
}

variable "llm_base_url" {
  description = "OpenAI-compatible base URL for answers and extraction; empty = extractive answers, offline extraction."
  type        = string
  default     = "https://openrouter.ai/api/v1"
}

variable "vpc_cidr" {
  description = "CIDR block of the VPC."
  type        = string
  default     = "10.40.0.0/16"
}

variable "enable_nat_gateway" {
  description = "Run tasks in private subnets behind one NAT gateway (about 35 USD/month more) instead of public subnets with public IPs and security groups that admit only the ALB."
  type        = bool
  default     = false
}

variable "test_listener_cidrs" {
  description = "Who may reach the idle color through the test listener (port 8443): the deploy workflow's smoke test. Narrow it to your runners or VPN."
  type        = list(string)
  default     = ["0.0.0.0/0"]
}

variable "log_retention_days" {
  description = "CloudWatch log retention for every log group (and of the access-log bucket)."
  type        = number
  default     = 365
}

variable "backup_retention_days" {
  description = "Days a dated backup under backups/ is kept before S3 expires it."
  type        = number
  default     = 30
}

variable "monthly_budget_usd" {
  description = "Monthly cost target; an AWS Budgets alert fires at 80 % of it (actual and forecast)."
  type        = number
  default     = 200
}

variable "budget_alert_emails" {
  description = "Who receives the budget alerts (AWS Budgets refuses a notification without a subscriber)."
  type        = list(string)

  validation {
    condition     = length(var.budget_alert_emails) > 0
    error_message = "budget_alert_emails needs at least one address."
  }
}

variable "enable_rds" {
  description = "Create the PostgreSQL instance that is the path beyond one writer (not used by the service yet)."
  type        = bool
  default     = false
}

variable "rds_instance_class" {
  description = "Instance class of the optional PostgreSQL instance."
  type        = string
  default     = "db.t4g.micro"
}

variable "tags" {
  description = "Tags added to every resource."
  type        = map(string)
  default     = {}
}
