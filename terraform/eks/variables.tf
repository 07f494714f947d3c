variable "name" {
  description = "The lab's name; the cluster is lab-<name>."
  type        = string
}

variable "region" {
  description = "The AWS region."
  type        = string
  default     = "eu-west-1"
}

variable "kubernetes_version" {
  description = "EKS's Kubernetes minor version."
  type        = string
  default     = "1.33"
}

variable "nodes" {
  description = "How many worker nodes."
  type        = number
  default     = 2
}

variable "node_size" {
  description = "The nodes' EC2 instance type."
  type        = string
  default     = "t3.large"
}

variable "spot" {
  description = "Spot instances: about a third of the on-demand price, and may be reclaimed."
  type        = bool
  default     = true
}
