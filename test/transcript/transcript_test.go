// Package transcript plays a newcomer at a real terminal: tmux runs bash, the test
// types what lab's printed instructions say (send-keys) and reads the screen
// (capture-pane). The whole session, normalised, is a golden file under test/testdata.
//
//	go test ./test/transcript/            # compare
//	go test ./test/transcript/ -update    # rewrite the golden file
package transcript

import (
	"bytes"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/cloudnativelab/lab/internal/testenv"
)

var update = flag.Bool("update", false, "rewrite the golden transcript")

const golden = "../testdata/scenario-k8s-basics.transcript"

// prompt ends every prompt; the exit status of the last command stands before it.
const prompt = "newcomer$ "

// TestNewcomerDoesK8sBasics starts scenario k8s-basics on a new simulated lab and does
// every step by typing, exactly, the commands its printed "What to do" sections show,
// running `lab scenario check` after each, to the final score.
func TestNewcomerDoesK8sBasics(t *testing.T) {
	if testing.Short() {
		t.Skip("plays a whole scenario in a terminal: about two minutes")
	}
	// `make testenv` installs tmux, and builds kubectl into the test environment's bin
	// when the machine has none; the session's PATH includes that dir.
	if simBin, err := testenv.BinDir(); err == nil {
		t.Setenv("PATH", simBin+string(os.PathListSeparator)+os.Getenv("PATH"))
	}
	for _, tool := range []string{"tmux", "kubectl"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Fatalf("this test needs %s on PATH, as a trainee has it (`make testenv` provides it): %v", tool, err)
		}
	}
	s := newSession(t)
	s.run("lab up --provider sim", 5*time.Minute)
	s.run("lab scenario start k8s-basics", 2*time.Minute)
	s.run("lab scenario check", time.Minute) // too early: the evidence, and an offer of a hint
	s.run("lab scenario hint", 30*time.Second)
	for step := 1; step <= 5; step++ {
		commands := whatToDo(s.screen())
		if len(commands) == 0 {
			t.Fatalf("step %d: no command to type in the printed instructions:\n%s", step, s.screen())
		}
		for _, c := range commands {
			s.run(c, 2*time.Minute)
		}
		s.run("lab scenario check", 2*time.Minute)
	}
	s.run("lab scenario status", 30*time.Second)
	screen := s.screen()
	if !strings.Contains(screen, "Final score: 100/100 (100%)") {
		t.Errorf("the newcomer did not reach the full score:\n%s", screen)
	}
	compareGolden(t, normalise(screen, s.dir))
}

// session is a bash in a tmux server of the test's own, with a lab of its own.
type session struct {
	t      *testing.T
	dir    string
	socket string
	env    []string
}

