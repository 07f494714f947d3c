output "kubeconfig" {
  sensitive = true
  value     = kind_cluster.lab.kubeconfig
}
