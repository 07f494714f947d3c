# A kind cluster through Terraform: the whole terraform path of lab, runnable where
# Docker answers, without a cloud account. Its provider is lab itself: lab links its own
# binary into terraform's plugin directory (~/.terraform.d/plugins) before init, so
# nothing is downloaded. The cluster is made as `lab up` makes one on kind: the same
# node images, offline bundles and health checks.
terraform {
  required_version = ">= 1.5"
  required_providers {
    kind = {
      source  = "cloudnativelab/kind"
      version = "0.1.0"
    }
  }
}

resource "kind_cluster" "lab" {
  name               = var.name
  kubernetes_version = var.kubernetes_version
  workers            = var.workers
  bundle             = var.bundle
  work_dir           = "${abspath(path.root)}/kind"
}
