terraform {
  required_version = ">= 1.9.0" # validations that refer to other variables

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
}
