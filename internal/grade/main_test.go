package grade

import (
	"testing"

	"github.com/cloudnativelab/lab/internal/testenv"
)

// cluster is the package's real sim cluster, for resource and http checks.
var cluster *testenv.Cluster

func TestMain(m *testing.M) {
	testenv.Main(m, func(c *testenv.Cluster) { cluster = c })
}
