package lab

import (
	"os"

	"github.com/cloudnativelab/lab/internal/state"
)

// writePrivate writes a credential file: atomically, readable by the user only.
func writePrivate(path string, data []byte) error {
	return state.WriteFileAtomic(path, data, 0o600)
}

func readPrivate(path string) ([]byte, error) { return os.ReadFile(path) }
