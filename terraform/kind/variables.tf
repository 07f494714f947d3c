variable "name" {
  description = "The lab's name; the kind cluster is lab-<name>."
  type        = string
}

variable "kubernetes_version" {
  description = "The nodes' Kubernetes version (a minor with a pinned node image), or the bundle's."
  type        = string
  default     = "v1.36"
}

variable "workers" {
  description = "How many worker nodes beside the control plane."
  type        = number
  default     = 1
}

variable "bundle" {
  description = "An offline bundle (lab pull --bundle DIR): its node image, and its images loaded into the nodes."
  type        = string
  default     = null
}
