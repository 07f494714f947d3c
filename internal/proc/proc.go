// Package proc answers whether a process runs, from /proc where there is one: a zombie
// (exited, not yet reaped, as detached children are when init reaps slowly) has the
// pid but is not running, which signal 0 cannot tell.
package proc

import (
	"fmt"
	"os"
	"strconv"
	"strings"
	"syscall"
)

// Running is true for a live process. Without procfs (macOS) it falls back to
// signal 0, where zombies count as running.
func Running(pid int) bool {
	if pid <= 1 {
		return false
	}
	_, err := StartTime(pid)
	if err == nil {
		return true
	}
	return !HasProcfs() && syscall.Kill(pid, 0) == nil
}

// StartTime is the process's start time in clock ticks since boot (field 22 of
// /proc/PID/stat), which tells a process from a later one with the same pid. A zombie
// or a missing process is an error.
func StartTime(pid int) (uint64, error) {
	data, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
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
	if len(fields) < 20 || fields[0] == "Z" || fields[0] == "X" {
		return 0, fmt.Errorf("process %d has exited", pid)
	}
	return strconv.ParseUint(fields[19], 10, 64)
}

// HasProcfs reports whether /proc describes processes here (Linux), so that a missing
// /proc/PID means the process is gone.
func HasProcfs() bool {
	_, err := os.Stat("/proc/self/stat")
	return err == nil
}
