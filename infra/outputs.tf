output "url" {
  description = "The service's public URL (API at /, UI at /app, health at /health)."
  value       = "https://${var.domain_name}"
}

output "test_url" {
  description = "The test listener: always the idle color (the deploy workflow's smoke test)."
  value       = "https://${var.domain_name}:8443"
}

output "alb_dns_name" {
  description = "DNS name of the load balancer."
  value       = module.alb.dns_name
}

output "color_active" {
  description = "The color serving production traffic."
  value       = var.color_active
}

output "color_idle" {
  description = "The color the next deploy goes to."
  value       = local.idle_color
}

output "cluster_name" {
  description = "ECS cluster name."
  value       = module.ecs_cluster.name
}

output "service_names" {
  description = "ECS service names by role (blue, green, worker)."
  value = {
    blue   = module.api["blue"].name
    green  = module.api["green"].name
    worker = module.worker.name
  }
}

output "target_group_arns" {
  description = "Target group ARNs by color (the deploy workflow waits on their health)."
  value       = { for color in local.colors : color => module.alb.target_groups[color].arn }
}

output "data_bucket" {
  description = "The bucket holding snapshots, the job queue and backups."
  value       = aws_s3_bucket.data.id
}

output "store_url" {
  description = "SOCIOGRAPH_STORE_URL of every task."
  value       = local.store_url
}

output "prometheus_remote_write_url" {
  description = "Amazon Managed Service for Prometheus remote-write endpoint the sidecars write to."
  value       = "${aws_prometheus_workspace.main.prometheus_endpoint}api/v1/remote_write"
}

output "image_tags" {
  description = "Image tag each color runs (the deploy workflow keeps the live one as it is)."
  value       = local.image_tags
}

output "alb_arn_suffix" {
  description = "The ALB's CloudWatch dimension (verification after a switch)."
  value       = module.alb.arn_suffix
}

output "target_group_arn_suffixes" {
  description = "Each color's target group CloudWatch dimension."
  value       = { for color in local.colors : color => module.alb.target_groups[color].arn_suffix }
}
