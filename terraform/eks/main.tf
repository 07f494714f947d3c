# A small, cheap EKS cluster for a lab: its own VPC (two public subnets, no NAT
# gateway), one managed node group of spot instances. Every lab stack fits on two
# t3.large nodes with the lite profile.
terraform {
  required_version = ">= 1.5"
  required_providers {
    aws = {
      source  = "hashicorp/aws"
      version = ">= 5.0, < 7.0"
    }
  }
}

provider "aws" {
  region = var.region
}

data "aws_availability_zones" "available" {
  state = "available"
}

module "vpc" {
  source  = "terraform-aws-modules/vpc/aws"
  version = "~> 5.0"

  name                    = "lab-${var.name}"
  cidr                    = "10.0.0.0/16"
  azs                     = slice(data.aws_availability_zones.available.names, 0, 2)
  public_subnets          = ["10.0.1.0/24", "10.0.2.0/24"]
  map_public_ip_on_launch = true
  enable_nat_gateway      = false
  tags                    = local.tags
}

module "eks" {
  source  = "terraform-aws-modules/eks/aws"
  version = "~> 20.0"

  cluster_name                             = "lab-${var.name}"
  cluster_version                          = var.kubernetes_version
  cluster_endpoint_public_access           = true
  enable_cluster_creator_admin_permissions = true
  vpc_id                                   = module.vpc.vpc_id
  subnet_ids                               = module.vpc.public_subnets

  eks_managed_node_groups = {
    lab = {
      instance_types = [var.node_size]
      capacity_type  = var.spot ? "SPOT" : "ON_DEMAND"
      min_size       = var.nodes
      max_size       = var.nodes
      desired_size   = var.nodes
    }
  }
  tags = local.tags
}

locals {
  tags = { "lab.cloudnativelab.io/name" = var.name }
}
