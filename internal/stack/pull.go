package stack

import (
	"slices"
	"sort"
)

// PulledChart is one chart `lab pull` made available offline.
type PulledChart struct {
	Stack   string `json:"stack"`
	Chart   string `json:"chart"`
	Version string `json:"version"`
	// Source is "bundled" or the repository the chart came from.
	Source string `json:"source"`
	Digest string `json:"digest,omitempty"`
	// Path is the cached archive of an upstream chart.
	Path string `json:"path,omitempty"`
	// Fetched is true when this run downloaded it (false: it was in the cache already).
	Fetched bool `json:"fetched"`
}

// Image is a container image the stacks run, and which stacks run it.
type Image struct {
	Name   string   `json:"image"`
	Stacks []string `json:"stacks"`
}

// PullResult is what `lab pull` prepared.
type PullResult struct {
	Profile string        `json:"profile"`
	Charts  []PulledChart `json:"charts"`
	Images  []Image       `json:"images"`
}

// Pull fetches every upstream chart of the named stacks (and their dependencies) into
// the cache, and lists the container images their rendered charts use, so that a
// classroom without network can load them into its nodes beforehand.
func (c *Catalog) Pull(names []string, profile string, src Source) (*PullResult, error) {
	src.Offline = false
	return c.Contents(names, profile, src)
}

// Contents lists the charts and images of the named stacks like Pull, but takes
// upstream charts the way src says (from the cache only when src.Offline).
func (c *Catalog) Contents(names []string, profile string, src Source) (*PullResult, error) {
	stacks, err := c.Resolve(names)
	if err != nil {
		return nil, err
	}
	plan, err := c.prepare(stacks, profile, src)
	if err != nil {
		return nil, err
	}
	res := &PullResult{Profile: profile}
	byImage := map[string][]string{}
	for _, p := range plan {
		for _, pc := range p.charts {
			res.Charts = append(res.Charts, pulledChart(p.stack, pc, src))
			manifest, err := render(pc, p.stack.Namespace)
			if err != nil {
				return nil, err
			}
			ws, err := workloads(manifest)
			if err != nil {
				return nil, err
			}
			for _, img := range images(ws) {
				if !slices.Contains(byImage[img], p.stack.Name) {
					byImage[img] = append(byImage[img], p.stack.Name)
				}
			}
		}
	}
	for name, stacks := range byImage {
		res.Images = append(res.Images, Image{Name: name, Stacks: stacks})
	}
	sort.Slice(res.Images, func(i, j int) bool { return res.Images[i].Name < res.Images[j].Name })
	return res, nil
}

func pulledChart(s Stack, pc preparedChart, src Source) PulledChart {
	out := PulledChart{Stack: s.Name, Chart: pc.ref.Name, Version: pc.chart.chart.Metadata.Version, Source: "bundled"}
	if !pc.ref.Bundled() {
		out.Source, out.Digest, out.Path, out.Fetched = pc.ref.Repo, "sha256:"+pc.chart.digest, src.CachePath(pc.ref), !pc.chart.cached
	}
	return out
}

// images lists the images of the workloads' containers, init containers included.
func images(ws []workload) []string {
	var out []string
	for _, w := range ws {
		for _, c := range append(slices.Clone(w.pod.InitContainers), w.pod.Containers...) {
			if c.Image != "" && !slices.Contains(out, c.Image) {
				out = append(out, c.Image)
			}
		}
	}
	return out
}
