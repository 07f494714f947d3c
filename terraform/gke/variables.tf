variable "name" {
  description = "The lab's name; the cluster is lab-<name>."
  type        = string
}

variable "project" {
  description = "The Google Cloud project to create the cluster in."
  type        = string
}

variable "region" {
  description = "The Google Cloud region."
  type        = string
  default     = "europe-west1"
}

variable "zone" {
  description = "The zone of the zonal cluster, in region."
  type        = string
  default     = "europe-west1-b"
}

variable "kubernetes_version" {
  description = "GKE's Kubernetes version, or latest."
  type        = string
  default     = "latest"
}

variable "nodes" {
  description = "How many nodes."
  type        = number
  default     = 2
}

variable "node_size" {
  description = "The nodes' machine type."
  type        = string
  default     = "e2-standard-4"
}

variable "spot" {
  description = "Spot VMs: a fraction of the on-demand price, and may be reclaimed."
  type        = bool
  default     = true
}
