package spec

import (
	"fmt"
	"regexp"
	"strconv"
)

// DefaultKubernetesVersion is used when a lab does not set kubernetesVersion.
const DefaultKubernetesVersion = "v1.36"

// The Kubernetes minor versions this build can create, inclusive. Providers map each to
// their own artefacts (node images for kind).
const (
	MinKubernetesMinor = 30
	MaxKubernetesMinor = 36
)

// SupportedKubernetesVersions lists the minor versions this build can create, oldest
// first: v1.30 ... v1.36.
func SupportedKubernetesVersions() []string {
	versions := make([]string, 0, MaxKubernetesMinor-MinKubernetesMinor+1)
	for minor := MinKubernetesMinor; minor <= MaxKubernetesMinor; minor++ {
		versions = append(versions, KubernetesVersion{Minor: minor, Patch: -1}.String())
	}
	return versions
}

// KubernetesVersion is a parsed kubernetesVersion: v1.<Minor> or v1.<Minor>.<Patch>.
type KubernetesVersion struct {
	Minor int
	// Patch is -1 when the lab names only the minor version; the provider then picks
	// the newest patch it knows.
	Patch int
}

// HasPatch reports whether a patch version was given.
func (v KubernetesVersion) HasPatch() bool { return v.Patch >= 0 }

// MinorVersion is the version without its patch: v1.36.
func (v KubernetesVersion) MinorVersion() string { return fmt.Sprintf("v1.%d", v.Minor) }

// String is the version as written in a lab file.
func (v KubernetesVersion) String() string {
	if v.HasPatch() {
		return fmt.Sprintf("v1.%d.%d", v.Minor, v.Patch)
	}
	return v.MinorVersion()
}

var kubernetesVersionPattern = regexp.MustCompile(`^v1\.(0|[1-9][0-9]{0,3})(?:\.(0|[1-9][0-9]{0,3}))?$`)

// ParseKubernetesVersion parses and checks a kubernetesVersion; the error is a message to
// show after the field name.
func ParseKubernetesVersion(s string) (KubernetesVersion, error) {
	m := kubernetesVersionPattern.FindStringSubmatch(s)
	if m == nil {
		return KubernetesVersion{}, fmt.Errorf("must look like %s or %s.2, got %q", DefaultKubernetesVersion, DefaultKubernetesVersion, s)
	}
	v := KubernetesVersion{Patch: -1}
	v.Minor, _ = strconv.Atoi(m[1])
	if m[2] != "" {
		v.Patch, _ = strconv.Atoi(m[2])
	}
	if v.Minor < MinKubernetesMinor || v.Minor > MaxKubernetesMinor {
		return v, fmt.Errorf("version %s is not supported; this build supports v1.%d to v1.%d",
			v.MinorVersion(), MinKubernetesMinor, MaxKubernetesMinor)
	}
	return v, nil
}
