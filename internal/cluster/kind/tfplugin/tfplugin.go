// Package tfplugin is a Terraform provider for kind clusters, served by the lab binary
// itself: lab's bundled Terraform module "kind" uses it, so the whole terraform path of
// lab runs on a machine with Docker and no cloud account, and no provider has to be
// downloaded. It makes clusters with lab's own kind provider (the same node images,
// offline bundles and health checks as `lab up` on kind). It is the only package that
// imports terraform-plugin-framework.
package tfplugin

import (
	"context"
	"os"
	"path/filepath"
	"strings"

	"github.com/hashicorp/terraform-plugin-framework/datasource"
	"github.com/hashicorp/terraform-plugin-framework/provider"
	pschema "github.com/hashicorp/terraform-plugin-framework/provider/schema"
	"github.com/hashicorp/terraform-plugin-framework/providerserver"
	"github.com/hashicorp/terraform-plugin-framework/resource"
)

const (
	// Source is the provider's source address as a module's required_providers names it.
	Source = "cloudnativelab/kind"
	// Address is its full address, and Version the one lab installs.
	Address = "registry.terraform.io/" + Source
	Version = "0.1.0"
	// Executable is the plugin's file name in a Terraform local mirror.
	Executable = "terraform-provider-kind_v" + Version
)

// Started tells whether terraform started this process as the plugin: through the
// plugin's file name, with go-plugin's handshake in the environment.
func Started() bool {
	return os.Getenv("TF_PLUGIN_MAGIC_COOKIE") != "" && strings.HasPrefix(filepath.Base(os.Args[0]), "terraform-provider-kind")
}

// Serve runs the provider as a Terraform plugin (terraform started this process).
func Serve(ctx context.Context) error {
	return providerserver.Serve(ctx, func() provider.Provider { return kindProvider{} }, providerserver.ServeOpts{Address: Address})
}

type kindProvider struct{}

func (kindProvider) Metadata(_ context.Context, _ provider.MetadataRequest, resp *provider.MetadataResponse) {
	resp.TypeName, resp.Version = "kind", Version
}

func (kindProvider) Schema(_ context.Context, _ provider.SchemaRequest, resp *provider.SchemaResponse) {
	resp.Schema = pschema.Schema{Description: "kind clusters, made by lab's kind provider (Docker must answer)."}
}

func (kindProvider) Configure(context.Context, provider.ConfigureRequest, *provider.ConfigureResponse) {
}

func (kindProvider) Resources(context.Context) []func() resource.Resource {
	return []func() resource.Resource{func() resource.Resource { return &clusterResource{} }}
}

func (kindProvider) DataSources(context.Context) []func() datasource.DataSource { return nil }
