# HTTPS on 443 (ACM certificate validated through Route 53, TLS 1.2+ policy), HTTP redirected
# to HTTPS, and a test listener on 8443 that always reaches the idle color: the deploy
# workflow smoke-tests a new image there before traffic moves (docs/deploy.md).
module "acm" {
  # checkov:skip=CKV_TF_1:A registry module pinned to an exact version; its inputs are checked against that version (infra/module-inputs.json).
  source  = "terraform-aws-modules/acm/aws"
  version = "5.2.0"

  domain_name         = var.domain_name
  zone_id             = var.route53_zone_id
  validation_method   = "DNS"
  wait_for_validation = true

  tags = local.tags
}

module "alb" {
  # checkov:skip=CKV_TF_1:A registry module pinned to an exact version; its inputs are checked against that version (infra/module-inputs.json).
  source  = "terraform-aws-modules/alb/aws"
  version = "9.17.0"

  name    = var.name
  vpc_id  = module.vpc.vpc_id
  subnets = module.vpc.public_subnets

  enable_deletion_protection = true
  drop_invalid_header_fields = true

  access_logs = {
    # Through the policy, so the ALB is created only once it may write there.
    bucket = aws_s3_bucket_policy.logs.bucket
    prefix = "alb"
  }

  security_group_ingress_rules = {
    http = {
      from_port   = 80
      to_port     = 80
      ip_protocol = "tcp"
      cidr_ipv4   = "0.0.0.0/0"
      description = "HTTP, redirected to HTTPS"
    }
    https = {
      from_port   = 443
      to_port     = 443
      ip_protocol = "tcp"
      cidr_ipv4   = "0.0.0.0/0"
      description = "HTTPS"
    }
  }
  security_group_egress_rules = {
    tasks = {
      ip_protocol = "tcp"
      from_port   = local.port
      to_port     = local.port
      cidr_ipv4   = module.vpc.vpc_cidr_block
      description = "To the tasks"
    }
  }

  listeners = {
    http = {
      port     = 80
      protocol = "HTTP"
      redirect = {
        port        = "443"
        protocol    = "HTTPS"
        status_code = "HTTP_301"
      }
    }
    https = {
      port            = 443
      protocol        = "HTTPS"
      ssl_policy      = "ELBSecurityPolicy-TLS13-1-2-2021-06"
      certificate_arn = module.acm.acm_certificate_arn
      # The switch: production traffic goes to the active color's target group.
      forward = {
        target_group_key = var.color_active
      }
      # Metrics are scraped inside the task by the collector; not public.
      rules = {
        hide-metrics = {
          priority = 1
          actions = [{
            type         = "fixed-response"
            content_type = "text/plain"
            status_code  = "404"
            message_body = "not found"
          }]
          conditions = [{
            path_pattern = { values = ["/metrics"] }
          }]
        }
      }
    }
    test = {
      port            = 8443
      protocol        = "HTTPS"
      ssl_policy      = "ELBSecurityPolicy-TLS13-1-2-2021-06"
      certificate_arn = module.acm.acm_certificate_arn
      forward = {
        target_group_key = local.idle_color
      }
    }
  }

  target_groups = {
    for color in local.colors : color => {
      name_prefix          = substr(color, 0, 1)
      protocol             = "HTTP"
      port                 = local.port
      target_type          = "ip"
      deregistration_delay = 30
      create_attachment    = false
      health_check = {
        enabled             = true
        path                = "/health"
        matcher             = "200"
        interval            = 10
        timeout             = 5
        healthy_threshold   = 2
        unhealthy_threshold = 2
      }
    }
  }

  tags = local.tags
}

resource "aws_vpc_security_group_ingress_rule" "test_listener" {
  for_each          = toset(var.test_listener_cidrs)
  security_group_id = module.alb.security_group_id
  from_port         = 8443
  to_port           = 8443
  ip_protocol       = "tcp"
  cidr_ipv4         = each.value
  description       = "Test listener (idle color) for the deploy smoke test"
}

resource "aws_route53_record" "api" {
  zone_id = var.route53_zone_id
  name    = var.domain_name
  type    = "A"

  alias {
    name                   = module.alb.dns_name
    zone_id                = module.alb.zone_id
    evaluate_target_health = true
  }
}
