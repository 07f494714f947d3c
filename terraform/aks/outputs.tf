# kubeconfig is AKS's admin kubeconfig (client certificates): nothing else to install.
output "kubeconfig" {
  sensitive = true
  value     = module.aks.kube_config_raw
}
