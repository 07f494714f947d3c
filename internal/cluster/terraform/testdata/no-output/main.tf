variable "name" {
  type = string
}

variable "project" {
  type = string
}

resource "terraform_data" "nothing" {
  input = var.name
}
