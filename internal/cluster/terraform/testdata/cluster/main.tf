# A "cluster" of built-in resources only, for tests: it hands out the kubeconfig of a
# cluster that runs already (the test environment's), after a provisioner that takes
# apply_seconds, so that a test can interrupt an apply in the middle. While the file
# block_destroy names exists, destroying it fails, as a cloud that refuses would.
variable "name" {
  type = string
}

variable "kubeconfig_file" {
  type = string
}

variable "apply_seconds" {
  type    = number
  default = 0
}

variable "block_destroy" {
  type    = string
  default = "/nonexistent/lab-test-block-destroy"
}

resource "terraform_data" "cluster" {
  input = {
    name          = var.name
    kubeconfig    = file(var.kubeconfig_file)
    block_destroy = var.block_destroy
  }

  provisioner "local-exec" {
    command = "sleep ${var.apply_seconds}"
  }

  provisioner "local-exec" {
    when    = destroy
    command = "test ! -e '${self.input.block_destroy}'"
  }
}

output "kubeconfig" {
  sensitive = true
  value     = terraform_data.cluster.output.kubeconfig
}
