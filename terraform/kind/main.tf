# A kind cluster through Terraform: the whole terraform path of lab, runnable without a
# cloud account where Docker answers. The provider tehcyx/kind must be installed where
# terraform can find it (a registry, or a local mirror: see docs/providers.md).
terraform {
  required_version = ">= 1.5"
  required_providers {
    kind = {
      source  = "tehcyx/kind"
      version = ">= 0.6, < 1.0"
    }
  }
}

resource "kind_cluster" "lab" {
  name           = "lab-${var.name}"
  node_image     = var.node_image
  wait_for_ready = true

  kind_config {
    kind        = "Cluster"
    api_version = "kind.x-k8s.io/v1alpha4"

    node {
      role = "control-plane"
    }

    dynamic "node" {
      for_each = range(var.workers)
      content {
        role = "worker"
      }
    }
  }
}
