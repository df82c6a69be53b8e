output "url" {
  description = "The service's public URL."
  value       = module.sociograph.url
}

output "test_url" {
  description = "The idle color, for smoke tests."
  value       = module.sociograph.test_url
}

output "alb_dns_name" {
  description = "DNS name of the load balancer."
  value       = module.sociograph.alb_dns_name
}

output "color_active" {
  description = "The live color."
  value       = module.sociograph.color_active
}

output "color_idle" {
  description = "The color the next deploy goes to."
  value       = module.sociograph.color_idle
}

output "cluster_name" {
  description = "ECS cluster name."
  value       = module.sociograph.cluster_name
}

output "service_names" {
  description = "ECS service names by role."
  value       = module.sociograph.service_names
}

output "target_group_arns" {
  description = "Target group ARNs by color."
  value       = module.sociograph.target_group_arns
}

output "image_tags" {
  description = "Image tag each color runs."
  value       = module.sociograph.image_tags
}

output "alb_arn_suffix" {
  description = "The ALB's CloudWatch dimension."
  value       = module.sociograph.alb_arn_suffix
}

output "target_group_arn_suffixes" {
  description = "Each color's target group CloudWatch dimension."
  value       = module.sociograph.target_group_arn_suffixes
}
