# Production: one `terraform apply` brings everything up (infra/README.md).
module "sociograph" {
  source = "../.."

  name                = "sociograph"
  domain_name         = var.domain_name
  route53_zone_id     = var.route53_zone_id
  color_active        = var.color_active
  image_repository    = var.image_repository
  image_tag_blue      = var.image_tag_blue
  image_tag_green     = var.image_tag_green
  budget_alert_emails = var.budget_alert_emails
}
