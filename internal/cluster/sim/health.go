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

	"github.com/cloudnativelab/lab/internal/proc"
)

// downComponents names the cluster's components whose process is gone, from the pid
// files kwokctl's binary runtime keeps (pids/<component>.pid).
func downComponents(dir string) []string {
	var down []string
	for name, pid := range componentPIDs(dir) {
		if !proc.Running(pid) {
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
	if !waitGone(pid, 10*time.Second) {
		syscall.Kill(pid, syscall.SIGKILL)
		waitGone(pid, time.Minute)
	}
}

// waitGone polls until pid no longer runs, reporting false if it still does after d.
func waitGone(pid int, d time.Duration) bool {
	for deadline := time.Now().Add(d); proc.Running(pid); time.Sleep(20 * time.Millisecond) {
		if time.Now().After(deadline) {
			return false
		}
	}
	return true
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
