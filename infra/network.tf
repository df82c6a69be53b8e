# Two AZs; public subnets for the ALB (and for tasks when there is no NAT gateway), private
# subnets for tasks behind a NAT gateway when enable_nat_gateway is set. S3 traffic goes
# through a free gateway endpoint either way.
module "vpc" {
  # checkov:skip=CKV_TF_1:A registry module pinned to an exact version; its inputs are checked against that version (infra/module-inputs.json).
  source  = "terraform-aws-modules/vpc/aws"
  version = "5.21.0"

  name = var.name
  cidr = var.vpc_cidr
  azs  = local.azs

  public_subnets  = [for i, _ in local.azs : cidrsubnet(var.vpc_cidr, 8, i)]
  private_subnets = [for i, _ in local.azs : cidrsubnet(var.vpc_cidr, 8, 10 + i)]

  enable_nat_gateway      = var.enable_nat_gateway
  single_nat_gateway      = true
  enable_dns_hostnames    = true
  enable_dns_support      = true
  map_public_ip_on_launch = false

  # The default security group admits nothing.
  manage_default_security_group  = true
  default_security_group_ingress = []
  default_security_group_egress  = []

  enable_flow_log                                 = true
  create_flow_log_cloudwatch_log_group            = true
  create_flow_log_cloudwatch_iam_role             = true
  flow_log_cloudwatch_log_group_retention_in_days = var.log_retention_days
  flow_log_cloudwatch_log_group_kms_key_id        = aws_kms_key.main.arn

  tags = local.tags
}

resource "aws_vpc_endpoint" "s3" {
  vpc_id            = module.vpc.vpc_id
  service_name      = "com.amazonaws.${data.aws_region.current.name}.s3"
  vpc_endpoint_type = "Gateway"
  route_table_ids   = concat(module.vpc.public_route_table_ids, module.vpc.private_route_table_ids)
  tags              = merge(local.tags, { Name = "${var.name}-s3" })
}

locals {
  task_subnets     = var.enable_nat_gateway ? module.vpc.private_subnets : module.vpc.public_subnets
  assign_public_ip = !var.enable_nat_gateway
}
