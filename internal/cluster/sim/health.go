package sim

import (
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// downComponents names the cluster's components whose process is gone, from the pid
// files kwokctl's binary runtime keeps (pids/<component>.pid).
func downComponents(dir string) []string {
	var down []string
	for name, pid := range componentPIDs(dir) {
		if !processRunning(pid) {
			down = append(down, name)
		}
	}
	sort.Strings(down)
	return down
}

// componentPIDs reads the pid file kwokctl's binary runtime keeps for each component;
// a file that holds no number counts as pid 0 (not running).
func componentPIDs(dir string) map[string]int {
	files, _ := filepath.Glob(filepath.Join(dir, "pids", "*.pid"))
	pids := make(map[string]int, len(files))
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			continue
		}
		pid, _ := strconv.Atoi(strings.TrimSpace(string(data)))
		pids[strings.TrimSuffix(filepath.Base(f), ".pid")] = pid
	}
	return pids
}

// stopComponent terminates one component of the cluster and waits for it to be gone
// (SIGKILL after 10 s).
func stopComponent(dir, name string) {
	pid := componentPIDs(dir)[name]
	if pid <= 1 {
		return
	}
	syscall.Kill(pid, syscall.SIGTERM)
	for deadline := time.Now().Add(10 * time.Second); processRunning(pid); {
		if time.Now().After(deadline) {
			syscall.Kill(pid, syscall.SIGKILL)
			deadline = time.Now().Add(time.Hour)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// forgetDown removes the pid files of components that are down. kwokctl's start skips
// a component whose recorded pid answers signal 0, which an unreaped zombie does.
func forgetDown(dir string) {
	for _, name := range downComponents(dir) {
		os.Remove(filepath.Join(dir, "pids", name+".pid"))
	}
}

// describeDown is a sentence naming the components that are down, each with the last
// line of its log (kwokctl writes logs/<component>.log), or "" when all run.
func describeDown(dir string) string {
	down := downComponents(dir)
	if len(down) == 0 {
		return ""
	}
	parts := make([]string, len(down))
	for i, name := range down {
		parts[i] = name
		if last := lastLogLine(filepath.Join(dir, "logs", name+".log")); last != "" {
			parts[i] += fmt.Sprintf(" (its log ends: %s)", last)
		}
	}
	return "not running: " + strings.Join(parts, "; ")
}

// processRunning is true for a live process; a zombie (exited, not yet reaped, as
// happens to kwokctl's detached children when init does not reap) is not running.
func processRunning(pid int) bool {
	if pid <= 1 {
		return false
	}
	stat, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		if _, noProc := os.Stat("/proc/self/stat"); noProc != nil {
			return syscall.Kill(pid, 0) == nil // no procfs (macOS): zombies count as running
		}
		return false
	}
	// The state follows the command name, which is in parentheses and may hold spaces.
	rest := string(stat[strings.LastIndexByte(string(stat), ')')+1:])
	fields := strings.Fields(rest)
	return len(fields) > 0 && fields[0] != "Z" && fields[0] != "X"
}

// lastLogLine is the last non-empty line of a log, cut to a readable length.
func lastLogLine(path string) string {
	data, err := os.ReadFile(path)
	if err != nil {
		return ""
	}
	lines := strings.Split(strings.TrimSpace(string(data)), "\n")
	last := strings.TrimSpace(lines[len(lines)-1])
	if len(last) > 200 {
		last = last[:200] + "…"
	}
	return last
}

// componentDownError says a component of the cluster stopped while lab waited for it.
type componentDownError struct{ what string }

func (e *componentDownError) Error() string { return "the sim cluster is broken: " + e.what }
