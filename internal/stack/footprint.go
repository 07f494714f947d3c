package stack

import (
	"fmt"
	"strings"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
)

// Resources are summed CPU and memory requests and limits.
type Resources struct {
	CPURequestsMilli    int64 `json:"cpuRequestsMillicores"`
	CPULimitsMilli      int64 `json:"cpuLimitsMillicores"`
	MemoryRequestsBytes int64 `json:"memoryRequestsBytes"`
	MemoryLimitsBytes   int64 `json:"memoryLimitsBytes"`
	// NoMemoryLimit counts containers without a memory limit: the limits total is then
	// a floor, not a ceiling.
	NoMemoryLimit int64 `json:"containersWithoutMemoryLimit"`
}

func (r *Resources) add(o Resources) {
	r.CPURequestsMilli += o.CPURequestsMilli
	r.CPULimitsMilli += o.CPULimitsMilli
	r.MemoryRequestsBytes += o.MemoryRequestsBytes
	r.MemoryLimitsBytes += o.MemoryLimitsBytes
	r.NoMemoryLimit += o.NoMemoryLimit
}

func (r Resources) times(n int64) Resources {
	return Resources{
		CPURequestsMilli: r.CPURequestsMilli * n, CPULimitsMilli: r.CPULimitsMilli * n,
		MemoryRequestsBytes: r.MemoryRequestsBytes * n, MemoryLimitsBytes: r.MemoryLimitsBytes * n,
		NoMemoryLimit: r.NoMemoryLimit * n,
	}
}

// StackFootprint is what one stack's pods request and are limited to.
type StackFootprint struct {
	Stack string `json:"stack"`
	Pods  int64  `json:"pods"`
	Resources
}

// Footprint is what a lab's stacks need from the cluster.
type Footprint struct {
	Profile string           `json:"profile"`
	Nodes   int              `json:"nodes"`
	Stacks  []StackFootprint `json:"stacks"`
	Total   StackFootprint   `json:"total"`
}

// Footprint renders every chart of the named stacks (and the stacks they depend on)
// for the profile, without a cluster, and sums the resources their pods request and
// are limited to. DaemonSets count one pod per node of the lab's nodes.
func (c *Catalog) Footprint(names []string, profile string, nodes int, src Source) (*Footprint, error) {
	stacks, err := c.Resolve(names)
	if err != nil {
		return nil, err
	}
	plan, err := c.prepare(stacks, profile, src)
	if err != nil {
		return nil, err
	}
	fp := &Footprint{Profile: profile, Nodes: max(nodes, 1), Total: StackFootprint{Stack: "total"}}
	for _, p := range plan {
		sf := StackFootprint{Stack: p.stack.Name}
		for _, pc := range p.charts {
			manifest, err := render(pc, p.stack.Namespace)
			if err != nil {
				return nil, err
			}
			ws, err := workloads(manifest)
			if err != nil {
				return nil, err
			}
			for _, w := range ws {
				pods := w.replicas
				if w.perNode {
					pods = int64(fp.Nodes)
				}
				sf.Pods += pods
				sf.add(podResources(w.pod).times(pods))
			}
		}
		fp.Stacks = append(fp.Stacks, sf)
		fp.Total.Pods += sf.Pods
		fp.Total.add(sf.Resources)
	}
	return fp, nil
}

// podResources is what the scheduler reserves for one pod: the larger of its
// containers' sum (sidecars included) and its largest init container, per resource;
// pod-level resources, when set, instead.
func podResources(spec corev1.PodSpec) Resources {
	var sum, initMax Resources
	for _, c := range spec.Containers {
		sum.add(containerResources(c))
	}
	for _, c := range spec.InitContainers {
		r := containerResources(c)
		if c.RestartPolicy != nil && *c.RestartPolicy == corev1.ContainerRestartPolicyAlways {
			sum.add(r) // a sidecar runs alongside the containers
			continue
		}
		initMax = Resources{
			CPURequestsMilli: max(initMax.CPURequestsMilli, r.CPURequestsMilli), CPULimitsMilli: max(initMax.CPULimitsMilli, r.CPULimitsMilli),
			MemoryRequestsBytes: max(initMax.MemoryRequestsBytes, r.MemoryRequestsBytes), MemoryLimitsBytes: max(initMax.MemoryLimitsBytes, r.MemoryLimitsBytes),
		}
	}
	out := Resources{
		CPURequestsMilli: max(sum.CPURequestsMilli, initMax.CPURequestsMilli), CPULimitsMilli: max(sum.CPULimitsMilli, initMax.CPULimitsMilli),
		MemoryRequestsBytes: max(sum.MemoryRequestsBytes, initMax.MemoryRequestsBytes), MemoryLimitsBytes: max(sum.MemoryLimitsBytes, initMax.MemoryLimitsBytes),
		NoMemoryLimit: sum.NoMemoryLimit,
	}
	if pr := spec.Resources; pr != nil {
		if q, ok := pr.Requests[corev1.ResourceCPU]; ok {
			out.CPURequestsMilli = q.MilliValue()
		}
		if q, ok := pr.Requests[corev1.ResourceMemory]; ok {
			out.MemoryRequestsBytes = q.Value()
		}
		if q, ok := pr.Limits[corev1.ResourceCPU]; ok {
			out.CPULimitsMilli = q.MilliValue()
		}
		if q, ok := pr.Limits[corev1.ResourceMemory]; ok {
			out.MemoryLimitsBytes, out.NoMemoryLimit = q.Value(), 0
		}
	}
	return out
}

// containerResources reads one container's requests and limits. A limit without a
// request requests the limit, as the API server defaults it.
func containerResources(c corev1.Container) Resources {
	req, lim := c.Resources.Requests, c.Resources.Limits
	r := Resources{
		CPURequestsMilli:    requestMilli(req, lim, corev1.ResourceCPU),
		CPULimitsMilli:      quantity(lim, corev1.ResourceCPU).MilliValue(),
		MemoryRequestsBytes: requestValue(req, lim, corev1.ResourceMemory),
		MemoryLimitsBytes:   quantity(lim, corev1.ResourceMemory).Value(),
	}
	if _, ok := lim[corev1.ResourceMemory]; !ok {
		r.NoMemoryLimit = 1
	}
	return r
}

func quantity(l corev1.ResourceList, name corev1.ResourceName) *resource.Quantity {
	if q, ok := l[name]; ok {
		return &q
	}
	return resource.NewQuantity(0, resource.DecimalSI)
}

func requestMilli(req, lim corev1.ResourceList, name corev1.ResourceName) int64 {
	if _, ok := req[name]; ok {
		return quantity(req, name).MilliValue()
	}
	return quantity(lim, name).MilliValue()
}

func requestValue(req, lim corev1.ResourceList, name corev1.ResourceName) int64 {
	if _, ok := req[name]; ok {
		return quantity(req, name).Value()
	}
	return quantity(lim, name).Value()
}

// FormatCPU writes millicores as people read them: "250m", "1.5".
func FormatCPU(milli int64) string {
	if milli < 1000 {
		return fmt.Sprintf("%dm", milli)
	}
	return strings.TrimSuffix(strings.TrimRight(fmt.Sprintf("%.2f", float64(milli)/1000), "0"), ".")
}

// FormatMemory writes bytes in binary units: "560 MiB", "1.3 GiB".
func FormatMemory(b int64) string {
	switch {
	case b >= 1<<30:
		return fmt.Sprintf("%.2f GiB", float64(b)/(1<<30))
	case b >= 1<<20:
		return fmt.Sprintf("%d MiB", b>>20)
	default:
		return fmt.Sprintf("%d KiB", b>>10)
	}
}
