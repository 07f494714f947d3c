package stack

// Default is the catalog built into lab: the bundled charts of charts/.
func Default() *Catalog {
	return &Catalog{
		Bundled: BundledChart,
		Stacks: []Stack{
			{
				Name:        "monitoring",
				Description: "Prometheus, Alertmanager and Grafana, with kube-state-metrics and node-exporter",
				Namespace:   "monitoring",
				Charts:      []Chart{{Name: "monitoring", Values: bundledProfile("monitoring")}},
				Outcome: &Outcome{
					Description: "Prometheus answers a query and scrapes itself",
					Service:     "prometheus", Port: 9090, Query: `up{job="prometheus"}`,
				},
				Services: []Service{
					{Name: "grafana", Service: "grafana", Port: 3000,
						Login: &Login{Secret: "grafana-admin", UserKey: "admin-user", PasswordKey: "admin-password"}},
					{Name: "prometheus", Service: "prometheus", Port: 9090},
					{Name: "alertmanager", Service: "alertmanager", Port: 9093},
				},
			},
			{
				Name:        "demo-shop",
				Description: "a small shop (frontend, backend, cache) to observe and break",
				Namespace:   "demo-shop",
				// Its backend can be a Rollout (backend.rollout.enabled), whose CRD the
				// delivery stack installs.
				After:       []string{"delivery"},
				Charts:      []Chart{{Name: "demo-shop", Values: bundledProfile("demo-shop")}},
				Services:    []Service{{Name: "shop", Service: "frontend", Port: 9898}},
				ChaosTarget: true,
			},
			{
				Name:        "delivery",
				Description: "Argo Rollouts: canary and blue/green rollouts, with analysis that scores a new version from Prometheus",
				Namespace:   "argo-rollouts",
				// The analysis templates query the monitoring stack's Prometheus.
				DependsOn: []string{"monitoring"},
				Charts:    []Chart{{Name: "delivery", Values: bundledProfile("delivery")}},
				Services:  []Service{{Name: "rollouts", Service: "argo-rollouts-dashboard", Port: 3100}},
			},
		},
	}
}

// bundledProfile reads a bundled chart's values for a profile (its profiles/<p>.yaml).
func bundledProfile(chart string) func(string) (map[string]any, error) {
	return func(profile string) (map[string]any, error) { return BundledProfile(chart, profile) }
}
