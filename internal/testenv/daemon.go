package testenv

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"time"
)

// daemon is a server process started for tests (Prometheus, Alertmanager) on a port of
// its own, logging to a file in its directory.
type daemon struct {
	// URL is its address, http://127.0.0.1:PORT.
	URL string

	name string
	cmd  *exec.Cmd
	dir  string
	done chan struct{}
	log  *os.File
}

// startDaemon runs bin with the arguments args gives for a free listen address, and
// returns once GET readyPath answers 200 (/-/ready for Prometheus and Alertmanager).
func startDaemon(ctx context.Context, name, dir, bin, readyPath string, args func(addr string) []string) (*daemon, error) {
	port, err := freePort()
	if err != nil {
		return nil, err
	}
	logFile, err := os.Create(filepath.Join(dir, name+".log"))
	if err != nil {
		return nil, err
	}
	addr := fmt.Sprintf("127.0.0.1:%d", port)
	d := &daemon{URL: "http://" + addr, name: name, dir: dir, done: make(chan struct{}), log: logFile}
	d.cmd = exec.Command(bin, args(addr)...)
	d.cmd.Stdout, d.cmd.Stderr = logFile, logFile
	// Its own process group, so that a Ctrl-C meant for the test does not reach it
	// before Stop does; killed with the test process, so that none outlives a test
	// binary that exits without Stop (os.Exit, a timeout's panic).
	d.cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	if err := d.cmd.Start(); err != nil {
		logFile.Close()
		return nil, fmt.Errorf("starting %s: %w", name, err)
	}
	go func() {
		d.cmd.Wait()
		close(d.done)
	}()
	if err := d.waitReady(ctx, readyPath); err != nil {
		d.Stop()
		return nil, err
	}
	return d, nil
}

// Addr is the daemon's host:port.
func (d *daemon) Addr() string { return d.URL[len("http://"):] }

// waitReady polls path until the daemon answers 200, it exits, or ctx ends.
func (d *daemon) waitReady(ctx context.Context, path string) error {
	client := &http.Client{Timeout: time.Second}
	for {
		resp, err := client.Get(d.URL + path)
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
		}
		select {
		case <-d.done:
			return fmt.Errorf("%s exited before it was ready:\n%s", d.name, d.Log())
		case <-ctx.Done():
			return fmt.Errorf("%s not ready: %w\n%s", d.name, ctx.Err(), d.Log())
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// Log is what the daemon wrote so far, for failure messages.
func (d *daemon) Log() string {
	data, _ := os.ReadFile(filepath.Join(d.dir, d.name+".log"))
	return string(data)
}

// Stop terminates the daemon and waits for it to exit (killing it after 10 seconds);
// safe to call more than once.
func (d *daemon) Stop() {
	if d.cmd.Process != nil {
		select {
		case <-d.done:
		default:
			d.cmd.Process.Signal(syscall.SIGTERM)
			select {
			case <-d.done:
			case <-time.After(10 * time.Second):
				d.cmd.Process.Kill()
				<-d.done
			}
		}
	}
	d.log.Close()
}

// freePort asks the kernel for a free TCP port on the loopback interface.
func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}
