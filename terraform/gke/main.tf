# A small, cheap GKE cluster for a lab: zonal (one zone, no regional control-plane
# fee beyond the free tier's one zonal cluster), the default network, one node pool of
# spot VMs.
terraform {
  required_version = ">= 1.5"
  required_providers {
    google = {
      source  = "hashicorp/google"
      version = ">= 6.0, < 8.0"
    }
  }
}

provider "google" {
  project = var.project
  region  = var.region
}

data "google_client_config" "current" {}

module "gke" {
  source  = "terraform-google-modules/kubernetes-engine/google"
  version = "~> 36.0"

  project_id               = var.project
  name                     = "lab-${var.name}"
  regional                 = false
  zones                    = [var.zone]
  network                  = "default"
  subnetwork               = "default"
  ip_range_pods            = ""
  ip_range_services        = ""
  kubernetes_version       = var.kubernetes_version
  remove_default_node_pool = true
  deletion_protection      = false

  node_pools = [{
    name         = "lab"
    machine_type = var.node_size
    node_count   = var.nodes
    autoscaling  = false
    spot         = var.spot
    disk_size_gb = 50
  }]
  cluster_resource_labels = { "lab-cloudnativelab-io-name" = var.name }
}
