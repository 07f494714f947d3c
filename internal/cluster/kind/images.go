package kind

import (
	"fmt"
	"regexp"
	"sort"
	"strings"

	"github.com/cloudnativelab/lab/internal/errs"
)

// DefaultKubernetesMinor is used when a lab does not set kubernetesVersion: the newest
// minor that both the lab and kind v0.33.0 support.
const DefaultKubernetesMinor = "v1.36"

// nodeImages maps a Kubernetes minor to the node image published with kind v0.33.0.
//
// Node images are only guaranteed to work with the kind release they were built for,
// and tags are re-pushed between releases, so every image is pinned by digest.
//
// Source: "Images pre-built for this release" in the kind v0.33.0 release notes,
// https://github.com/kubernetes-sigs/kind/releases/tag/v0.33.0
// (v1.37.0 is kind's default, pkg/apis/config/defaults/image.go at v0.33.0).
//
// kind v0.33.0 publishes no images for v1.30 to v1.33, so those minors are left out
// rather than borrowing images built for older kind releases. v1.37.0 is published but
// newer than any minor the lab supports.
var nodeImages = map[string]string{
	"v1.34": "kindest/node:v1.34.11@sha256:44e222ee2132dab25ff87301682f89eb82c7880ea3a1bf543bfe9708fd08d67d",
	"v1.35": "kindest/node:v1.35.8@sha256:07b2536e30b803ed61d1677a79df6115f798ce64c80f9e22f6ed45afd09323c0",
	"v1.36": "kindest/node:v1.36.4@sha256:099e049362a1526b2db71494e1947aae99bd16290d7c895f2b7ea312e3cbfaed",
}

// versionPattern accepts v1.36, v1.36.4 and v1.36.x (the leading v is optional).
var versionPattern = regexp.MustCompile(`^v?(\d+)\.(\d+)(?:\.(\d+|x))?$`)

// AvailableKubernetesVersions lists the minors that have a kind node image, oldest first.
func AvailableKubernetesVersions() []string {
	minors := make([]string, 0, len(nodeImages))
	for minor := range nodeImages {
		minors = append(minors, minor)
	}
	sort.Slice(minors, func(i, j int) bool { return minorLess(minors[i], minors[j]) })
	return minors
}

// NodeImage returns the digest-pinned kind node image for a kubernetesVersion
// ("" means DefaultKubernetesMinor). The patch in the version is not matched: kind
// publishes one patch per minor, and NodeImageVersion says which one it is.
func NodeImage(kubernetesVersion string) (string, error) {
	minor, err := minorOf(kubernetesVersion)
	if err != nil {
		return "", err
	}
	image, ok := nodeImages[minor]
	if !ok {
		return "", errs.Invalidf(
			"set kubernetesVersion to one of "+strings.Join(AvailableKubernetesVersions(), ", ")+", or use `--provider sim`",
			"Kubernetes %s has no kind node image for kind v0.33.0 (available: %s)",
			minor, strings.Join(AvailableKubernetesVersions(), ", "))
	}
	return image, nil
}

// NodeImageVersion is the exact Kubernetes version of a node image ("v1.36.4").
func NodeImageVersion(image string) string {
	tag := strings.TrimPrefix(image, "kindest/node:")
	version, _, _ := strings.Cut(tag, "@")
	return version
}

// minorOf reduces a kubernetesVersion to its minor ("v1.36").
func minorOf(kubernetesVersion string) (string, error) {
	if kubernetesVersion == "" {
		return DefaultKubernetesMinor, nil
	}
	m := versionPattern.FindStringSubmatch(kubernetesVersion)
	if m == nil {
		return "", errs.Invalidf("write kubernetesVersion as v1.36 or v1.36.4",
			"kubernetesVersion %q is not a Kubernetes version", kubernetesVersion)
	}
	return fmt.Sprintf("v%s.%s", m[1], m[2]), nil
}

// patchMismatch reports whether a version names a patch other than the image's, in
// which case the lab runs the image's patch instead.
func patchMismatch(kubernetesVersion, image string) bool {
	m := versionPattern.FindStringSubmatch(kubernetesVersion)
	if m == nil || m[3] == "" || m[3] == "x" {
		return false
	}
	return "v"+strings.TrimPrefix(kubernetesVersion, "v") != NodeImageVersion(image)
}

func minorLess(a, b string) bool {
	var aMajor, aMinor, bMajor, bMinor int
	fmt.Sscanf(a, "v%d.%d", &aMajor, &aMinor)
	fmt.Sscanf(b, "v%d.%d", &bMajor, &bMinor)
	if aMajor != bMajor {
		return aMajor < bMajor
	}
	return aMinor < bMinor
}
