// Command benchup is the benchmark scripts' helper (hack/bench-*.sh, through
// hack/lib/bench.sh): it times a command on the monotonic clock, summarises the
// timings, and writes one marked section of docs/benchmarks.md.
//
//	benchup time OUT -- CMD [ARG...]   run CMD; when it succeeds, append its wall time
//	                                  in milliseconds (monotonic clock) to the file OUT
//	benchup stats FILE                 print "runs median min max" (ms) of FILE's numbers
//	benchup splice DOC NAME            replace DOC's section between <!-- NAME:start -->
//	                                  and <!-- NAME:end --> with stdin (creating DOC with
//	                                  the benchmarks intro, or appending the section, when
//	                                  missing)
package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"
)

func main() {
	if err := run(os.Args[1:]); err != nil {
		var exit *exec.ExitError
		if errors.As(err, &exit) {
			os.Exit(max(exit.ExitCode(), 1))
		}
		fmt.Fprintln(os.Stderr, "benchup:", err)
		os.Exit(1)
	}
}

func run(args []string) error {
	if len(args) == 0 {
		return errors.New("usage: benchup time OUT -- CMD... | stats FILE | splice DOC NAME")
	}
	switch cmd, rest := args[0], args[1:]; cmd {
	case "time":
		if len(rest) < 3 || rest[1] != "--" {
			return errors.New("usage: benchup time OUT -- CMD [ARG...]")
		}
		return timeCommand(rest[0], rest[2], rest[3:])
	case "stats":
		if len(rest) != 1 {
			return errors.New("usage: benchup stats FILE")
		}
		data, err := os.ReadFile(rest[0])
		if err != nil {
			return err
		}
		s, err := summarise(string(data))
		if err != nil {
			return fmt.Errorf("%s: %w", rest[0], err)
		}
		fmt.Printf("%d %d %d %d\n", s.Runs, s.Median, s.Min, s.Max)
		return nil
	case "splice":
		if len(rest) != 2 {
			return errors.New("usage: benchup splice DOC NAME < SECTION")
		}
		section, err := io.ReadAll(os.Stdin)
		if err != nil {
			return err
		}
		return spliceFile(rest[0], rest[1], string(section))
	default:
		return fmt.Errorf("unknown command %q", cmd)
	}
}

// timeCommand runs the command with the helper's stdio and records its duration. The
// helper catches and drops Ctrl-C and SIGTERM while the command runs (the command gets
// them itself, from the terminal or the script's cleanup), so that it never leaves the
// command orphaned. Caught, not ignored: an ignored signal would stay ignored in the
// command too.
func timeCommand(out, name string, args []string) error {
	signal.Notify(make(chan os.Signal, 1), syscall.SIGINT, syscall.SIGTERM)
	cmd := exec.Command(name, args...)
	cmd.Stdin, cmd.Stdout, cmd.Stderr = os.Stdin, os.Stdout, os.Stderr
	start := time.Now() // carries the monotonic reading; time.Since uses it
	if err := cmd.Run(); err != nil {
		return err
	}
	elapsed := time.Since(start)
	f, err := os.OpenFile(out, os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o644)
	if err != nil {
		return err
	}
	if _, err := fmt.Fprintln(f, elapsed.Milliseconds()); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// Summary of a set of timings, in milliseconds.
type Summary struct {
	Runs             int
	Median, Min, Max int64
}

// summarise reads whitespace-separated integers. The median of an even count is the
// mean of the middle two, rounded down.
func summarise(text string) (Summary, error) {
	var xs []int64
	for _, f := range strings.Fields(text) {
		x, err := strconv.ParseInt(f, 10, 64)
		if err != nil {
			return Summary{}, fmt.Errorf("not a number of milliseconds: %q", f)
		}
		xs = append(xs, x)
	}
	if len(xs) == 0 {
		return Summary{}, errors.New("no timings")
	}
	slices.Sort(xs)
	n := len(xs)
	median := xs[n/2]
	if n%2 == 0 {
		median = (xs[n/2-1] + xs[n/2]) / 2
	}
	return Summary{Runs: n, Median: median, Min: xs[0], Max: xs[n-1]}, nil
}

// Intro opens docs/benchmarks.md when the first benchmark creates it.
const Intro = `# Benchmarks

How benchmarks are measured here: each one is a ratio against a baseline run side by
side on the same machine, the two contenders interleaved run by run so that other load
on the machine weighs on both alike. Tests never assert on timings; performance targets
are checked here, by hand, with the command each section names. Each section below says
the command that produced it, when, on which machine and at which commit; it is
rewritten in place by that command, and other benchmarks add sections of their own.
`

// splice returns doc with the named section's content replaced by section. A doc
// without the section gets it appended; an empty doc starts with Intro.
func splice(doc, name, section string) (string, error) {
	start, end := "<!-- "+name+":start -->", "<!-- "+name+":end -->"
	block := start + "\n" + strings.TrimRight(section, "\n") + "\n" + end
	if strings.TrimSpace(doc) == "" {
		return Intro + "\n" + block + "\n", nil
	}
	i, j := strings.Index(doc, start), strings.Index(doc, end)
	switch {
	case i < 0 && j < 0:
		return strings.TrimRight(doc, "\n") + "\n\n" + block + "\n", nil
	case i < 0 || j < i:
		return "", fmt.Errorf("the markers of section %q are broken: fix them by hand", name)
	}
	if strings.Contains(doc[j+len(end):], start) {
		return "", fmt.Errorf("section %q appears twice: remove one by hand", name)
	}
	return doc[:i] + block + doc[j+len(end):], nil
}

func spliceFile(path, name, section string) error {
	doc, err := os.ReadFile(path)
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		return err
	}
	out, err := splice(string(doc), name, section)
	if err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	// Write beside it and rename, so an interrupted write never truncates the file.
	tmp, err := os.CreateTemp(filepath.Dir(path), ".benchmarks-*.md")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.WriteString(out); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Chmod(0o644); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), path)
}
