variable "region" {
  description = "AWS region."
  type        = string
  default     = "eu-west-1"
}

variable "domain_name" {
  description = "Public host name of the service."
  type        = string
  default     = "api.sociograph.dev"
}

variable "route53_zone_id" {
  description = "Hosted zone of domain_name (created by the bootstrap)."
  type        = string
}

variable "color_active" {
  description = "The live color; the deploy workflow flips it with -var color_active=<idle>."
  type        = string
  default     = "blue"

  validation {
    condition     = contains(["blue", "green"], var.color_active)
    error_message = "color_active must be blue or green."
  }
}

variable "image_repository" {
  description = "ECR repository URL of the sociograph image."
  type        = string
}

variable "image_tag_blue" {
  description = "Image tag of the blue service."
  type        = string
  default     = "latest"
}

variable "image_tag_green" {
  description = "Image tag of the green service."
  type        = string
  default     = "latest"
}

variable "budget_alert_emails" {
  description = "Who receives the budget alerts (at least one address)."
  type        = list(string)
}
