package terraform

// costs are rough hourly list prices of the bundled cloud modules with their default
// vars (two nodes, spot where the module allows), for a trainee to know what a lab
// left running costs. They are estimates from the providers' published prices, not a
// live quote; docs/providers.md has the table and what it leaves out.
var costs = map[string]string{
	"eks": "about $0.17 an hour: EKS's control plane $0.10, two t3.large spot nodes about $0.03 each",
	"gke": "about $0.18 an hour: GKE's zonal cluster fee $0.10 (its free tier credits one zonal cluster per billing account), two e2-standard-4 spot VMs about $0.04 each",
	"aks": "about $0.40 an hour: AKS's free control-plane tier, two Standard_D4s_v5 nodes about $0.20 each",
}

// estimatedCost is the note for a bundled cloud module, "" for the others.
func estimatedCost(module string) string {
	c, ok := costs[module]
	if !ok {
		return ""
	}
	return "estimated with the module's defaults: " + c + ", plus traffic and disks (docs/providers.md)"
}
