variable "name" {
  description = "The lab's name; the kind cluster is lab-<name>."
  type        = string
}

variable "node_image" {
  description = "The kind node image, e.g. one `make testenv` built (lab.local/kind-node:v1.34.4)."
  type        = string
  default     = "kindest/node:v1.34.0"
}

variable "workers" {
  description = "How many worker nodes beside the control plane."
  type        = number
  default     = 1
}
