# kubeconfig authenticates with `aws eks get-token`, as `aws eks update-kubeconfig`
# writes it: the AWS CLI must be installed where lab and kubectl run.
output "kubeconfig" {
  sensitive = true
  value = yamlencode({
    apiVersion      = "v1"
    kind            = "Config"
    current-context = "lab-${var.name}"
    clusters = [{
      name = "lab-${var.name}"
      cluster = {
        server                     = module.eks.cluster_endpoint
        certificate-authority-data = module.eks.cluster_certificate_authority_data
      }
    }]
    contexts = [{
      name    = "lab-${var.name}"
      context = { cluster = "lab-${var.name}", user = "lab-${var.name}" }
    }]
    users = [{
      name = "lab-${var.name}"
      user = {
        exec = {
          apiVersion = "client.authentication.k8s.io/v1beta1"
          command    = "aws"
          args       = ["eks", "get-token", "--cluster-name", module.eks.cluster_name, "--region", var.region]
        }
      }
    }]
  })
}
