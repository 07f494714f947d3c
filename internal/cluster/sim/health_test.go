package sim

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/cloudnativelab/lab/internal/kube"
)

// deadPID returns the pid of a process that has exited and been reaped.
func deadPID(t *testing.T) int {
	t.Helper()
	cmd := exec.Command("true")
	if err := cmd.Run(); err != nil {
		t.Fatal(err)
	}
	return cmd.Process.Pid
}

// clusterFiles lays out pid files and logs the way kwokctl's binary runtime does.
func clusterFiles(t *testing.T, pids map[string]int, logs map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	for _, sub := range []string{"pids", "logs"} {
		if err := os.MkdirAll(filepath.Join(dir, sub), 0o700); err != nil {
			t.Fatal(err)
		}
	}
	for name, pid := range pids {
		os.WriteFile(filepath.Join(dir, "pids", name+".pid"), []byte(strconv.Itoa(pid)), 0o600)
	}
	for name, text := range logs {
		os.WriteFile(filepath.Join(dir, "logs", name+".log"), []byte(text), 0o600)
	}
	return dir
}

func TestDescribeDownNamesStoppedComponentsWithTheirLastLogLine(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name string
		pids map[string]int
		logs map[string]string
		want string
	}{
		{"all running", map[string]int{"etcd": os.Getpid()}, nil, ""},
		{"one down with a log", map[string]int{"etcd": deadPID(t), "kube-apiserver": os.Getpid()},
			map[string]string{"etcd": "starting\nlisten tcp :2379: bind: address already in use\n\n"},
			"not running: etcd (its log ends: listen tcp :2379: bind: address already in use)"},
		{"two down, one without a log", map[string]int{"kwok-controller": deadPID(t), "etcd": deadPID(t)},
			map[string]string{"etcd": "bye"},
			"not running: etcd (its log ends: bye); kwok-controller"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			dir := clusterFiles(t, tc.pids, tc.logs)
			if got := describeDown(dir); got != tc.want {
				t.Fatalf("describeDown = %q, want %q", got, tc.want)
			}
		})
	}
}

func TestForgetDownRemovesOnlyPidFilesOfStoppedComponents(t *testing.T) {
	t.Parallel()
	dir := clusterFiles(t, map[string]int{"etcd": os.Getpid(), "kwok-controller": deadPID(t)}, nil)
	forgetDown(dir)
	if _, err := os.Stat(filepath.Join(dir, "pids", "etcd.pid")); err != nil {
		t.Errorf("the running component's pid file went: %v", err)
	}
	if _, err := os.Stat(filepath.Join(dir, "pids", "kwok-controller.pid")); !os.IsNotExist(err) {
		t.Errorf("the stopped component's pid file stayed: %v", err)
	}
}

// TestCreateNodeGivesUpWhenAComponentStopped: with etcd gone the API server never
// answers, and waiting the full two minutes would only hide why.
func TestCreateNodeGivesUpWhenAComponentStopped(t *testing.T) {
	t.Parallel()
	dir := clusterFiles(t, map[string]int{"etcd": deadPID(t)}, map[string]string{"etcd": "bind: address already in use"})
	cfg := []byte(`apiVersion: v1
kind: Config
clusters: [{name: c, cluster: {server: "https://127.0.0.1:1"}}]
users: [{name: u, user: {token: t}}]
contexts: [{name: x, context: {cluster: c, user: u}}]
current-context: x
`)
	cs, err := kube.Clientset(cfg)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	err = createNode(ctx, cs, node("x-control-plane", true, false), dir)
	var down *componentDownError
	if !errors.As(err, &down) || !strings.Contains(err.Error(), "etcd (its log ends: bind: address already in use)") {
		t.Fatalf("createNode = %v, want the stopped etcd named", err)
	}
	if ctx.Err() != nil {
		t.Fatal("createNode waited out the test's deadline instead of giving up")
	}
}
