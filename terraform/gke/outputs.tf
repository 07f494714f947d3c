# kubeconfig authenticates with gke-gcloud-auth-plugin, as `gcloud container clusters
# get-credentials` writes it: the plugin must be installed where lab and kubectl run.
output "kubeconfig" {
  sensitive = true
  value = yamlencode({
    apiVersion      = "v1"
    kind            = "Config"
    current-context = "lab-${var.name}"
    clusters = [{
      name = "lab-${var.name}"
      cluster = {
        server                     = "https://${module.gke.endpoint}"
        certificate-authority-data = module.gke.ca_certificate
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
          apiVersion         = "client.authentication.k8s.io/v1beta1"
          command            = "gke-gcloud-auth-plugin"
          provideClusterInfo = true
        }
      }
    }]
  })
}
