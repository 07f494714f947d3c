variable "name" {
  description = "The lab's name; the cluster and its resource group are lab-<name>."
  type        = string
}

variable "location" {
  description = "The Azure region."
  type        = string
  default     = "westeurope"
}

variable "kubernetes_version" {
  description = "AKS's Kubernetes version; null takes AKS's default."
  type        = string
  default     = null
}

variable "nodes" {
  description = "How many nodes."
  type        = number
  default     = 2
}

variable "node_size" {
  description = "The nodes' VM size."
  type        = string
  default     = "Standard_D4s_v5"
}
