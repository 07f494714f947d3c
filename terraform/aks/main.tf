# A small, cheap AKS cluster for a lab: the free control-plane tier, a resource group
# of its own (deleted with it), one system node pool.
terraform {
  required_version = ">= 1.5"
  required_providers {
    azurerm = {
      source  = "hashicorp/azurerm"
      version = ">= 3.116, < 5.0"
    }
  }
}

provider "azurerm" {
  features {}
}

resource "azurerm_resource_group" "lab" {
  name     = "lab-${var.name}"
  location = var.location
  tags     = local.tags
}

module "aks" {
  source  = "Azure/aks/azurerm"
  version = "~> 9.0"

  resource_group_name               = azurerm_resource_group.lab.name
  location                          = var.location
  prefix                            = "lab-${var.name}"
  kubernetes_version                = var.kubernetes_version
  sku_tier                          = "Free"
  agents_count                      = var.nodes
  agents_size                       = var.node_size
  agents_pool_name                  = "lab"
  os_disk_size_gb                   = 50
  rbac_aad                          = false
  role_based_access_control_enabled = true
  log_analytics_workspace_enabled   = false
  tags                              = local.tags
}

locals {
  tags = { "lab.cloudnativelab.io/name" = var.name }
}
