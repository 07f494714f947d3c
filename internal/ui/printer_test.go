package ui

import (
	"bytes"
	"strings"
	"testing"

	"github.com/cloudnativelab/lab/internal/errs"
)

type labRow struct {
	Name     string `json:"name"`
	Provider string `json:"provider"`
	State    string `json:"state"`
	Nodes    int    `json:"nodes"`
}

var labRows = []labRow{
	{Name: "web", Provider: "sim", State: "running", Nodes: 3},
	{Name: "storage-basics", Provider: "kind", State: "stopped", Nodes: 1},
	{Name: "net<policy>", Provider: "existing", State: "unknown", Nodes: 12},
}

func labTable() View {
	t := NewTable("NAME", "PROVIDER", "STATE", "NODES")
	for _, r := range labRows {
		t.AddRow(r.Name, r.Provider, r.State, strings.Repeat("●", r.Nodes%4))
	}
	t.AddRow("half", "sim") // missing cells stay empty
	return t
}

func labDetails() View {
	return NewDetails().
		Add("Name", "web").
		Add("Provider", "sim").
		Add("Context", "lab-web").
		Add("State", "running").
		Add("Nodes", "lab-control-plane\nlab-worker").
		Add("Endpoint", "").
		Note("run `lab env web` to point kubectl at it")
}

func TestPrinterGolden(t *testing.T) {
	t.Parallel()
	tests := []struct {
		golden string
		format Format
		tty    bool
		data   any
		human  func() View
	}{
		{golden: "table_plain", format: FormatTable, data: labRows, human: labTable},
		{golden: "table_tty", format: FormatTable, tty: true, data: labRows, human: labTable},
		{golden: "details", format: FormatTable, data: labRows[0], human: labDetails},
		{golden: "data_json", format: FormatJSON, data: labRows, human: labTable},
		{golden: "data_yaml", format: FormatYAML, data: labRows, human: labTable},
	}
	for _, tt := range tests {
		t.Run(tt.golden+"/"+string(tt.format), func(t *testing.T) {
			t.Parallel()
			ios, _, out, errOut := Test()
			ios.IsTTY = tt.tty
			if err := ios.Printer(tt.format).Print(tt.data, tt.human); err != nil {
				t.Fatal(err)
			}
			if errOut.Len() != 0 {
				t.Errorf("data leaked to stderr: %q", errOut)
			}
			if bytes.IndexByte(out.Bytes(), 0x1b) >= 0 {
				t.Errorf("output without colour has an escape sequence: %q", out)
			}
			assertGolden(t, tt.golden, out.Bytes())
		})
	}
}

func TestPrinterWithoutAViewWritesYAML(t *testing.T) {
	t.Parallel()
	ios, _, asTable, _ := Test()
	if err := ios.Printer(FormatTable).Print(labRows, nil); err != nil {
		t.Fatal(err)
	}
	ios, _, asYAML, _ := Test()
	if err := ios.Printer(FormatYAML).Print(labRows, nil); err != nil {
		t.Fatal(err)
	}
	if asTable.String() != asYAML.String() {
		t.Errorf("table format without a view gave\n%s\nwant the YAML\n%s", asTable, asYAML)
	}
}

func TestPrinterColoursOnlyAColourTerminal(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name       string
		tty, color bool
		want       bool
	}{
		{name: "colour terminal", tty: true, color: true, want: true},
		{name: "terminal with --no-color", tty: true, color: false, want: false},
		{name: "pipe", tty: false, color: true, want: false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			for _, view := range []func() View{labTable, labDetails} {
				ios, _, out, _ := Test()
				ios.IsTTY, ios.Color = tt.tty, tt.color
				if err := ios.Printer(FormatTable).Print(nil, view); err != nil {
					t.Fatal(err)
				}
				if got := sgr.MatchString(out.String()); got != tt.want {
					t.Errorf("colour codes present = %v, want %v in %q", got, tt.want, out)
				}
			}
		})
	}
}

func TestParseFormat(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in      string
		want    Format
		wantErr bool
	}{
		{in: "", want: FormatTable},
		{in: "table", want: FormatTable},
		{in: "json", want: FormatJSON},
		{in: "yaml", want: FormatYAML},
		{in: "xml", wantErr: true},
		{in: "JSON", wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			t.Parallel()
			got, err := ParseFormat(tt.in)
			if tt.wantErr {
				if errs.KindOf(err) != errs.Invalid {
					t.Fatalf("ParseFormat(%q) error = %v, want an errs.Invalid error", tt.in, err)
				}
				if !strings.Contains(err.Error(), "table, json, yaml") {
					t.Errorf("error %q does not list the valid formats", err)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Errorf("ParseFormat(%q) = %q, %v; want %q", tt.in, got, err, tt.want)
			}
		})
	}
}