func newSession(t *testing.T) *session {
	t.Helper()
	dir := t.TempDir()
	bin := filepath.Join(dir, "bin")
	build := exec.Command("go", "build", "-o", filepath.Join(bin, "lab"), "./cmd/lab")
	build.Dir = repoRoot(t)
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("building lab: %v\n%s", err, out)
	}
	simBin, err := testenv.BinDir()
	if err != nil {
		t.Fatal(err)
	}
	s := &session{t: t, dir: dir, socket: fmt.Sprintf("lab-transcript-%d", os.Getpid())}
	s.env = append(os.Environ(),
		"PATH="+bin+string(os.PathListSeparator)+os.Getenv("PATH"),
		"HOME="+filepath.Join(dir, "home"),
		"LAB_STATE_DIR="+filepath.Join(dir, "state"),
		"KUBECONFIG="+filepath.Join(dir, "kubeconfig"),
		"LAB_SIM_BIN_DIR="+simBin,
		"NO_COLOR=1", "TERM=xterm-256color", "HISTFILE=/dev/null",
	)
	// The prompt shows the last exit status, so the transcript keeps lab's exit codes.
	rc := filepath.Join(dir, "bashrc")
	if err := os.WriteFile(rc, []byte("PS1='[$?] "+prompt+"'\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	s.tmux("-f", "/dev/null", "new-session", "-d", "-s", "newcomer", "-x", "160", "-y", "50", "bash --rcfile "+rc+" --noprofile")
	s.tmux("set-option", "-g", "history-limit", "100000")
	socketPath := strings.TrimSpace(s.tmux("display-message", "-p", "#{socket_path}"))
	t.Cleanup(func() {
		// Deferred, so that the server goes even when lab down fails the test.
		defer func() {
			kill := exec.Command("tmux", "-L", s.socket, "kill-server")
			kill.Env = s.env
			kill.Run()
			os.Remove(socketPath) // tmux leaves it behind
		}()
		s.sendLine("lab down")
		s.waitPrompts(s.prompts()+1, time.Minute)
	})
	s.waitPrompts(1, 30*time.Second)
	s.tmux("clear-history")
	return s
}

func (s *session) tmux(args ...string) string {
	s.t.Helper()
	cmd := exec.Command("tmux", append([]string{"-L", s.socket}, args...)...)
	cmd.Env = s.env
	out, err := cmd.CombinedOutput()
	if err != nil {
		s.t.Fatalf("tmux %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return string(out)
}

// screen is the whole session: the history and the visible pane, wrapped lines joined.
func (s *session) screen() string {
	return strings.TrimRight(s.tmux("capture-pane", "-p", "-J", "-S", "-", "-t", "newcomer"), "\n") + "\n"
}

func (s *session) prompts() int { return strings.Count(s.screen(), prompt) }

func (s *session) sendLine(line string) {
	s.tmux("send-keys", "-t", "newcomer", "-l", line)
	s.tmux("send-keys", "-t", "newcomer", "Enter")
}

// run types a command and waits for the next prompt, instead of sleeping a fixed time.
func (s *session) run(line string, timeout time.Duration) {
	s.t.Helper()
	before := s.prompts()
	s.sendLine(line)
	s.waitPrompts(before+1, timeout)
}

func (s *session) waitPrompts(n int, timeout time.Duration) {
	s.t.Helper()
	deadline := time.Now().Add(timeout)
	for s.prompts() < n {
		if time.Now().After(deadline) {
			s.t.Fatalf("no prompt after %s; the screen:\n%s", timeout, s.screen())
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// whatToDo reads the commands of the last printed step's "What to do" section: the
// indented lines between it and "How to see it".
func whatToDo(screen string) []string {
	start := strings.LastIndex(screen, "**What to do.**")
	if start < 0 {
		return nil
	}
	section := screen[start:]
	if end := strings.Index(section, "**How to see it.**"); end >= 0 {
		section = section[:end]
	}
	var commands []string
	for _, line := range strings.Split(section, "\n") {
		if strings.HasPrefix(line, "    ") && strings.TrimSpace(line) != "" {
			commands = append(commands, strings.TrimSpace(line))
		}
	}
	return commands
}

// volatile are the parts of a session that change from run to run.
var volatile = []struct {
	pattern *regexp.Regexp
	with    string
}{
	{regexp.MustCompile(`\(\d+(\.\d+)?(µs|ms|s|m[\d.]*s?)\)`), "(T)"},
	// A finished progress line ends with its duration: " ✓ Creating cluster (sim) 2.2s".
	{regexp.MustCompile(`(?m)^( [✓✗] .*) \d+(\.\d+)?(µs|ms|s|m[\d.]*s)$`), "$1 T"},
	{regexp.MustCompile(`\b(in|spent:\s+|after) \d+(m\d+)?(\.\d+)?(ms|s)\b`), "$1 T"},
	{regexp.MustCompile(`hello-[a-z0-9]{8,10}-[a-z0-9]{5}`), "hello-POD"},
	{regexp.MustCompile(`\b\d+(\.\d+)? ?(MiB|GiB|KiB|m)\b`), "N$2"},
	{regexp.MustCompile(`127\.0\.0\.1:\d+`), "127.0.0.1:PORT"},
	{regexp.MustCompile(`(?m)^Waiting for deployment "hello" rollout to finish: .*\n`), ""},
}

// normalise replaces what changes between runs: durations, pod names, ports, paths.
func normalise(screen, dir string) string {
	screen = strings.ReplaceAll(screen, dir, "$TMP")
	for _, v := range volatile {
		screen = v.pattern.ReplaceAllString(screen, v.with)
	}
	var lines []string
	for _, l := range strings.Split(screen, "\n") {
		lines = append(lines, strings.TrimRight(l, " "))
	}
	return strings.Join(sortProgressRuns(lines), "\n")
}

// sortProgressRuns sorts each run of consecutive progress lines: `lab up` installs
// stacks at the same time, so their lines come in any order.
func sortProgressRuns(lines []string) []string {
	isProgress := func(l string) bool {
		return strings.HasPrefix(l, " ✓ ") || strings.HasPrefix(l, " • ") || strings.HasPrefix(l, " - ")
	}
	for i := 0; i < len(lines); {
		j := i
		for j < len(lines) && isProgress(lines[j]) {
			j++
		}
		slices.Sort(lines[i:j])
		i = max(j, i+1)
	}
	return lines
}

func compareGolden(t *testing.T, got string) {
	t.Helper()
	if *update {
		if err := os.WriteFile(golden, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatalf("%v (run go test ./test/transcript/ -update to create it)", err)
	}
	if !bytes.Equal(want, []byte(got)) {
		t.Errorf("the transcript differs from %s (go test ./test/transcript/ -update rewrites it); got:\n%s", golden, got)
	}
}

func repoRoot(t *testing.T) string {
	t.Helper()
	dir, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			t.Fatal("no go.mod above the working directory")
		}
		dir = parent
	}
}
