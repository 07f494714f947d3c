package cmdutil

import (
	"io"
	"path/filepath"

	"github.com/cloudnativelab/lab/internal/chaos"
	"github.com/cloudnativelab/lab/internal/cluster"
	"github.com/cloudnativelab/lab/internal/errs"
	"github.com/cloudnativelab/lab/internal/lab"
	"github.com/cloudnativelab/lab/internal/spec"
	"github.com/cloudnativelab/lab/internal/stack"
)

// LoadDefinition reads the lab from -f (a file, or - for stdin), --lab (an embedded
// lab), or the embedded default, checking its stacks against lab's catalog so that an
// unknown one is reported at its line. It returns the lab and where it came from.
func LoadDefinition(file, name string, stdin io.Reader) (*spec.Lab, string, error) {
	env := spec.LabEnv{Stacks: stack.Default().Names()}
	switch {
	case file == "-":
		data, err := io.ReadAll(stdin)
		if err != nil {
			return nil, "", err
		}
		l, err := spec.LoadLab("<stdin>", data, env)
		return l, "<stdin>", err
	case file != "":
		l, err := spec.LoadLabFile(file, env)
		return l, file, err
	case name == "":
		name = "default"
	}
	l, err := spec.EmbeddedLab(name, env)
	return l, "embedded:" + name, err
}

// ValidProfile checks a --profile flag.
func ValidProfile(p string) error {
	switch p {
	case "", spec.ProfileLite, spec.ProfileFull:
		return nil
	}
	return errs.Invalidf("use lite or full", "invalid --profile %q", p)
}

// ChaosLab is the chaos engine's view of a resolved lab, journalling where `lab chaos`
// does, so that `lab chaos status` lists the faults of a scenario too. A lab whose
// creation never finished has no kubeconfig; engine calls needing the cluster fail on
// it with "not running" first.
func ChaosLab(r *lab.Resolved) *chaos.Lab {
	return &chaos.Lab{
		Name: r.Name, Adopted: r.Adopted, Machines: r.Machines, Simulated: r.Status.Simulated, Running: r.State == cluster.Running,
		Context: r.Context, AllowChaos: r.AllowChaos, Stacks: r.Stacks, Kubeconfig: r.AdminKubeconfig,
		JournalDir: JournalDir(r.Dir),
	}
}

// JournalDir is where a lab's chaos journal lives: in the lab's own dir, so `lab down`
// of a lab lab created removes it with the cluster it was about.
func JournalDir(labDir string) string { return filepath.Join(labDir, "chaos") }
