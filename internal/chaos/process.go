package chaos

import (
	"fmt"
	"os"
	"strconv"
	"strings"
)

// Process identifies the lab process holding a fault: its pid and, on Linux, its start
// time, so that a pid the kernel gave to another process since is not mistaken for it.
type Process struct {
	PID   int    `json:"pid"`
	Start uint64 `json:"start,omitempty"` // clock ticks after boot, /proc/<pid>/stat field 22
}

// self is this process.
func self() Process {
	start, _ := processStart(os.Getpid())
	return Process{PID: os.Getpid(), Start: start}
}

// Alive reports whether the process still runs. Without /proc (not Linux) a pid
// alone decides.
func (p Process) Alive() bool {
	if p.PID <= 0 {
		return false
	}
	start, err := processStart(p.PID)
	if err != nil {
		if _, statErr := os.Stat("/proc/self/stat"); statErr == nil {
			return false // /proc works, so the process is gone
		}
		proc, err := os.FindProcess(p.PID)
		return err == nil && proc.Signal(nil) == nil
	}
	return p.Start == 0 || start == p.Start
}

// processStart reads the start time of pid; a zombie counts as gone.
func processStart(pid int) (uint64, error) {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, err
	}
	// The command name (field 2) is in parentheses and may hold spaces: split after it.
	s := string(data)
	end := strings.LastIndexByte(s, ')')
	if end < 0 {
		return 0, fmt.Errorf("unexpected /proc/%d/stat", pid)
	}
	fields := strings.Fields(s[end+1:])
	// fields[0] is field 3 (state), so field 22 is fields[19].
	if len(fields) < 20 || fields[0] == "Z" {
		return 0, fmt.Errorf("process %d has exited", pid)
	}
	return strconv.ParseUint(fields[19], 10, 64)
}
