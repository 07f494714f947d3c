package tfplugin

import (
	"context"
	"fmt"

	"github.com/hashicorp/terraform-plugin-framework/resource"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/int64default"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/int64planmodifier"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/planmodifier"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/stringdefault"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/stringplanmodifier"
	"github.com/hashicorp/terraform-plugin-framework/types"

	"github.com/cloudnativelab/lab/internal/bundle"
	"github.com/cloudnativelab/lab/internal/cluster"
	"github.com/cloudnativelab/lab/internal/cluster/kind"
	"github.com/cloudnativelab/lab/internal/event"
	"github.com/cloudnativelab/lab/internal/spec"
)

// clusterResource is kind_cluster: a kind cluster of one control-plane node and
// workers, from a Kubernetes version's pinned node image or an offline bundle's. Every
// argument replaces the cluster when it changes.
type clusterResource struct{}

type clusterModel struct {
	ID                types.String `tfsdk:"id"`
	Name              types.String `tfsdk:"name"`
	KubernetesVersion types.String `tfsdk:"kubernetes_version"`
	Workers           types.Int64  `tfsdk:"workers"`
	Bundle            types.String `tfsdk:"bundle"`
	WorkDir           types.String `tfsdk:"work_dir"`
	Kubeconfig        types.String `tfsdk:"kubeconfig"`
}

func (r *clusterResource) Metadata(_ context.Context, req resource.MetadataRequest, resp *resource.MetadataResponse) {
	resp.TypeName = req.ProviderTypeName + "_cluster"
}

func (r *clusterResource) Schema(_ context.Context, _ resource.SchemaRequest, resp *resource.SchemaResponse) {
	replaceString := []planmodifier.String{stringplanmodifier.RequiresReplace()}
	resp.Schema = schema.Schema{
		Description: "A kind cluster named lab-<name>, made as `lab up` makes one on kind.",
		Attributes: map[string]schema.Attribute{
			"id":   schema.StringAttribute{Computed: true, PlanModifiers: []planmodifier.String{stringplanmodifier.UseStateForUnknown()}},
			"name": schema.StringAttribute{Required: true, PlanModifiers: replaceString, Description: "the lab's name"},
			"kubernetes_version": schema.StringAttribute{Optional: true, Computed: true, Default: stringdefault.StaticString(spec.DefaultKubernetesVersion),
				PlanModifiers: replaceString, Description: "the node image's Kubernetes version (v1.34, ...), or the bundle's"},
			"workers": schema.Int64Attribute{Optional: true, Computed: true, Default: int64default.StaticInt64(1),
				PlanModifiers: []planmodifier.Int64{int64planmodifier.RequiresReplace()}, Description: "worker nodes beside the control plane"},
			"bundle": schema.StringAttribute{Optional: true, PlanModifiers: replaceString,
				Description: "an offline bundle (lab pull --bundle): its node image, and its images loaded into the nodes"},
			"work_dir":   schema.StringAttribute{Required: true, PlanModifiers: replaceString, Description: "a directory of the cluster's own (its kubeconfig)"},
			"kubeconfig": schema.StringAttribute{Computed: true, Sensitive: true, PlanModifiers: []planmodifier.String{stringplanmodifier.UseStateForUnknown()}},
		},
	}
}

// request is lab's kind provider's request for the model.
func (m *clusterModel) request() (cluster.Request, error) {
	c := spec.ClusterSpec{Provider: spec.ProviderKind, KubernetesVersion: m.KubernetesVersion.ValueString(), Ports: []int{},
		Nodes: []spec.NodeGroup{{Role: spec.RoleControlPlane, Count: 1}}}
	if w := int(m.Workers.ValueInt64()); w > 0 {
		c.Nodes = append(c.Nodes, spec.NodeGroup{Role: spec.RoleWorker, Count: w})
	}
	req := cluster.Request{Name: m.Name.ValueString(), Cluster: c, WorkDir: m.WorkDir.ValueString()}
	if dir := m.Bundle.ValueString(); dir != "" {
		mf, err := bundle.Open(dir)
		if err == nil {
			err = bundle.Verify(dir, mf)
		}
		if err != nil {
			return req, fmt.Errorf("bundle %s: %w", dir, err)
		}
		req.Bundle = &cluster.Bundle{Dir: dir, Manifest: mf}
	}
	return req, nil
}

func (r *clusterResource) Create(ctx context.Context, req resource.CreateRequest, resp *resource.CreateResponse) {
	var m clusterModel
	if resp.Diagnostics.Append(req.Plan.Get(ctx, &m)...); resp.Diagnostics.HasError() {
		return
	}
	creq, err := m.request()
	if err != nil {
		resp.Diagnostics.AddError("invalid kind_cluster", err.Error())
		return
	}
	kc, err := create(ctx, creq)
	if err != nil {
		resp.Diagnostics.AddError("creating kind cluster "+kind.ClusterName(creq.Name), err.Error())
		return
	}
	m.ID, m.Kubeconfig = types.StringValue(kind.ClusterName(creq.Name)), types.StringValue(string(kc))
	resp.Diagnostics.Append(resp.State.Set(ctx, &m)...)
}

// create makes the cluster and loads a bundle's images. A create that fails, or is
// interrupted, deletes what it made: the resource is not in the state then, and a
// destroy would not find it.
func create(ctx context.Context, req cluster.Request) ([]byte, error) {
	p, ev := kind.New(), event.NewEmitter(event.Discard)
	err := p.Preflight(ctx, req, ev)
	if err == nil {
		err = p.Create(ctx, req, ev)
	}
	if err == nil && req.Bundle != nil {
		err = p.LoadImages(ctx, req, ev)
	}
	var kc []byte
	if err == nil {
		kc, err = p.Kubeconfig(ctx, req)
	}
	if err != nil {
		_ = p.Delete(context.WithoutCancel(ctx), req)
		return nil, err
	}
	return kc, nil
}

// Read drops a cluster that no longer exists from the state, so a plan makes it again.
func (r *clusterResource) Read(ctx context.Context, req resource.ReadRequest, resp *resource.ReadResponse) {
	var m clusterModel
	if resp.Diagnostics.Append(req.State.Get(ctx, &m)...); resp.Diagnostics.HasError() {
		return
	}
	creq := cluster.Request{Name: m.Name.ValueString(), WorkDir: m.WorkDir.ValueString()}
	st, err := kind.New().Status(ctx, creq)
	if err != nil {
		resp.Diagnostics.AddError("reading kind cluster "+m.ID.ValueString(), err.Error())
		return
	}
	if st.State == cluster.Missing {
		resp.State.RemoveResource(ctx)
	}
}

// Update is never called with a change: every argument replaces the cluster.
func (r *clusterResource) Update(ctx context.Context, req resource.UpdateRequest, resp *resource.UpdateResponse) {
	var m clusterModel
	if resp.Diagnostics.Append(req.Plan.Get(ctx, &m)...); resp.Diagnostics.HasError() {
		return
	}
	resp.Diagnostics.Append(resp.State.Set(ctx, &m)...)
}

func (r *clusterResource) Delete(ctx context.Context, req resource.DeleteRequest, resp *resource.DeleteResponse) {
	var m clusterModel
	if resp.Diagnostics.Append(req.State.Get(ctx, &m)...); resp.Diagnostics.HasError() {
		return
	}
	creq := cluster.Request{Name: m.Name.ValueString(), WorkDir: m.WorkDir.ValueString()}
	if err := kind.New().Delete(ctx, creq); err != nil {
		resp.Diagnostics.AddError("deleting kind cluster "+m.ID.ValueString(), err.Error())
	}
}
