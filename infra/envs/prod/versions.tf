terraform {
  required_version = ">= 1.10.0" # use_lockfile (S3-native state locking) needs 1.10+

  required_providers {
    aws = {
      source  = "hashicorp/aws"
      version = ">= 5.99, < 6.0" # alb 9.17.0 needs 5.99+
    }
    random = {
      source  = "hashicorp/random"
      version = "~> 3.6"
    }
  }

  # Created once by the bootstrap (infra/README.md); versioned and encrypted.
  backend "s3" {
    bucket       = "sociograph-terraform-state"
    key          = "prod/terraform.tfstate"
    region       = "eu-west-1"
    encrypt      = true
    use_lockfile = true
  }
}

provider "aws" {
  region = var.region

  default_tags {
    tags = {
      Project     = "sociograph"
      Environment = "prod"
    }
  }
}
