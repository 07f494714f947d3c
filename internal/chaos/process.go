package chaos

import (
	"os"

	"github.com/cloudnativelab/lab/internal/proc"
)

// Process identifies the lab process holding a fault: its pid and, on Linux, its start
// time, so that a pid the kernel gave to another process since is not mistaken for it.
type Process struct {
	PID   int    `json:"pid"`
	Start uint64 `json:"start,omitempty"` // clock ticks after boot, /proc/<pid>/stat field 22
}

// self is this process.
func self() Process {
	start, _ := proc.StartTime(os.Getpid())
	return Process{PID: os.Getpid(), Start: start}
}

// Alive reports whether the process still runs. Without /proc (not Linux) a pid
// alone decides.
func (p Process) Alive() bool {
	if p.PID <= 0 {
		return false
	}
	start, err := proc.StartTime(p.PID)
	if err != nil {
		return !proc.HasProcfs() && proc.Running(p.PID)
	}
	return p.Start == 0 || start == p.Start
}
